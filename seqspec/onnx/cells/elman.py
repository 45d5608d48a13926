"""Elman -> the ``RNN`` operator, one activation (Tanh, Relu or Sigmoid) for every direction."""

from __future__ import annotations

from collections.abc import Mapping

from seqspec import ir
from seqspec.onnx.graph import Graph
from seqspec.onnx.layers import Seq, Weights, operator_layer

KIND = "elman"

#: Canonical gate names in the order of the operator's stacked blocks.
ONNX_GATES = ("h",)
#: The spec's activation -> the name of the ``RNN`` activation.
ONNX_RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}


def layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
          init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    activation = ONNX_RNN_ACTIVATIONS[layer.settings.activation]
    return operator_layer(g, w, layer, x, seq, init, "RNN", ONNX_GATES,
                          activations=[activation] * len(layer.directions))
