"""Jordan -> a ``Scan`` per direction: no ONNX operator feeds a layer's output back.

The input projection does not depend on the recurrence and is computed for all steps at once;
the Scan body is one step: s = mu*s + y; h = act(xw + s Wy^T); y = out_act(h Wo^T + bo).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx

from seqspec import ir
from seqspec.onnx.graph import BOOL, FLOAT, Graph
from seqspec.onnx.layers import Seq, Weights, zeros_like_batch

KIND = "jordan"


def layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
          init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """A Scan per direction (no ONNX operator feeds a layer's output back)."""
    outs, states = [], {}
    for d in layer.directions:
        y_seq, y_last, s_last = _direction(g, w, layer, d, x, seq, init)
        outs.append(y_seq)
        states[f"{d.prefix}.y"] = y_last
        states[f"{d.prefix}.s"] = s_last
    return outs, states


def _direction(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction, x: str,
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
    body = _step(g, w, layer, d, masked=seq.mask is not None)
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


def _step(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction,
                 masked: bool) -> onnx.GraphProto:
    """One step: s = mu*s + y; h = act(xw + s Wy^T); y = out_act(h Wo^T + bo)."""
    o, h = layer.step_output_size, layer.hidden_size
    b = Graph(f"{d.prefix}.step", outer=g)
    y_prev = b.add_input("y_prev", FLOAT, [None, o], exact=False)
    s_prev = b.add_input("s_prev", FLOAT, [None, o], exact=False)
    xw = b.add_input("xw_t", FLOAT, [None, h], exact=False)
    m = b.add_input("valid_t", BOOL, [None, 1], exact=False) if masked else None
    s = y_prev
    mu = layer.settings.context_decay
    if mu != 0.0:
        s = b.op("Add", [b.op("Mul", [b.const(np.array(mu)), s_prev]),
                         y_prev], "s")
    pre = b.op("Add", [xw, b.matmul_t(s, f"{d.prefix}.Wy_h", w[f"{d.prefix}.Wy_h"], "sw")])
    hid = b.activation(pre, layer.settings.activation, "h")
    y = b.matmul_t(hid, f"{d.prefix}.Wo", w[f"{d.prefix}.Wo"], "yo")
    if layer.bias:
        y = b.op("Add", [y, b.weight(f"{d.prefix}.bo", w[f"{d.prefix}.bo"])])
    y = b.activation(y, layer.settings.output_activation, "y")
    y_out = y
    if m is not None:
        # padded step: carry the state unchanged, emit exactly 0
        y, s = b.op("Where", [m, y, y_prev], "y_kept"), b.op("Where", [m, s, s_prev], "s_kept")
        y_out = b.op("Where", [m, y_out, b.const(np.array(0.0))], "y_emit")
    for value, name, size in ((y, "y_next", o), (s, "s_next", o), (y_out, "y_t", o)):
        b.add_output(value, name, FLOAT, [None, size], exact=False)
    return b.make_graph()
