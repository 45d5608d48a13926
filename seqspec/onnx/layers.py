"""Recurrent layers as ONNX: the standard RNN/LSTM/GRU operators, and a Scan for Jordan.

Each function adds one layer (both directions) to a :class:`~seqspec.onnx.graph.Graph` and
returns the per-direction step outputs (T, B, size), zero past each sequence's length, and
the final states by their key (``<prefix>.<state>``). Weight layouts follow
rnn-semantics.md section 14: LSTM blocks i, o, f, c with B = [Wb, 0] and P = [p_i, p_o, p_f];
GRU blocks z, r, h with ``bhn`` as the recurrent candidate bias Rbh; Elman blocks h.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

from seqspec import ir
from seqspec.onnx.graph import BOOL, FLOAT, Graph

Weights = Mapping[str, np.ndarray]
#: Canonical gate names in the order of the ONNX operators' stacked blocks (the exporter
#: writes them in this order and ``seqspec import`` reads them back in it).
ONNX_GATES = {"elman": ("h",), "lstm": ("i", "o", "f", "g"), "gru": ("z", "r", "n")}
#: The order of the LSTM peepholes in ``P``.
ONNX_PEEPHOLES = ("i", "o", "f")
#: Elman activations and the names of the ONNX ``RNN`` activations.
ONNX_RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}
_ONNX_GATES, _RNN_ACT = ONNX_GATES, ONNX_RNN_ACTIVATIONS


@dataclass(frozen=True)
class Seq:
    """A stack's input, time-major and right-padded, with what the layers need to mask it."""

    x: str  # (T, B, F) float
    lens: str | None  # (B,) int64, or None when every row is full
    mask: str | None  # (T, B, 1) bool, True at valid steps (right-padded), or None


def standard_layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
                   init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """One RNN / LSTM / GRU node for both directions of a layer: (per-direction outputs
    (T, B, H), final states by key)."""
    h = layer.hidden_size
    gates = _ONNX_GATES[layer.cell]
    dirs = layer.directions
    zeros = np.zeros(h)
    W = np.stack([np.concatenate([w[f"{d.prefix}.Wx_{k}"] for k in gates]) for d in dirs])
    R = np.stack([np.concatenate([w[f"{d.prefix}.Wh_{k}"] for k in gates]) for d in dirs])
    inputs = [x, g.weight(f"{layer.prefix}.W", W), g.weight(f"{layer.prefix}.R", R)]
    if layer.bias:
        rows = []
        for d in dirs:
            wb = [w[f"{d.prefix}.b_{k}"] for k in gates]
            rb = [zeros] * len(gates)
            if layer.cell == "gru":
                rb = [zeros, zeros, w[f"{d.prefix}.bhn"]]  # the recurrent candidate bias
            rows.append(np.concatenate(wb + rb))
        inputs.append(g.weight(f"{layer.prefix}.B", np.stack(rows)))
    else:
        inputs.append("")
    inputs.append(g.op("Cast", [seq.lens], "sequence_lens", to=TensorProto.INT32)
                  if seq.lens is not None else "")
    inputs.append(_initial(g, init, dirs, "h"))
    if layer.cell == "lstm":
        inputs.append(_initial(g, init, dirs, "c"))
        if layer.peepholes:
            P = np.stack([np.concatenate([w[f"{d.prefix}.p_{k}"] for k in ONNX_PEEPHOLES])
                          for d in dirs])
            inputs.append(g.weight(f"{layer.prefix}.P", P))
    while inputs[-1] == "":
        inputs.pop()
    attrs: dict[str, object] = {
        "hidden_size": h,
        "direction": "bidirectional" if layer.bidirectional else "forward",
    }
    if layer.cell == "elman":
        attrs["activations"] = [_RNN_ACT[layer.activation]] * len(dirs)
        op_type, n_out = "RNN", 2
    elif layer.cell == "lstm":
        op_type, n_out = "LSTM", 3
    else:
        op_type, n_out = "GRU", 2
        attrs["linear_before_reset"] = 1 if layer.gru_variant == "reset_after" else 0
    outs = g.op_n(op_type, inputs, layer.prefix, n_out, **attrs)
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

# ---------------------------------------------------------------------------- Jordan (Scan)

