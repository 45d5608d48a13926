"""The one float64 oracle of the test suite: the spec's equations, one sequence, one step at a
time, independent of every backend.

Written from the canonical equations (docs/weights.md, docs/generated-api.md and each
seqspec/cells/<kind>.py), with no fusing, batching, packing or masks: a variable-length row is
cut to its valid steps and run alone. The same code runs on NumPy arrays (the TensorFlow and
NumPy tests compare numbers with it) and on float64 torch tensors (the torch tests take its
gradients by autograd): the weights' array type decides. ``directional_check`` is the finite
difference check of a model's hand-written backward pass.

Loaded by tests/conftest.py's ``oracle`` fixture (pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from seqspec import ir

W = Mapping[str, Any]  # canonical name -> np.ndarray or torch.Tensor


# ------------------------------------------------------------------- arrays of either kind


def _torch(a: Any) -> Any:
    """The torch module when `a` is a tensor, else None (NumPy)."""
    if type(a).__module__.startswith("torch"):
        import torch

        return torch
    return None


def sigmoid(a: Any) -> Any:
    torch = _torch(a)
    return torch.sigmoid(a) if torch else 1.0 / (1.0 + np.exp(-a))


def tanh(a: Any) -> Any:
    torch = _torch(a)
    return torch.tanh(a) if torch else np.tanh(a)


def relu(a: Any) -> Any:
    torch = _torch(a)
    return torch.relu(a) if torch else np.maximum(a, 0.0)


ACT: dict[str, Callable[[Any], Any]] = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu,
                                        "linear": lambda a: a}


def _zeros(like: Any, size: int) -> Any:
    torch = _torch(like)
    return torch.zeros(size, dtype=torch.float64) if torch else np.zeros(size)


def leaf_weights(weights: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Canonical weights as float64 torch leaf tensors that collect gradients."""
    import torch

    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in weights.items()}


# ---------------------------------------------------------------------------- the cells


class Direction:
    """The weights of one layer direction: p("Wx_h") is {prefix}.Wx_h; b() is 0 without bias."""

    def __init__(self, w: W, prefix: str) -> None:
        self.w, self.prefix = w, prefix

    def __call__(self, name: str) -> Any:
        return self.w[f"{self.prefix}.{name}"]

    def b(self, name: str) -> Any:
        return self.w.get(f"{self.prefix}.{name}", 0.0)

    def x(self, name: str, x: Any) -> Any:
        """W x: x a (I,) vector, or an int token read as a one-hot vector (W's column)."""
        return self(name)[:, x] if isinstance(x, int) else self(name) @ x


def elman(s: Any, p: Direction, x: Any, state: tuple) -> tuple[Any, tuple]:
    (h,) = state
    h = ACT[s.activation](p.x("Wx_h", x) + p("Wh_h") @ h + p.b("b_h"))
    return h, (h,)


def jordan(s: Any, p: Direction, x: Any, state: tuple) -> tuple[Any, tuple]:
    y, context = state
    context = s.context_decay * context + y
    hidden = ACT[s.activation](p.x("Wx_h", x) + p("Wy_h") @ context + p.b("b_h"))
    y = ACT[s.output_activation](p("Wo") @ hidden + p.b("bo"))
    return y, (y, context)


def lstm(s: Any, p: Direction, x: Any, state: tuple) -> tuple[Any, tuple]:
    h, c = state
    a = {g: p.x(f"Wx_{g}", x) + p(f"Wh_{g}") @ h + p.b(f"b_{g}") for g in "ifgo"}
    i = sigmoid(a["i"] + (p("p_i") * c if s.peepholes else 0.0))
    f = sigmoid(a["f"] + (p("p_f") * c if s.peepholes else 0.0))
    c = f * c + i * tanh(a["g"])
    o = sigmoid(a["o"] + (p("p_o") * c if s.peepholes else 0.0))  # peeks at the new cell
    h = o * tanh(c)
    return h, (h, c)


def gru(s: Any, p: Direction, x: Any, state: tuple) -> tuple[Any, tuple]:
    (h,) = state
    z = sigmoid(p.x("Wx_z", x) + p("Wh_z") @ h + p.b("b_z"))
    r = sigmoid(p.x("Wx_r", x) + p("Wh_r") @ h + p.b("b_r"))
    xn = p.x("Wx_n", x) + p.b("b_n")
    if s.variant == "reset_after":
        n = tanh(xn + r * (p("Wh_n") @ h + p.b("bhn")))
    else:
        n = tanh(xn + p.b("bhn") + p("Wh_n") @ (r * h))
    h = z * h + (1.0 - z) * n
    return h, (h,)


