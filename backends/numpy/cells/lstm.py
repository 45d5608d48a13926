"""NumPy hook of the LSTM cell: LSTM, or PeepholeLSTM when the spec asks for peepholes."""

from __future__ import annotations

from typing import Any

KIND = "lstm"
TEMPLATE = "_cell_lstm.py.j2"


def class_name(layer) -> str:
    return "PeepholeLSTM" if layer.settings.peepholes else "LSTM"


def options(layer) -> dict[str, Any]:
    return {}  # the forget bias is in the weights (its initialiser), not in the cell


def reference(layer) -> str:
    if layer.settings.peepholes:
        return "F. Gers, J. Schmidhuber, Recurrent nets that time and count (2000)."
    return ("S. Hochreiter, J. Schmidhuber, Long short-term memory, Neural Computation 9 (1997);"
            " F. Gers, J. Schmidhuber, F. Cummins, Learning to forget (2000).")
