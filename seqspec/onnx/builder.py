"""Lower a normalized model (:mod:`seqspec.ir`) and its canonical weights to an ONNX graph.

Each cell kind has its exporter in :mod:`seqspec.onnx.cells`: a standard operator wherever
it computes the spec's function exactly (Elman ``RNN``, LSTM ``LSTM``, GRU ``GRU``), else a
``Scan`` over time (Jordan: no ONNX operator feeds a layer's *output* back). Variable
lengths use ``sequence_lens`` (right padding; onnxruntime zeroes Y past a sequence's length and
runs the reverse direction over the valid part only). Left-padded batches are re-aligned to right
padding with ``ReverseSequence`` on the way in, and back on the way out. Every layer works
time-major (T, B, F), as the ONNX operators do; the graph's inputs and outputs are batch-first
with the names of docs/generated-api.md. The graph is float32 (onnxruntime has no float64
recurrent kernels) and inference-only (dropout is the identity).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import helper

from seqspec import __version__, ir
from seqspec.onnx import cells
from seqspec.onnx.graph import FLOAT, INT64, OPSET, Graph
from seqspec.onnx.layers import Seq, zeros_like_batch

INT64_MIN = -(2**63)


class Exporter:
    """Builds the ONNX model for one ``ir.Model`` and one set of canonical weights."""

    def __init__(self, model: ir.Model, weights: Mapping[str, np.ndarray]) -> None:
        self.m = model
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        self.g = Graph(model.name)

    # ------------------------------------------------------------------ entry point

    def build(self) -> onnx.ModelProto:
        m = self.m
        if m.ar is not None:
            out, out_shape = self._ar(m.ar), ["batch", 1]
        elif m.scheme in ("many_to_many", "many_to_one"):
            assert m.encoder is not None and m.head is not None
            seq = self._sequence_input(m.encoder, "x", "lengths", "steps")
            init = self._initial_states(m.encoder, seq, {})
            top, finals, _ = self._stack(m.encoder, seq, init)
            if m.scheme == "many_to_many":
                out = self._per_step_head(m.encoder, seq, top)
                out_shape = ["batch", "steps", m.head.out_size]
            else:
                out = self._head(self._pool(m.encoder, seq, top, finals), "head")
                out_shape = ["batch", m.head.out_size]
        else:
            out = self._decoder_model()
            assert m.head is not None
            out_shape = ["batch", "dec_steps" if m.scheme == "seq2seq" else "steps",
                         m.head.out_size]
        self.g.add_output(out, "outputs", FLOAT, out_shape)
        return self._model()

    def _model(self) -> onnx.ModelProto:
        m = self.m
        graph = self.g.make_graph(f"{m.name}: exported by seqspec {__version__} from "
                                  f"{m.source_name}")
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="seqspec", producer_version=__version__)
        model.ir_version = 8  # the IR version of opset 17: every runtime that has opset 17 reads it
        helper.set_model_props(model, {"seqspec.spec_name": m.name,
                                       "seqspec.spec_sha256": m.spec_sha256,
                                       "seqspec.scheme": m.scheme})
        return model

    # ------------------------------------------------------------------ inputs

    def _sequence_input(self, stack: ir.Stack, name: str, lengths: str, steps: str) -> Seq:
        """Declare a sequence input (+ lengths); return it time-major and right-padded."""
        g, inp = self.g, stack.input
        if inp.kind == "tokens":
            seq = g.add_input(name, INT64, ["batch", steps])
        else:
            seq = g.add_input(name, FLOAT, ["batch", steps, inp.step_size])
        lens = None
        if inp.variable_length:
            lens = g.add_input(lengths, INT64, ["batch"])
            if inp.padding == "left":
                # valid steps are the last len[b]: reverse every row, then reverse its valid part
                # again, which moves them to the front (right padding) in their original order
                seq = self._reverse_time(seq, axis=1)
                seq = g.op("ReverseSequence", [seq, lens], f"{name}_right_padded",
                           batch_axis=0, time_axis=1)
        if inp.kind == "tokens":
            ids = g.op("Transpose", [seq], f"{name}_time_major", perm=[1, 0])  # (T, B)
            if inp.encoding == "embedding":
                table = g.weight(f"{stack.name}.embedding", self.w[f"{stack.name}.embedding"])
                x = g.op("Gather", [table, ids], f"{stack.name}_embedded", axis=0)  # (T, B, E)
            else:
                depth = g.const([inp.vocab_size], "vocab_size")
                values = g.const(np.array([0.0, 1.0]), "one_hot_values")
                x = g.op("OneHot", [ids, depth, values], f"{stack.name}_one_hot", axis=-1)
        else:
            x = g.op("Transpose", [seq], f"{name}_time_major", perm=[1, 0, 2])  # (T, B, I)
        mask = self._mask(x, lens) if lens is not None else None
        return Seq(x, lens, mask)

    def _reverse_time(self, x: str, axis: int) -> str:
        g = self.g
        return g.op("Slice", [x, g.const([-1]), g.const([INT64_MIN]), g.const([axis]),
                              g.const([-1])], "reversed")

    def _mask(self, x: str, lens: str) -> str:
        """(T, B, 1) bool: t < len[b], for a time-major right-padded x."""
        g = self.g
        steps = g.op("Shape", [x], "steps", start=0, end=1)
        t = g.op("Range", [g.const(np.array(0)), g.op("Squeeze", [steps, g.const([0])]),
                           g.const(np.array(1))], "t")  # (T,)
        valid = g.op("Less", [g.op("Unsqueeze", [t, g.const([1])]),
                              g.op("Unsqueeze", [lens, g.const([0])])], "valid")  # (T, B)
        return g.op("Unsqueeze", [valid, g.const([2])], "mask")  # (T, B, 1)

    # ------------------------------------------------------------------ initial states

    def _initial_states(self, stack: ir.Stack, seq: Seq, defaults: Mapping[str, str]
                        ) -> dict[str, str]:
        """Every state of the stack as an optional graph input ``initial_state.<key>`` (B, S).

        Left out of the feeds, the input holds its default, an empty (0, S) initializer, and
        the state is ``defaults[key]`` (what the bridge passes a decoder) or zeros, as a
        missing initial_state key in the generated models; fed, its rows are the state.
        """
        g = self.g
        init: dict[str, str] = {}
        for layer in stack.layers:
            for d in layer.directions:
                for name, size in zip(layer.state_names, layer.state_sizes, strict=True):
                    key = f"{d.prefix}.{name}"
                    given = g.add_optional_input(f"initial_state.{key}", ["batch", size],
                                                 np.zeros((0, size)))
                    default = defaults.get(key) or zeros_like_batch(g, seq.x, size,
                                                                     f"{key}.zeros")
                    init[key] = self._given_or(given, default, size, key)
        return init

    def _given_or(self, given: str, default: str, size: int, key: str) -> str:
        """``given`` when it has rows (was fed), else ``default``: an If on its batch size."""
        g = self.g
        rows = g.op("Shape", [given], f"{key}.rows", start=0, end=1)
        fed = g.op("Greater", [rows, g.const([0])], f"{key}.fed")  # (1,) bool
        branches = []
        for value, label in ((given, "given"), (default, "default")):
            branch = Graph(f"{key}.{label}", outer=g)
            branch.add_output(value, f"{key}.{label}", FLOAT, [None, size], exact=False)
            branches.append(branch.make_graph())
        return g.op("If", [fed], f"initial_state.{key}.value", then_branch=branches[0],
                    else_branch=branches[1])

    # ------------------------------------------------------------------ stacks and layers

    def _stack(self, stack: ir.Stack, seq: Seq, init: Mapping[str, str] | None
               ) -> tuple[str, list[str], dict[str, str]]:
        """Run every layer; return the top merged outputs (T, B, F) (zero past each length),
        the top layer's final output per direction, and every final state by its key."""
        x = seq.x
        finals: list[str] = []
        states: dict[str, str] = {}
        for layer in stack.layers:
            build = cells.get(layer.cell).layer
            outs, layer_states = build(self.g, self.w, layer, x, seq, init)
            states.update(layer_states)
            finals = [layer_states[f"{d.prefix}.{layer.state_names[0]}"]
                      for d in layer.directions]
            x = self._merge(layer, outs, f"{layer.prefix}.outputs")
        for key, value in states.items():
            size = self._state_size(stack, key)
            self.g.add_output(value, key, FLOAT, ["batch", size])
        return x, finals, states

    @staticmethod
    def _state_size(stack: ir.Stack, key: str) -> int:
        for layer in stack.layers:
            for d in layer.directions:
                for name, size in zip(layer.state_names, layer.state_sizes, strict=True):
                    if key == f"{d.prefix}.{name}":
                        return size
        raise KeyError(key)

    def _merge(self, layer: ir.Layer, outs: list[str], hint: str) -> str:
        g = self.g
        if not layer.bidirectional:
            return outs[0]
        fw, bw = outs
        if layer.merge_mode == "concat":
            return g.op("Concat", [fw, bw], hint, axis=-1)  # [forward, backward]
        if layer.merge_mode == "sum":
            return g.op("Add", [fw, bw], hint)
        if layer.merge_mode == "ave":
            return g.op("Div", [g.op("Add", [fw, bw]), g.const(np.array(2.0))], hint)
        return g.op("Mul", [fw, bw], hint)

    # ------------------------------------------------------------------ heads, pooling

    def _head(self, x: str, hint: str) -> str:
        m = self.m
        assert m.head is not None
        out = self.g.matmul_t(x, "head.W", self.w["head.W"], hint)
        if m.head.bias:
            out = self.g.op("Add", [out, self.g.weight("head.b", self.w["head.b"])], hint)
        return out

    def _per_step_head(self, stack: ir.Stack, seq: Seq, top: str) -> str:
        """(T, B, F) right-padded -> (B, T, O), zero at padded steps, in the input's padding."""
        g = self.g
        out = self._head(top, "logits" if self.m.head.kind == "softmax" else "values")
        if seq.mask is not None:
            out = g.op("Where", [seq.mask, out, g.const(np.array(0.0))], "masked")
            if stack.input.padding == "left":
                out = g.op("ReverseSequence", [out, seq.lens], "valid_reversed",
                           batch_axis=1, time_axis=0)
                out = self._reverse_time(out, axis=0)  # valid steps back at the end
        return g.op("Transpose", [out], "batch_major", perm=[1, 0, 2])

    def _pool(self, stack: ir.Stack, seq: Seq, top: str, finals: list[str]) -> str:
        g, m = self.g, self.m
        if m.pooling == "last":
            return self._merge(stack.layers[-1], finals, "pooled")
        if m.pooling == "mean":
            if seq.lens is None:
                return g.op("ReduceMean", [top], "pooled", axes=[0], keepdims=0)
            total = g.op("ReduceSum", [top, g.const([0])], "total", keepdims=0)  # pads are 0
            count = g.op("Cast", [g.op("Unsqueeze", [seq.lens, g.const([1])])], "count",
                         to=FLOAT)
            return g.op("Div", [total, count], "pooled")
        if seq.mask is not None:
            top = g.op("Where", [seq.mask, top, g.const(np.array(-np.inf))], "valid_only")
        return g.op("ReduceMax", [top], "pooled", axes=[0], keepdims=0)

    # ------------------------------------------------------------------ decoders

    def _decoder_model(self) -> str:
        g, m = self.g, self.m
        assert m.decoder is not None and m.bridge is not None
        init: dict[str, str] = {}
        if m.scheme == "seq2seq":
            assert m.encoder is not None
            enc = self._sequence_input(m.encoder, "x", "x_lengths", "steps")
            enc_init = self._initial_states(m.encoder, enc, {})
            top, finals, enc_states = self._stack(m.encoder, enc, enc_init)
            if m.bridge.kind == "copy":
                init = {"decoder" + k[len("encoder"):]: v for k, v in enc_states.items()}
            else:
                init = self._dense_bridge(self._merge(m.encoder.layers[-1], finals, "summary"))
            dec = self._sequence_input(m.decoder, "y_in", "y_lengths", "dec_steps")
        else:
            features = g.add_input("features", FLOAT, ["batch", m.vector_size])
            init = self._dense_bridge(features)
            dec = self._sequence_input(m.decoder, "y_in", "lengths", "steps")
        init = self._initial_states(m.decoder, dec, init)  # a state fed replaces the bridge's
        top, _, _ = self._stack(m.decoder, dec, init)
        return self._per_step_head(m.decoder, dec, top)

    def _dense_bridge(self, summary: str) -> dict[str, str]:
        """h0_k = act(W_k summary + b_k) for every decoder layer k (c0 = 0, Jordan s0 = 0)."""
        g, m = self.g, self.m
        assert m.decoder is not None and m.bridge is not None
        init = {}
        for layer in m.decoder.layers:
            k = layer.index
            pre = g.matmul_t(summary, f"bridge.layers.{k}.W", self.w[f"bridge.layers.{k}.W"],
                             f"bridge.layers.{k}")
            pre = g.op("Add", [pre, g.weight(f"bridge.layers.{k}.b",
                                             self.w[f"bridge.layers.{k}.b"])])
            h0 = g.activation(pre, m.bridge.activation, f"bridge.layers.{k}.h0")
            init[f"{layer.prefix}.forward.{layer.state_names[0]}"] = h0
        return init

    # ------------------------------------------------------------------ AR

    def _ar(self, ar: ir.AR) -> str:
        g, w = self.g, self.w
        windows = g.add_input("windows", FLOAT, ["batch", ar.order])
        if ar.kind == "linear":
            # windows are oldest first and phi_i weights x_{t-i}: column j gets phi[p-1-j]
            coef = w["ar.phi"][::-1].reshape(-1, 1)
            out = g.op("MatMul", [windows, g.weight("ar.phi.reversed", coef)], "ar")
            if ar.bias:
                out = g.op("Add", [out, g.weight("ar.c", w["ar.c"])], "ar")
            return out
        x = windows
        n = len(ar.hidden) + 1
        for k in range(n):
            x = g.matmul_t(x, f"mlp.layers.{k}.W", w[f"mlp.layers.{k}.W"], f"mlp.layers.{k}")
            x = g.op("Add", [x, g.weight(f"mlp.layers.{k}.b", w[f"mlp.layers.{k}.b"])])
            if k < n - 1:
                x = g.activation(x, ar.activation, f"mlp.layers.{k}.act")
        return x


def to_onnx(model: ir.Model, weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """The ONNX model computing ``model`` with ``weights`` (canonical layout, checked)."""
    from seqspec.weights import check_weights

    check_weights(model, weights)
    return Exporter(model, weights).build()