def indrnn(s: Any, p: Direction, x: Any, state: tuple) -> tuple[Any, tuple]:
    (h,) = state  # u_h is a vector: each unit sees only its own past
    h = ACT[s.activation](p.x("Wx_h", x) + p("u_h") * h + p.b("b_h"))
    return h, (h,)


#: cell kind -> one step: (settings, direction weights, x_t, state) -> (output, new state)
CELLS: dict[str, Callable[..., tuple[Any, tuple]]] = {
    "elman": elman, "jordan": jordan, "lstm": lstm, "gru": gru, "indrnn": indrnn}


def step(layer: ir.Layer, w: W, prefix: str, x: Any, state: tuple) -> tuple[Any, tuple]:
    """One step of one direction of `layer`: (per-step output, new state)."""
    return CELLS[layer.cell](layer.settings, Direction(w, prefix), x, state)


# ----------------------------------------------------------------------- stacks and models


def merge(fw: Any, bw: Any, mode: str) -> Any:
    if mode == "concat":
        torch = _torch(fw)
        return torch.cat([fw, bw], dim=-1) if torch else np.concatenate([fw, bw], axis=-1)
    return {"sum": lambda: fw + bw, "ave": lambda: (fw + bw) / 2, "mul": lambda: fw * bw}[mode]()


def run_stack(stack: ir.Stack, w: W, xs: list[Any], initial: Mapping[str, Any] | None = None
              ) -> tuple[list[Any], dict[str, Any]]:
    """One sequence alone: xs its valid steps (vectors, or int tokens read as one-hot).

    Returns (the top layer's output per step, {state key: (size,)} final states).
    """
    initial = initial or {}
    like = next(iter(w.values()))
    final: dict[str, Any] = {}
    for layer in stack.layers:
        per_direction = []
        for d in layer.directions:
            keys = [f"{d.prefix}.{name}" for name in layer.state_names]
            state = tuple(initial[k] if k in initial else _zeros(like, size)
                          for k, size in zip(keys, layer.state_sizes, strict=True))
            order = range(len(xs)) if d.name == "forward" else range(len(xs) - 1, -1, -1)
            outs: list[Any] = [None] * len(xs)
            for t in order:
                outs[t], state = step(layer, w, d.prefix, xs[t], state)
            final.update(zip(keys, state, strict=True))
            per_direction.append(outs)
        if layer.bidirectional:
            xs = [merge(f, b, layer.merge_mode) for f, b in zip(*per_direction, strict=True)]
        else:
            xs = per_direction[0]
    return xs, final


def valid_steps(row: Any, n: int, padding: str) -> tuple[list[Any], list[int]]:
    """The valid part of one padded row (a (T, ...) array or a list), and its positions."""
    steps = len(row)
    where = range(n) if padding == "right" else range(steps - n, steps)
    return [row[t] for t in where], list(where)


def last_output(stack: ir.Stack, states: Mapping[str, Any]) -> Any:
    top = stack.layers[-1]
    parts = [states[f"{d.prefix}.{top.state_names[0]}"] for d in top.directions]
    return parts[0] if len(parts) == 1 else merge(parts[0], parts[1], top.merge_mode)


def _embed(stack: ir.Stack, w: W, seq: np.ndarray) -> list[np.ndarray]:
    """A sequence's valid steps as input vectors (embedding rows, one-hot, or features)."""
    inp = stack.input
    if inp.encoding == "embedding":
        return list(w[f"{stack.name}.embedding"][seq])
    if inp.encoding == "one_hot":
        h = np.zeros((len(seq), inp.vocab_size))
        h[np.arange(len(seq)), seq] = 1.0
        return list(h)
    return list(np.asarray(seq, dtype=np.float64))


