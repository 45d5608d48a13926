"""IndRNN as ONNX: a Scan per direction over ``h_t = act(xw_t + u_h * h_{t-1})``.

No ONNX operator has an elementwise recurrent weight, so the step is a Scan body (as for
Jordan); the input side ``xw = x Wx_h^T + b_h`` of every step is one MatMul before it. At a
padded step the state is carried unchanged and the output is 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx

from seqspec import ir
from seqspec.onnx.graph import BOOL, FLOAT, Graph
from seqspec.onnx.layers import Seq, Weights, zeros_like_batch

KIND = "indrnn"


def layer(g: Graph, w: Weights, layer: ir.Layer, x: str, seq: Seq,
          init: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """Both directions of an IndRNN layer: (per-direction outputs (T, B, H), final h by key)."""
    outs, states = [], {}
    for d in layer.directions:
        h_seq, h_last = _direction(g, w, layer, d, x, seq, init)
        outs.append(h_seq)
        states[f"{d.prefix}.h"] = h_last
    return outs, states


def _direction(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction, x: str, seq: Seq,
               init: Mapping[str, str] | None) -> tuple[str, str]:
    xw = g.matmul_t(x, f"{d.prefix}.Wx_h", w[f"{d.prefix}.Wx_h"], f"{d.prefix}.xw")
    if layer.bias:
        xw = g.op("Add", [xw, g.weight(f"{d.prefix}.b_h", w[f"{d.prefix}.b_h"])])
    backward = d.name == "backward"
    if backward and seq.lens is not None:
        # reverse each row's valid part; padding stays at the end, masked like forward
        xw = g.op("ReverseSequence", [xw, seq.lens], f"{d.prefix}.xw_reversed",
                  batch_axis=1, time_axis=0)
    h0 = zeros_like_batch(g, x, layer.hidden_size, f"{d.prefix}.zeros")
    if init is not None:
        h0 = init.get(f"{d.prefix}.h", h0)
    scan_inputs = [xw] if seq.mask is None else [xw, seq.mask]
    reverse = 1 if backward and seq.lens is None else 0
    h_last, h_seq = g.op_n(
        "Scan", [h0, *scan_inputs], d.prefix, 2, body=_body(g, w, layer, d, seq.mask is not None),
        num_scan_inputs=len(scan_inputs),
        scan_input_directions=[reverse] * len(scan_inputs), scan_output_directions=[reverse])
    if backward and seq.lens is not None:
        h_seq = g.op("ReverseSequence", [h_seq, seq.lens], f"{d.prefix}.Y",
                     batch_axis=1, time_axis=0)
    return h_seq, h_last


def _body(g: Graph, w: Weights, layer: ir.Layer, d: ir.Direction,
          masked: bool) -> onnx.GraphProto:
    """One step: h = act(xw_t + u_h * h_prev)."""
    size = layer.hidden_size
    b = Graph(f"{d.prefix}.step", outer=g)
    h_prev = b.add_input("h_prev", FLOAT, [None, size], exact=False)
    xw = b.add_input("xw_t", FLOAT, [None, size], exact=False)
    m = b.add_input("valid_t", BOOL, [None, 1], exact=False) if masked else None
    uh = b.op("Mul", [b.weight(f"{d.prefix}.u_h", w[f"{d.prefix}.u_h"]), h_prev], "uh")
    h = b.activation(b.op("Add", [xw, uh]), layer.settings.activation, "h")
    h_out = h
    if m is not None:  # padded step: carry the state unchanged, emit exactly 0
        h = b.op("Where", [m, h, h_prev], "h_kept")
        h_out = b.op("Where", [m, h_out, b.const(np.array(0.0))], "h_emit")
    b.add_output(h, "h_next", FLOAT, [None, size], exact=False)
    b.add_output(h_out, "h_t", FLOAT, [None, size], exact=False)
    return b.make_graph()
