"""Truncated BPTT: backward(d_outputs, truncate=k).

The error that enters a recurrence at step t reaches steps t, t-1, ..., t-k+1 only, counted
over each sequence's valid steps in each direction's own reading order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqspec import testing, weights

ROOT = Path(__file__).resolve().parents[3]

TINY_ELMAN = {
    "scheme": "many_to_many",
    "input": {"kind": "tokens", "vocab_size": 5, "encoding": "one_hot"},
    "layers": [{"cell": "elman", "hidden_size": 3, "bias": False}],
    "head": {"kind": "softmax", "classes": 5, "bias": False},
}

BIDIRECTIONAL = {
    "scheme": "many_to_many",
    "input": {"kind": "features", "size": 2, "variable_length": True, "padding": "left"},
    "layers": [{"cell": "gru", "hidden_size": 3, "bidirectional": True},
               {"cell": "lstm", "hidden_size": 3, "peepholes": True}],
    "head": {"kind": "regression", "outputs": 2},
}


def seed_style_bptt(U, W, V, tokens, G, k):
    """The lecture's bptt with truncation, written out: U (H, C), W (H, H), V (C, H).

    s_t = tanh(U[:, x_t] + W s_{t-1}), o_t = V s_t, L = sum_t o_t . G_t. The error injected at
    step t flows back through steps t, t-1, ..., t-k+1 (the seed's bptt_truncate = k - 1).
    """
    T, H = len(tokens), W.shape[0]
    s = np.zeros((T + 1, H))  # s[t + 1] is s_t; s[0] is the zero initial state
    for t in range(T):
        s[t + 1] = np.tanh(U[:, tokens[t]] + W @ s[t])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    for t in range(T):
        dV += np.outer(G[t], s[t + 1])
        delta = (V.T @ G[t]) * (1 - s[t + 1] ** 2)
        for step in range(t, max(t - k, -1), -1):
            dW += np.outer(delta, s[step])
            dU[:, tokens[step]] += delta
            delta = (W.T @ delta) * (1 - s[step] ** 2)
    return dU, dW, dV


def grads_for(spec_model, model_dict, inputs=None, truncate=None, seed=0, steps=6, batch=3):
    model_ir, module = spec_model(model_dict)
    w = weights.random_weights(model_ir, seed, scale=2.0)
    model = module.Model(w, dtype="float64")
    inputs = inputs or testing.make_inputs(model_ir, batch=batch, steps=steps, seed=seed)
    out, _ = model.forward(**inputs)
    G = testing.output_cotangent(out.shape)
    return model_ir, w, inputs, G, model.backward(G, truncate=truncate)


@pytest.mark.parametrize("k", [1, 2, 3, 6, 9])
def test_matches_the_seeds_truncated_bptt(k, spec_model):
    _, w, inputs, G, grads = grads_for(spec_model, TINY_ELMAN, truncate=k)
    U, W = w["encoder.layers.0.forward.Wx_h"], w["encoder.layers.0.forward.Wh_h"]
    V = w["head.W"]
    expected = [np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)]
    for b, tokens in enumerate(inputs["x"]):
        for total, part in zip(expected, seed_style_bptt(U, W, V, tokens, G[b], k), strict=True):
            total += part
    np.testing.assert_allclose(grads["encoder.layers.0.forward.Wx_h"], expected[0], atol=1e-12)
    np.testing.assert_allclose(grads["encoder.layers.0.forward.Wh_h"], expected[1], atol=1e-12)
    np.testing.assert_allclose(grads["head.W"], expected[2], atol=1e-12)


@pytest.mark.parametrize("example", ["char_lstm", "seq2seq_gru", "jordan_bidirectional_classifier",
                                     "indrnn_classifier"])
def test_long_enough_truncation_is_exact_and_short_is_not(example, numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
    w = weights.random_weights(model_ir, 0)
    model = module.Model(w, dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=3, steps=6, seed=0)
    out, _ = model.forward(**inputs)
    G = testing.output_cotangent(out.shape)
    exact = model.backward(G)
    full = model.backward(G, truncate=6)
    short = model.backward(G, truncate=1)
    for name in exact:
        np.testing.assert_allclose(full[name], exact[name], rtol=1e-12, atol=1e-14, err_msg=name)
    recurrent = [n for n in exact if ".Wh_" in n or ".Wy_h" in n or ".u_h" in n]
    assert recurrent
    assert all(not np.allclose(short[n], exact[n]) for n in recurrent)


def test_padding_does_not_count_as_steps(spec_model):
    """A batch with padding (left, bidirectional) gets the sum of its rows' own gradients."""
    _, w, inputs, G, batch_grads = grads_for(spec_model, BIDIRECTIONAL, truncate=2)
    _, module = spec_model(BIDIRECTIONAL)
    model = module.Model(w, dtype="float64")
    total = {name: np.zeros_like(v) for name, v in w.items()}
    T = inputs["x"].shape[1]
    for b, n in enumerate(inputs["lengths"]):
        model.forward(inputs["x"][b : b + 1, T - n :], lengths=np.array([n]))
        alone = model.backward(G[b : b + 1, T - n :], truncate=2)
        for name in total:
            total[name] += alone[name]
    for name in total:
        np.testing.assert_allclose(batch_grads[name], total[name], rtol=1e-10, atol=1e-13,
                                   err_msg=name)


def test_bad_truncation_is_refused(numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / "gru_reset_before.yaml")
    model = module.Model(dtype="float64")
    out, _ = model.forward(**testing.make_inputs(model_ir))
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="truncate"):
            model.backward(np.ones_like(out), truncate=bad)