def jordan_layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
                 init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """A Scan per direction (no ONNX operator feeds a layer's output back)."""
    outs, states = [], {}
    for d in layer.directions:
        y_seq, y_last, s_last = _jordan_direction(g, w, layer, d, x, seq, init)
        outs.append(y_seq)
        states[f"{d.prefix}.y"] = y_last
        states[f"{d.prefix}.s"] = s_last
    return outs, states

def _jordan_direction(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction, x: str,
                      seq: Seq, init: Mapping[str, str] | None) -> tuple[str, str, str]:
    o = layer.step_output_size
    # the input projection does not depend on the recurrence: all steps at once
    xw = g.matmul_t(x, f"{d.prefix}.Wx_h", w[f"{d.prefix}.Wx_h"], f"{d.prefix}.xw")
    if layer.bias:
        xw = g.op("Add", [xw, g.weight(f"{d.prefix}.b_h", w[f"{d.prefix}.b_h"])])
    backward = d.name == "backward"
    if backward and seq.lens is not None:
        # reverse each row's valid part; padding stays at the end, masked like forward
        xw = g.op("ReverseSequence", [xw, seq.lens], f"{d.prefix}.xw_reversed",
                  batch_axis=1, time_axis=0)
    zeros = zeros_like_batch(g, x, o, f"{d.prefix}.zeros")
    y0 = init.get(f"{d.prefix}.y", zeros) if init is not None else zeros
    s0 = init.get(f"{d.prefix}.s", zeros) if init is not None else zeros
    body = _jordan_body(g, w, layer, d, masked=seq.mask is not None)
    scan_inputs = [xw] if seq.mask is None else [xw, seq.mask]
    reverse = 1 if backward and seq.lens is None else 0
    y_last, s_last, y_seq = g.op_n(
        "Scan", [y0, s0, *scan_inputs], d.prefix, 3, body=body,
        num_scan_inputs=len(scan_inputs),
        scan_input_directions=[reverse] * len(scan_inputs), scan_output_directions=[reverse])
    if backward and seq.lens is not None:
        y_seq = g.op("ReverseSequence", [y_seq, seq.lens], f"{d.prefix}.Y",
                     batch_axis=1, time_axis=0)
    return y_seq, y_last, s_last

def zeros_like_batch(g: Graph, x: str, size: int, hint: str) -> str:
    batch = g.op("Shape", [x], "batch", start=1, end=2)
    shape = g.op("Concat", [batch, g.const([size])], "zeros_shape", axis=0)
    return g.op("ConstantOfShape", [shape], hint,
                value=helper.make_tensor("zero", FLOAT, [1], [0.0]))

def _jordan_body(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction,
                 masked: bool) -> onnx.GraphProto:
    """One step: s = mu*s + y; h = act(xw + s Wy^T); y = out_act(h Wo^T + bo)."""
    o, h = layer.step_output_size, layer.hidden_size
    b = Graph(f"{d.prefix}.step", outer=g)
    y_prev = b.add_input("y_prev", FLOAT, [None, o], exact=False)
    s_prev = b.add_input("s_prev", FLOAT, [None, o], exact=False)
    xw = b.add_input("xw_t", FLOAT, [None, h], exact=False)
    m = b.add_input("valid_t", BOOL, [None, 1], exact=False) if masked else None
    s = y_prev
    if layer.context_decay != 0.0:
        s = b.op("Add", [b.op("Mul", [b.const(np.array(layer.context_decay)), s_prev]),
                         y_prev], "s")
    pre = b.op("Add", [xw, b.matmul_t(s, f"{d.prefix}.Wy_h", w[f"{d.prefix}.Wy_h"], "sw")])
    hid = b.activation(pre, layer.activation, "h")
    y = b.matmul_t(hid, f"{d.prefix}.Wo", w[f"{d.prefix}.Wo"], "yo")
    if layer.bias:
        y = b.op("Add", [y, b.weight(f"{d.prefix}.bo", w[f"{d.prefix}.bo"])])
    y = b.activation(y, layer.output_activation, "y")
    y_out = y
    if m is not None:
        # padded step: carry the state unchanged, emit exactly 0
        y, s = b.op("Where", [m, y, y_prev], "y_kept"), b.op("Where", [m, s, s_prev], "s_kept")
        y_out = b.op("Where", [m, y_out, b.const(np.array(0.0))], "y_emit")
    for value, name, size in ((y, "y_next", o), (s, "s_next", o), (y_out, "y_t", o)):
        b.add_output(value, name, FLOAT, [None, size], exact=False)
    return b.make_graph()
