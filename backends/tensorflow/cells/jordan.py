"""Jordan layers run as a custom cell in keras.layers.RNN (the generated class ``Jordan``)."""

from __future__ import annotations

from seqspec.backends.tensorflow.formatting import lit

from seqspec import ir

KIND = "jordan"
TEMPLATE = "_cell_jordan.py.j2"


def class_name(layer: ir.Layer) -> str:
    return "Jordan"


def arguments(layer: ir.Layer, units: str) -> list[str]:
    s = layer.settings
    return [units, f"output_size={lit(s.output_size)}", f"activation={lit(s.activation)}",
            f"output_activation={lit(s.output_activation)}",
            f"context_decay={lit(s.context_decay)}", f"use_bias={lit(layer.bias)}"]


def references(layer: ir.Layer) -> list[str]:
    return ["Jordan (1986), Serial order: a parallel distributed processing approach."]
