"""LSTM -> the ``LSTM`` operator: blocks i, o, f, c; peepholes in ``P`` as p_i, p_o, p_f."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from seqspec import ir
from seqspec.onnx.graph import Graph
from seqspec.onnx.layers import Seq, Weights, operator_layer

KIND = "lstm"

#: Canonical gate names in the order of the operator's stacked blocks.
ONNX_GATES = ("i", "o", "f", "g")
#: The order of the peepholes in ``P``.
ONNX_PEEPHOLES = ("i", "o", "f")


def layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
          init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    def peepholes() -> list[str]:  # the operator's last input, after initial_h and initial_c
        if not layer.settings.peepholes:
            return []
        P = np.stack([np.concatenate([w[f"{d.prefix}.p_{k}"] for k in ONNX_PEEPHOLES])
                      for d in layer.directions])
        return [g.weight(f"{layer.prefix}.P", P)]

    return operator_layer(g, w, layer, x, seq, init, "LSTM", ONNX_GATES, tail=peepholes)
