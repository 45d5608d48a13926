"""IndRNN layers run as a custom cell in keras.layers.RNN (the generated class ``IndRNN``)."""

from __future__ import annotations

from seqspec.backends.tensorflow.formatting import lit

from seqspec import ir

KIND = "indrnn"
TEMPLATE = "_cell_indrnn.py.j2"


def class_name(layer: ir.Layer) -> str:
    return "IndRNN"


def arguments(layer: ir.Layer, units: str) -> list[str]:
    return [units, f"activation={lit(layer.settings.activation)}", f"use_bias={lit(layer.bias)}"]


def references(layer: ir.Layer) -> list[str]:
    return ["Li et al. (2018), Independently recurrent neural network (IndRNN)."]