def _run(stack: ir.Stack, w: W, seq: np.ndarray, initial: Mapping[str, Any] | None = None
         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    outs, states = run_stack(stack, w, _embed(stack, w, seq), initial)
    return np.stack(outs), states


def _valid(inp: ir.SequenceInput, steps: int, n: int) -> slice:
    return slice(0, n) if inp.padding == "right" else slice(steps - n, steps)


def _head(w: W, h: np.ndarray) -> np.ndarray:
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


def _autoregressive(model: ir.Model, w: W, x: np.ndarray) -> np.ndarray:
    assert model.ar is not None
    if model.ar.kind == "linear":
        p = model.ar.order
        out = sum(w["ar.phi"][i - 1] * x[:, p - i] for i in range(1, p + 1))
        return (out + w.get("ar.c", 0.0))[:, None]
    h = x
    n = len(model.ar.hidden)
    for k in range(n + 1):
        h = h @ w[f"mlp.layers.{k}.W"].T + w[f"mlp.layers.{k}.b"]
        if k < n:
            h = ACT[model.ar.activation](h)
    return h


def forward(model: ir.Model, w: W, inputs: Mapping[str, np.ndarray]
            ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(outputs, {state key: (B, size)}) of a NumPy batch (docs/generated-api.md), row by row.

    Padded positions of a per-step output are exactly 0.
    """
    if model.ar is not None:
        return _autoregressive(model, w, inputs["windows"]), {}
    rows, states = [], []
    enc, dec = model.encoder, model.decoder
    batch = len(inputs["x" if enc is not None else "y_in"])
    for b in range(batch):
        row_states: dict[str, np.ndarray] = {}
        if model.scheme in ("many_to_many", "many_to_one"):
            assert enc is not None
            x = inputs["x"][b]
            lengths = inputs.get("lengths")
            valid = _valid(enc.input, len(x), len(x) if lengths is None else int(lengths[b]))
            init = inputs.get("initial_state")
            h, row_states = _run(enc, w, x[valid], {k: v[b] for k, v in init.items()}
                                 if init else None)
            if model.scheme == "many_to_many":
                out = np.zeros((len(x), model.head.out_size))
                out[valid] = _head(w, h)
            else:
                if model.pooling == "last":
                    pooled = last_output(enc, row_states)
                else:
                    pooled = h.mean(axis=0) if model.pooling == "mean" else h.max(axis=0)
                out = _head(w, pooled)
        else:
            assert dec is not None
            if model.scheme == "one_to_many":
                init_dec = _bridge(model, w, inputs["features"][b])
                len_key = "lengths"
            else:
                assert enc is not None and model.bridge is not None
                x = inputs["x"][b]
                x_len = inputs.get("x_lengths")
                valid = _valid(enc.input, len(x), len(x) if x_len is None else int(x_len[b]))
                _, enc_states = _run(enc, w, x[valid])
                row_states.update(enc_states)
                if model.bridge.kind == "copy":
                    init_dec = {"decoder" + k[len("encoder"):]: v for k, v in enc_states.items()}
                else:
                    init_dec = _bridge(model, w, last_output(enc, enc_states))
                len_key = "y_lengths"
            y_in = inputs["y_in"][b]
            y_len = inputs.get(len_key)
            valid = _valid(dec.input, len(y_in), len(y_in) if y_len is None else int(y_len[b]))
            h, dec_states = _run(dec, w, y_in[valid], init_dec)
            row_states.update(dec_states)
            out = np.zeros((len(y_in), model.head.out_size))
            out[valid] = _head(w, h)
        rows.append(out)
        states.append(row_states)
    stacked = {k: np.stack([s[k] for s in states]) for k in states[0]}
    return np.stack(rows), stacked


# --------------------------------------------------------------------- finite differences


def directional_check(model, weights, inputs, *, seed=0, eps=1e-4, truncate=None, extra=None,
                      names=None):
    """Compare a NumPy model's backward() with finite differences along a random direction,
    per parameter.

    Returns {name: relative error} for every parameter and float input (or `names`).
    """
    extra = extra or {}
    out, _ = model.forward(**inputs, **extra)
    G = np.random.default_rng(seed + 1).normal(size=out.shape)
    grads = model.backward(G, truncate=truncate)
    rng = np.random.default_rng(seed + 2)

    def loss(w, x):
        model.load_weights(w)
        o, _ = model.forward(**x, **extra)
        return float(np.sum(o * G))

    errors = {}
    for name in names or grads:
        is_input = name in inputs
        base = inputs[name] if is_input else weights[name]
        v = rng.normal(size=base.shape)
        values = []
        for step_ in (2.0, 1.0, -1.0, -2.0):
            w, x = dict(weights), dict(inputs)
            (x if is_input else w)[name] = base + step_ * eps * v
            values.append(loss(w, x))
        # the fourth-order central difference: error O(eps^4) instead of O(eps^2)
        numeric = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
        analytic = float(np.sum(grads[name] * v))
        # relative error; the 1e-6 in the denominator judges derivatives near 0 against the
        # finite differences' own rounding noise (about 1e-12 here) instead of against 0
        errors[name] = abs(numeric - analytic) / (max(abs(numeric), abs(analytic)) + 1e-6)
    model.load_weights(weights)
    return errors
