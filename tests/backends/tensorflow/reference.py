"""A float64 oracle for the TensorFlow tests: the spec semantics written out step by step.

Independent of every backend: each sequence runs alone over its valid steps only, one time
step at a time, straight from the canonical equations (docs/generated-api.md and the shared
context). Slow and plain on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from seqspec import ir

W = Mapping[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


ACT = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": sigmoid,
    "linear": lambda x: x,
}


def step(layer: ir.Layer, w: W, prefix: str, x: np.ndarray,
         state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """One step of one direction: (per-step output, new state)."""

    def p(name: str) -> np.ndarray:
        return w[f"{prefix}.{name}"]

    def b(name: str) -> np.ndarray | float:
        return w.get(f"{prefix}.{name}", 0.0)

    if layer.cell == "elman":
        h = ACT[layer.activation](p("Wx_h") @ x + p("Wh_h") @ state[0] + b("b_h"))
        return h, (h,)
    if layer.cell == "lstm":
        h, c = state
        a = {g: p(f"Wx_{g}") @ x + p(f"Wh_{g}") @ h + b(f"b_{g}") for g in "ifgo"}
        if layer.peepholes:
            a["i"] = a["i"] + p("p_i") * c
            a["f"] = a["f"] + p("p_f") * c
        c_new = sigmoid(a["f"]) * c + sigmoid(a["i"]) * np.tanh(a["g"])
        o = a["o"] + (p("p_o") * c_new if layer.peepholes else 0.0)
        h_new = sigmoid(o) * np.tanh(c_new)
        return h_new, (h_new, c_new)
    if layer.cell == "gru":
        h = state[0]
        z = sigmoid(p("Wx_z") @ x + p("Wh_z") @ h + b("b_z"))
        r = sigmoid(p("Wx_r") @ x + p("Wh_r") @ h + b("b_r"))
        if layer.gru_variant == "reset_after":
            n = np.tanh(p("Wx_n") @ x + b("b_n") + r * (p("Wh_n") @ h + b("bhn")))
        else:
            n = np.tanh(p("Wx_n") @ x + b("b_n") + b("bhn") + p("Wh_n") @ (r * h))
        h_new = z * h + (1.0 - z) * n
        return h_new, (h_new,)
    assert layer.cell == "jordan"
    y, s = state
    s_new = layer.context_decay * s + y
    hidden = ACT[layer.activation](p("Wx_h") @ x + p("Wy_h") @ s_new + b("b_h"))
    y_new = ACT[layer.output_activation](p("Wo") @ hidden + b("bo"))
    return y_new, (y_new, s_new)


def merge(fw: np.ndarray, bw: np.ndarray, mode: str) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([fw, bw], axis=-1)
    return {"sum": fw + bw, "ave": (fw + bw) / 2, "mul": fw * bw}[mode]


def run_stack(stack: ir.Stack, w: W, seq: np.ndarray,
              initial: Mapping[str, np.ndarray] | None = None
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One sequence (its valid steps only): (outputs (n, out), {state key: (size,)})."""
    inp = stack.input
    if inp.encoding == "embedding":
        h = w[f"{stack.name}.embedding"][seq]
    elif inp.encoding == "one_hot":
        h = np.zeros((len(seq), inp.vocab_size))
        h[np.arange(len(seq)), seq] = 1.0
    else:
        h = np.asarray(seq, dtype=np.float64)
    states: dict[str, np.ndarray] = {}
    for layer in stack.layers:
        outs = []
        for d in layer.directions:
            keys = [f"{d.prefix}.{name}" for name in layer.state_names]
            state = tuple(np.asarray(initial[k]) if initial and k in initial else np.zeros(size)
                          for k, size in zip(keys, layer.state_sizes, strict=True))
            order = range(len(h)) if d.name == "forward" else range(len(h) - 1, -1, -1)
            out = np.zeros((len(h), layer.step_output_size))
            for t in order:
                out[t], state = step(layer, w, d.prefix, h[t], state)
            states.update(zip(keys, state, strict=True))
            outs.append(out)
        h = outs[0] if len(outs) == 1 else merge(outs[0], outs[1], layer.merge_mode)
    return h, states


