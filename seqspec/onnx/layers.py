"""What the ONNX exporters of the cell kinds share (``seqspec/onnx/cells/<kind>.py``).

A layer's exporter adds one layer (both directions) to a :class:`~seqspec.onnx.graph.Graph`
and returns the per-direction step outputs (T, B, size), zero past each sequence's length, and
the final states by their key (``<prefix>.<state>``). :func:`operator_layer` is the common
path of the kinds that map onto a standard recurrent operator (RNN, LSTM, GRU); weight layouts
follow rnn-semantics.md section 14: gate blocks stacked in the operator's order and
B = [Wb, Rb].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper

from seqspec import ir
from seqspec.onnx.graph import FLOAT, Graph

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Seq:
    """A stack's input, time-major and right-padded, with what the layers need to mask it."""

    x: str  # (T, B, F) float
    lens: str | None  # (B,) int64, or None when every row is full
    mask: str | None  # (T, B, 1) bool, True at valid steps (right-padded), or None


def operator_layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
                   init: Mapping[str, str] | None, op_type: str, gates: tuple[str, ...], *,
                   recurrent_bias: Mapping[str, str] | None = None,
                   tail: Callable[[], list[str]] | None = None,
                   **attrs: object) -> tuple[list[str], dict[str, str]]:
    """One ``op_type`` node for both directions of a layer: (per-direction outputs (T, B, H),
    final states by key).

    ``gates``: the operator's block order; ``recurrent_bias``: gate -> the parameter that is
    its recurrent-side bias Rb (zero for the others); ``tail``: the inputs after the initial
    states (made when they are reached, so the graph lists them in input order); ``attrs``: the
    operator's own attributes. The initial states are the layer's ``state_names``, in order.
    """
    h = layer.hidden_size
    dirs = layer.directions
    zeros = np.zeros(h)
    W = np.stack([np.concatenate([w[f"{d.prefix}.Wx_{k}"] for k in gates]) for d in dirs])
    R = np.stack([np.concatenate([w[f"{d.prefix}.Wh_{k}"] for k in gates]) for d in dirs])
    inputs = [x, g.weight(f"{layer.prefix}.W", W), g.weight(f"{layer.prefix}.R", R)]
    if layer.bias:
        rbias = recurrent_bias or {}
        rows = []
        for d in dirs:
            wb = [w[f"{d.prefix}.b_{k}"] for k in gates]
            rb = [w[f"{d.prefix}.{rbias[k]}"] if k in rbias else zeros for k in gates]
            rows.append(np.concatenate(wb + rb))
        inputs.append(g.weight(f"{layer.prefix}.B", np.stack(rows)))
    else:
        inputs.append("")
    inputs.append(g.op("Cast", [seq.lens], "sequence_lens", to=TensorProto.INT32)
                  if seq.lens is not None else "")
    inputs.extend(_initial(g, init, dirs, name) for name in layer.state_names)
    if tail is not None:
        inputs.extend(tail())
    while inputs[-1] == "":
        inputs.pop()
    outs = g.op_n(op_type, inputs, layer.prefix, 1 + len(layer.state_names), hidden_size=h,
                  direction="bidirectional" if layer.bidirectional else "forward", **attrs)
    per_step = _split(g, outs[0], len(dirs), axis=1, hint=f"{layer.prefix}.Y")
    states: dict[str, str] = {}
    for name, value in zip(layer.state_names, outs[1:], strict=True):
        parts = _split(g, value, len(dirs), axis=0, hint=f"{layer.prefix}.{name}")
        for d, part in zip(dirs, parts, strict=True):
            states[f"{d.prefix}.{name}"] = part
    return per_step, states


def _initial(g: Graph, init: Mapping[str, str] | None, dirs: tuple[ir.Direction, ...],
             name: str) -> str:
    """The operator's initial_h / initial_c (D, B, H) from the per-direction states by key
    ("" for zeros when none is given; every direction is given when one is)."""
    keys = [f"{d.prefix}.{name}" for d in dirs]
    if init is None or not any(k in init for k in keys):
        return ""
    parts = [g.op("Unsqueeze", [init[k], g.const([0])], f"initial_{name}") for k in keys]
    return parts[0] if len(parts) == 1 else g.op("Concat", parts, f"initial_{name}", axis=0)

def _split(g: Graph, value: str, parts: int, axis: int, hint: str) -> list[str]:
    """Split along a direction axis of size ``parts`` and drop it."""
    pieces = [value] if parts == 1 else g.op_n("Split", [value], hint, parts, axis=axis)
    return [g.op("Squeeze", [p, g.const([axis])], hint) for p in pieces]

def zeros_like_batch(g: Graph, x: str, size: int, hint: str) -> str:
    batch = g.op("Shape", [x], "batch", start=1, end=2)
    shape = g.op("Concat", [batch, g.const([size])], "zeros_shape", axis=0)
    return g.op("ConstantOfShape", [shape], hint,
                value=helper.make_tensor("zero", FLOAT, [1], [0.0]))

