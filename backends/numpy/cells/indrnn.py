"""NumPy hook of the IndRNN cell."""

from __future__ import annotations

from typing import Any

KIND = "indrnn"
TEMPLATE = "_cell_indrnn.py.j2"


def class_name(layer) -> str:
    return "IndRNN"


def options(layer) -> dict[str, Any]:
    return {"activation": layer.settings.activation}


def reference(layer) -> str:
    return ("S. Li et al., Independently recurrent neural network (IndRNN): building a longer"
            " and deeper RNN (2018).")
