"""GRU -> the ``GRU`` operator: blocks z, r, h; ``bhn`` is the recurrent candidate bias Rbh;
``linear_before_reset`` 1 (reset_after) or 0 (reset_before)."""

from __future__ import annotations

from collections.abc import Mapping

from seqspec import ir
from seqspec.onnx.graph import Graph
from seqspec.onnx.layers import Seq, Weights, operator_layer

KIND = "gru"

#: Canonical gate names in the order of the operator's stacked blocks.
ONNX_GATES = ("z", "r", "n")


def layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
          init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    reset_after = layer.settings.variant == "reset_after"
    return operator_layer(g, w, layer, x, seq, init, "GRU", ONNX_GATES,
                          recurrent_bias={"n": "bhn"},
                          linear_before_reset=1 if reset_after else 0)
