"""LSTM layers run as Keras' fused LSTM (``LSTM``), or with peepholes as a custom cell in
keras.layers.RNN (``PeepholeLSTM``)."""

from __future__ import annotations

from seqspec.backends.tensorflow.formatting import lit

from seqspec import ir

KIND = "lstm"
TEMPLATE = "_cell_lstm.py.j2"


def class_name(layer: ir.Layer) -> str:
    return "PeepholeLSTM" if layer.settings.peepholes else "LSTM"


def arguments(layer: ir.Layer, units: str) -> list[str]:
    return [units, f"use_bias={lit(layer.bias)}"]


def references(layer: ir.Layer) -> list[str]:
    if layer.settings.peepholes:
        return ["Hochreiter & Schmidhuber (1997), Long short-term memory.",
                "Gers & Schmidhuber (2000), Recurrent nets that time and count (peepholes)."]
    return ["Hochreiter & Schmidhuber (1997), Long short-term memory.",
            "Gers, Schmidhuber & Cummins (2000), Learning to forget: continual prediction with "
            "LSTM."]