def last_output(stack: ir.Stack, states: Mapping[str, np.ndarray]) -> np.ndarray:
    top = stack.layers[-1]
    parts = [states[f"{d.prefix}.{top.state_names[0]}"] for d in top.directions]
    return parts[0] if len(parts) == 1 else merge(parts[0], parts[1], top.merge_mode)


def _valid(inp: ir.SequenceInput, steps: int, n: int) -> slice:
    return slice(0, n) if inp.padding == "right" else slice(steps - n, steps)


def _head(model: ir.Model, w: W, h: np.ndarray) -> np.ndarray:
    return h @ w["head.W"].T + w.get("head.b", 0.0)


def _bridge(model: ir.Model, w: W, summary: np.ndarray) -> dict[str, np.ndarray]:
    assert model.bridge is not None and model.decoder is not None
    act = ACT[model.bridge.activation]
    states = {}
    for k, layer in enumerate(model.decoder.layers):
        first = act(w[f"bridge.layers.{k}.W"] @ summary + w[f"bridge.layers.{k}.b"])
        prefix = f"{layer.prefix}.forward"
        states[f"{prefix}.{layer.state_names[0]}"] = first
        for name in layer.state_names[1:]:
            states[f"{prefix}.{name}"] = np.zeros_like(first)
    return states


def forward(model: ir.Model, w: W, inputs: Mapping[str, np.ndarray]
            ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(outputs, {state key: (B, size)}) for a batch, row by row."""
    if model.ar is not None:
        x = inputs["windows"]
        if model.ar.kind == "linear":
            p = model.ar.order
            out = sum(w["ar.phi"][i - 1] * x[:, p - i] for i in range(1, p + 1))
            return (out + w.get("ar.c", 0.0))[:, None], {}
        h = x
        n = len(model.ar.hidden)
        for k in range(n + 1):
            h = h @ w[f"mlp.layers.{k}.W"].T + w[f"mlp.layers.{k}.b"]
            if k < n:
                h = ACT[model.ar.activation](h)
        return h, {}
    rows, states = [], []
    enc, dec = model.encoder, model.decoder
    seq_key = "x" if enc is not None else "y_in"
    batch = len(inputs[seq_key])
    for b in range(batch):
        row_states: dict[str, np.ndarray] = {}
        if model.scheme in ("many_to_many", "many_to_one"):
            assert enc is not None
            x = inputs["x"][b]
            lengths = inputs.get("lengths")
            valid = _valid(enc.input, len(x), len(x) if lengths is None else int(lengths[b]))
            init = inputs.get("initial_state")
            init_b = {k: v[b] for k, v in init.items()} if init else None
            h, row_states = run_stack(enc, w, x[valid], init_b)
            if model.scheme == "many_to_many":
                out = np.zeros((len(x), model.head.out_size))
                out[valid] = _head(model, w, h)
            else:
                if model.pooling == "last":
                    pooled = last_output(enc, row_states)
                else:
                    pooled = h.mean(axis=0) if model.pooling == "mean" else h.max(axis=0)
                out = _head(model, w, pooled)
        else:
            assert dec is not None
            if model.scheme == "one_to_many":
                init_dec = _bridge(model, w, inputs["features"][b])
                len_key = "lengths"
            else:
                assert enc is not None
                x = inputs["x"][b]
                x_len = inputs.get("x_lengths")
                valid = _valid(enc.input, len(x), len(x) if x_len is None else int(x_len[b]))
                _, enc_states = run_stack(enc, w, x[valid])
                row_states.update(enc_states)
                if model.bridge.kind == "copy":
                    init_dec = {"decoder" + k[len("encoder"):]: v for k, v in enc_states.items()}
                else:
                    init_dec = _bridge(model, w, last_output(enc, enc_states))
                len_key = "y_lengths"
            y_in = inputs["y_in"][b]
            y_len = inputs.get(len_key)
            valid = _valid(dec.input, len(y_in), len(y_in) if y_len is None else int(y_len[b]))
            h, dec_states = run_stack(dec, w, y_in[valid], init_dec)
            row_states.update(dec_states)
            out = np.zeros((len(y_in), model.head.out_size))
            out[valid] = _head(model, w, h)
        rows.append(out)
        states.append(row_states)
    stacked = {k: np.stack([s[k] for s in states]) for k in states[0]}
    return np.stack(rows), stacked
