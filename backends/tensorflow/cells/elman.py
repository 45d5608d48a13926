"""Elman layers run as Keras' SimpleRNN (the generated class ``Elman``)."""

from __future__ import annotations

from seqspec.backends.tensorflow.formatting import lit

from seqspec import ir

KIND = "elman"
TEMPLATE = "_cell_elman.py.j2"


def class_name(layer: ir.Layer) -> str:
    return "Elman"


def arguments(layer: ir.Layer, units: str) -> list[str]:
    return [units, f"activation={lit(layer.settings.activation)}", f"use_bias={lit(layer.bias)}"]


def references(layer: ir.Layer) -> list[str]:
    return ["Elman (1990), Finding structure in time."]
