"""The NumPy model against an independent, step-by-step reading of the equations.

The reference below loops over sequences and steps and applies each cell's equations as
docs and rnn-semantics.md write them, with the canonical per-gate weights (no fusing, no
batching, no masks: each sequence is cut to its valid part). Then a few numbers are pinned.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqspec import testing, weights


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0), "sigmoid": sigmoid,
       "linear": lambda a: a}


def step(cell, p, x, state):
    """One step of one sequence: x (I,), state: tuple of (S,) -> the new state."""
    kind = cell["cell"]
    if kind == "elman":
        (h,) = state
        a = p["Wx_h"] @ x + p["Wh_h"] @ h + p.get("b_h", 0.0)
        return (ACT[cell.get("activation", "tanh")](a),)
    if kind == "jordan":
        y, s = state
        s = cell.get("context_decay", 0.0) * s + y
        h = ACT[cell.get("activation", "tanh")](p["Wx_h"] @ x + p["Wy_h"] @ s + p.get("b_h", 0.0))
        y = ACT[cell.get("output_activation", "tanh")](p["Wo"] @ h + p.get("bo", 0.0))
        return (y, s)
    pre = {g: p[f"Wx_{g}"] @ x + p[f"Wh_{g}"] @ state[0] + p.get(f"b_{g}", 0.0)
           for g in ("ifgo" if kind == "lstm" else "zr")}
    if kind == "lstm":
        h, c = state
        peep = cell.get("peepholes", False)
        i = sigmoid(pre["i"] + (p["p_i"] * c if peep else 0.0))
        f = sigmoid(pre["f"] + (p["p_f"] * c if peep else 0.0))
        g = np.tanh(pre["g"])
        c_new = f * c + i * g
        o = sigmoid(pre["o"] + (p["p_o"] * c_new if peep else 0.0))
        return (o * np.tanh(c_new), c_new)
    (h,) = state
    z, r = sigmoid(pre["z"]), sigmoid(pre["r"])
    bhn = p.get("bhn", 0.0)
    if cell.get("variant", "reset_after") == "reset_after":
        n = np.tanh(p["Wx_n"] @ x + p.get("b_n", 0.0) + r * (p["Wh_n"] @ h + bhn))
    else:
        n = np.tanh(p["Wx_n"] @ x + p.get("b_n", 0.0) + bhn + p["Wh_n"] @ (r * h))
    return (z * h + (1.0 - z) * n,)


def state_sizes(cell):
    if cell["cell"] == "jordan":
        return (cell["output_size"],) * 2
    return (cell["hidden_size"],) * (2 if cell["cell"] == "lstm" else 1)


def run(cell, p, xs):
    """Run one direction over xs (T, I); returns the outputs (T, S) and the final state."""
    state = tuple(np.zeros(n) for n in state_sizes(cell))
    outs = []
    for x in xs:
        state = step(cell, p, x, state)
        outs.append(state[0])
    return np.array(outs), state


def merge(mode, fw, bw):
    return {"concat": lambda: np.concatenate([fw, bw], -1), "sum": lambda: fw + bw,
            "ave": lambda: (fw + bw) / 2, "mul": lambda: fw * bw}[mode]()


def params(w, prefix):
    return {k[len(prefix) + 1:]: v for k, v in w.items() if k.startswith(prefix + ".")}


def reference_many_to_many(spec, w, x, lengths):
    """A one-layer many_to_many spec over features: outputs (B, T, O) and the final states."""
    cell = spec["layers"][0]
    padding = spec["input"].get("padding", "right")
    B, T, _ = x.shape
    lengths = np.full(B, T) if lengths is None else lengths
    out, states = None, {}
    for b, n in enumerate(lengths):
        valid = np.arange(n) if padding == "right" else np.arange(T - n, T)
        fw, fw_final = run(cell, params(w, "encoder.layers.0.forward"), x[b, valid])
        merged, finals = fw, {"forward": fw_final}
        if cell.get("bidirectional"):
            bw, bw_final = run(cell, params(w, "encoder.layers.0.backward"), x[b, valid][::-1])
            merged = merge(cell.get("merge_mode", "concat"), fw, bw[::-1])
            finals["backward"] = bw_final
        y = merged @ w["head.W"].T + w.get("head.b", 0.0)
        if out is None:
            out = np.zeros((B, T, y.shape[-1]))
        out[b, valid] = y
        for d, final in finals.items():
            for name, value in zip(("y", "s") if cell["cell"] == "jordan" else ("h", "c"),
                                   final, strict=False):
                states.setdefault(f"encoder.layers.0.{d}.{name}", np.zeros((B, len(value))))
                states[f"encoder.layers.0.{d}.{name}"][b] = value
    return out, states


CELLS = {
    "elman_tanh": {"cell": "elman", "hidden_size": 3},
    "elman_relu": {"cell": "elman", "hidden_size": 3, "activation": "relu"},
    "elman_sigmoid_no_bias": {"cell": "elman", "hidden_size": 3, "activation": "sigmoid",
                              "bias": False},
    "jordan": {"cell": "jordan", "hidden_size": 3, "output_size": 2, "context_decay": 0.5},
    "jordan_linear_out": {"cell": "jordan", "hidden_size": 3, "output_size": 2,
                          "output_activation": "linear", "activation": "relu"},
    "lstm": {"cell": "lstm", "hidden_size": 3},
    "lstm_peepholes": {"cell": "lstm", "hidden_size": 3, "peepholes": True},
    "gru_reset_after": {"cell": "gru", "hidden_size": 3},
    "gru_reset_before": {"cell": "gru", "hidden_size": 3, "variant": "reset_before"},
}
TOPOLOGIES = {
    "fixed": ({}, {}),
    "bidirectional_right": ({"bidirectional": True, "merge_mode": "concat"},
                            {"variable_length": True}),
    "bidirectional_left_mul": ({"bidirectional": True, "merge_mode": "mul"},
                               {"variable_length": True, "padding": "left"}),
    "bidirectional_right_ave": ({"bidirectional": True, "merge_mode": "ave"},
                                {"variable_length": True}),
}


def spec_for(cell, topology="fixed", size=2):
    layer_extra, input_extra = TOPOLOGIES[topology]
    return {
        "scheme": "many_to_many",
        "input": {"kind": "features", "size": size, **input_extra},
        "layers": [{**CELLS[cell], **layer_extra}],
        "head": {"kind": "regression", "outputs": 2},
    }


@pytest.mark.parametrize("topology", list(TOPOLOGIES))
@pytest.mark.parametrize("cell", list(CELLS))
def test_matches_the_step_by_step_reference(cell, topology, spec_model):
    spec = spec_for(cell, topology)
    model_ir, module = spec_model(spec)
    w = weights.random_weights(model_ir, 5, scale=2.0)
    inputs = testing.make_inputs(model_ir, batch=4, steps=6, seed=5)
    out, states = module.Model(w, dtype="float64").forward(**inputs)
    expected, expected_states = reference_many_to_many(spec, w, inputs["x"], inputs.get("lengths"))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    assert set(states) == set(expected_states)
    for key, value in expected_states.items():
        np.testing.assert_allclose(states[key], value, rtol=0, atol=1e-12, err_msg=key)


def pattern_weights(model_ir):
    """Fixed weights, different in every entry (so a swapped gate or a transpose shows)."""
    out = {}
    for j, p in enumerate(model_ir.params):
        n = np.arange(p.size)
        out[p.name] = (0.2 * (((7 * j + 3 * n) % 11) - 5.0)).reshape(p.shape)
    return out


X = np.array([[[0.5, -1.0], [1.0, 0.25], [-0.75, 0.5]]])  # (1, 3, 2)
# outputs[0, 2] of each cell under pattern_weights and X, computed once with the reference
# above and kept here: a change of these numbers is a change of what the spec means.
PINNED = {
    "elman_tanh": [-0.34689133005152023, 0.1603813378848472],
    "elman_relu": [0.18800000000000003, 0.12239999999999995],
    "elman_sigmoid_no_bias": [1.365433797388011, -1.0219950116024914],
    "jordan": [0.751650745220005, -0.858201375395273],
    "jordan_linear_out": [0.6001280000000001, -0.787328],
    "lstm": [-0.4058153300170116, 0.16452363610444606],
    "lstm_peepholes": [-0.6435135684444052, 0.13675811387395875],
    "gru_reset_after": [-0.635902914695978, 0.24525079362609625],
    "gru_reset_before": [-0.8592292219560058, 0.12823285246404603],
}


@pytest.mark.parametrize("cell", list(CELLS))
def test_pinned_numbers(cell, spec_model):
    spec = spec_for(cell)
    model_ir, module = spec_model(spec)
    w = pattern_weights(model_ir)
    out, _ = module.Model(w, dtype="float64").forward(x=X)
    expected, _ = reference_many_to_many(spec, w, X, None)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[0, 2], PINNED[cell], rtol=0, atol=1e-12)
