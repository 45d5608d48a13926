"""What the spec's words mean, checked one by one: variants, wiring, padding, directions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from seqspec.backends.numpy import FEATURES

from seqspec import registry, testing, weights

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def features_spec(layer, **input_extra):
    return {
        "scheme": "many_to_many",
        "input": {"kind": "features", "size": 2, **input_extra},
        "layers": [layer],
        "head": {"kind": "regression", "outputs": 2},
    }


def test_the_two_gru_variants_differ_where_they_should(spec_model):
    after_ir, after = spec_model(features_spec({"cell": "gru", "hidden_size": 3}))
    _, before = spec_model(features_spec({"cell": "gru", "hidden_size": 3,
                                          "variant": "reset_before"}))
    w = weights.random_weights(after_ir, 0, scale=2.0)  # same names, same shapes
    x = testing.make_inputs(after_ir, batch=2, steps=5)["x"]
    out_after = after.Model(w, dtype="float64").forward(x=x)[0]
    out_before = before.Model(w, dtype="float64").forward(x=x)[0]
    assert np.abs(out_after - out_before).max() > 1e-3
    # where r meets no recurrent product (Wh_n = 0, bhn = 0) the two are one function
    w = {**w, "encoder.layers.0.forward.Wh_n": np.zeros((3, 3)),
         "encoder.layers.0.forward.bhn": np.zeros(3)}
    out_after = after.Model(w, dtype="float64").forward(x=x)[0]
    out_before = before.Model(w, dtype="float64").forward(x=x)[0]
    np.testing.assert_allclose(out_after, out_before, rtol=0, atol=1e-15)
    # and with Wh_n = 0, bhn alone still tells them apart: r * bhn versus bhn
    w["encoder.layers.0.forward.bhn"] = np.full(3, 0.7)
    out_after = after.Model(w, dtype="float64").forward(x=x)[0]
    out_before = before.Model(w, dtype="float64").forward(x=x)[0]
    assert np.abs(out_after - out_before).max() > 1e-3


def test_peephole_wiring(spec_model):
    """p_i, p_f see c_{t-1} (0 at the first step); p_o sees c_t (not 0 at the first step)."""
    peep_ir, peep = spec_model(features_spec({"cell": "lstm", "hidden_size": 3,
                                              "peepholes": True}))
    _, plain = spec_model(features_spec({"cell": "lstm", "hidden_size": 3}))
    w = weights.random_weights(peep_ir, 1, scale=2.0)
    base = {k: v for k, v in w.items() if ".p_" not in k}
    x = testing.make_inputs(peep_ir, batch=2, steps=4, seed=1)["x"]
    reference = plain.Model(base, dtype="float64").forward(x=x)[0]
    zero = np.zeros(3)
    prefix = "encoder.layers.0.forward"

    def run(p_i, p_f, p_o):
        ws = {**base, f"{prefix}.p_i": p_i, f"{prefix}.p_f": p_f, f"{prefix}.p_o": p_o}
        return peep.Model(ws, dtype="float64").forward(x=x)[0]

    np.testing.assert_array_equal(run(zero, zero, zero), reference)
    only_o = run(zero, zero, w[f"{prefix}.p_o"])
    assert np.abs(only_o[:, 0] - reference[:, 0]).max() > 1e-4  # c_0 != 0 already at step 0
    for only in (run(w[f"{prefix}.p_i"], zero, zero), run(zero, w[f"{prefix}.p_f"], zero)):
        np.testing.assert_allclose(only[:, 0], reference[:, 0], rtol=0, atol=1e-15)  # c_{-1} = 0
        assert np.abs(only[:, 1:] - reference[:, 1:]).max() > 1e-4


@pytest.mark.parametrize("padding", ["right", "left"])
def test_bidirectional_last_reads_the_backward_final_state(padding, spec_model):
    """pooling last = merge(forward at the last valid step, backward after the whole valid part)."""
    cell = {"cell": "lstm", "hidden_size": 3}
    bi_spec = {"scheme": "many_to_one",
               "input": {"kind": "features", "size": 2, "variable_length": True,
                         "padding": padding},
               "layers": [{**cell, "bidirectional": True}], "pooling": "last",
               "head": {"kind": "regression", "outputs": 2}}
    bi_ir, bi = spec_model(bi_spec)
    _, uni = spec_model(features_spec(cell))
    w = weights.random_weights(bi_ir, 2, scale=2.0)
    inputs = testing.make_inputs(bi_ir, batch=4, steps=6, seed=2)
    out, states = bi.Model(w, dtype="float64").forward(**inputs)
    T = inputs["x"].shape[1]
    for direction in ("forward", "backward"):
        single = {k.replace(f".{direction}.", ".forward."): v for k, v in w.items()
                  if f".{direction}." in k}
        single["head.W"], single["head.b"] = np.zeros((2, 3)), np.zeros(2)
        model = uni.Model(single, dtype="float64")
        for b, n in enumerate(inputs["lengths"]):
            part = inputs["x"][b, :n] if padding == "right" else inputs["x"][b, T - n:]
            if direction == "backward":
                part = part[::-1]  # the backward direction is the reversed valid part alone
            _, alone = model.forward(x=part[None])
            for name in ("h", "c"):
                np.testing.assert_allclose(
                    states[f"encoder.layers.0.{direction}.{name}"][b],
                    alone[f"encoder.layers.0.forward.{name}"][0], rtol=0, atol=1e-13)
    pooled = np.concatenate([states["encoder.layers.0.forward.h"],
                             states["encoder.layers.0.backward.h"]], axis=1)
    np.testing.assert_allclose(out, pooled @ w["head.W"].T + w["head.b"], rtol=0, atol=1e-13)


PADDED_SPECS = {
    "bidirectional_gru_left": {
        "scheme": "many_to_many",
        "input": {"kind": "tokens", "vocab_size": 9, "encoding": "embedding",
                  "embedding_dim": 3, "variable_length": True, "padding": "left"},
        "layers": [{"cell": "gru", "hidden_size": 3, "bidirectional": True, "merge_mode": "sum"},
                   {"cell": "jordan", "hidden_size": 3, "output_size": 2, "bidirectional": True,
                    "context_decay": 0.4}],
        "head": {"kind": "softmax", "classes": 4},
    },
    "bidirectional_peephole_right": {
        "scheme": "many_to_many",
        "input": {"kind": "features", "size": 2, "variable_length": True},
        "layers": [{"cell": "lstm", "hidden_size": 3, "peepholes": True, "bidirectional": True,
                    "merge_mode": "mul"}],
        "head": {"kind": "regression", "outputs": 2},
    },
}


def padded_cases():
    cases = [(p.stem, p) for p in EXAMPLES if p.stem in (
        "bidirectional_gru_tagger", "bidirectional_lstm_classifier", "gru_reset_after",
        "jordan_bidirectional_classifier", "char_lstm", "indrnn_classifier")]
    return cases + [(name, spec) for name, spec in PADDED_SPECS.items()]


@pytest.mark.parametrize("name,source", padded_cases(), ids=[c[0] for c in padded_cases()])
def test_padding_never_changes_a_valid_result(name, source, numpy_model, spec_model):
    """Each row alone, cut to its valid steps, gives the same outputs and final states."""
    model_ir, module = spec_model(source) if isinstance(source, dict) else numpy_model(source)
    w = weights.random_weights(model_ir, 3)
    model = module.Model(w, dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=4, steps=7, seed=3)
    out, states = model.forward(**inputs)
    x, lengths, T = inputs["x"], inputs["lengths"], inputs["x"].shape[1]
    left = model_ir.encoder.input.padding == "left"
    for b, n in enumerate(lengths):
        valid = slice(T - n, T) if left else slice(0, n)
        alone_out, alone_states = model.forward(x=x[b : b + 1, valid], lengths=np.array([n]))
        if out.ndim == 3:  # per step: valid positions agree, padded ones are exactly 0
            np.testing.assert_allclose(out[b, valid], alone_out[0], rtol=0, atol=1e-13)
            padded = np.ones(T, bool)
            padded[valid] = False
            assert np.all(out[b, padded] == 0.0)
        else:
            np.testing.assert_allclose(out[b], alone_out[0], rtol=0, atol=1e-13)
        for key, value in alone_states.items():
            np.testing.assert_allclose(states[key][b], value[0], rtol=0, atol=1e-13,
                                       err_msg=key)


def test_seq2seq_padding(spec_model):
    """Padded decoder steps output 0; the encoder's padded tokens change nothing."""
    model_ir, module = spec_model({
        "scheme": "seq2seq",
        "encoder": {"input": {"kind": "tokens", "vocab_size": 6, "encoding": "embedding",
                              "embedding_dim": 3, "variable_length": True},
                    "layers": [{"cell": "gru", "hidden_size": 4}]},
        "bridge": {"kind": "copy"},
        "decoder": {"input": {"kind": "tokens", "vocab_size": 6, "encoding": "one_hot",
                              "variable_length": True, "padding": "left"},
                    "layers": [{"cell": "gru", "hidden_size": 4}]},
        "head": {"kind": "softmax", "classes": 6},
    })
    model = module.Model(weights.random_weights(model_ir, 0), dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=3, steps=6)
    out, states = model.forward(**inputs)
    T = out.shape[1]
    for b, n in enumerate(inputs["y_lengths"]):
        assert np.all(out[b, : T - n] == 0.0) and np.all(out[b, T - n :] != 0.0)
    x = inputs["x"].copy()
    for b, n in enumerate(inputs["x_lengths"]):
        x[b, n:] = (x[b, n:] + 1) % 6
    again, again_states = model.forward(**{**inputs, "x": x})
    np.testing.assert_array_equal(again, out)
    for key in states:
        np.testing.assert_array_equal(again_states[key], states[key])


@pytest.mark.parametrize("example", ["char_lstm", "stacked_elman_relu"])
def test_dropout(example, numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
    model = module.Model(weights.random_weights(model_ir, 0), dtype="float64", seed=4)
    inputs = testing.make_inputs(model_ir, batch=3, steps=6)
    inference = model.forward(**inputs)[0]
    np.testing.assert_array_equal(model.forward(**inputs)[0], inference)  # deterministic
    np.testing.assert_array_equal(model.forward(**inputs, training=False)[0], inference)
    train_a = model.forward(**inputs, training=True)[0]
    train_b = model.forward(**inputs, training=True)[0]  # the model's rng moved on
    assert np.abs(train_a - inference).max() > 1e-6
    assert np.abs(train_a - train_b).max() > 1e-6
    seeded = [model.forward(**inputs, training=True, rng=9)[0] for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])  # same seed, same masks
    fresh = module.Model(weights.random_weights(model_ir, 0), dtype="float64", seed=4)
    np.testing.assert_array_equal(fresh.forward(**inputs, training=True)[0], train_a)


def test_float32_follows_float64(numpy_model):
    for example in ("char_lstm", "bidirectional_lstm_classifier", "seq2seq_bilstm_dense"):
        model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
        w = weights.random_weights(model_ir, 0)
        inputs = testing.make_inputs(model_ir, batch=3, steps=6)
        out64 = module.Model(w, dtype="float64").forward(**inputs)[0]
        out32 = module.Model(w, dtype="float32").forward(**inputs)[0]
        assert out32.dtype == np.float32
        np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-5)


def test_clip_by_global_norm(compiled_dir):
    from seqspec.backends.numpy.runner import load_runtime

    module = load_runtime(compiled_dir(ROOT / "examples" / "ar_linear.yaml", "numpy"))
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = module.clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    same, norm = module.clip_by_global_norm(grads, 10.0)
    np.testing.assert_array_equal(same["a"], grads["a"])


def test_ar_linear_weights_the_window_newest_last(numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / "ar_linear.yaml")
    p = model_ir.ar.order
    w = {"ar.phi": np.arange(1.0, p + 1), "ar.c": np.array([0.5])}
    windows = np.zeros((1, p))
    windows[0, -1] = 1.0  # x_{t-1} = 1, the rest 0: the prediction is c + phi_1
    out, _ = module.Model(w, dtype="float64").forward(windows=windows)
    np.testing.assert_allclose(out, [[0.5 + 1.0]])
    windows = np.zeros((1, p))
    windows[0, 0] = 1.0  # x_{t-p} = 1: c + phi_p
    np.testing.assert_allclose(module.Model(w, dtype="float64").forward(windows=windows)[0],
                               [[0.5 + p]])


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_float32_stays_float32(example, numpy_model):
    """Outputs, states and gradients come back in the model's dtype, whatever the inputs."""
    model_ir, module = numpy_model(example)
    model = module.Model(weights.random_weights(model_ir, 0), dtype="float32")
    inputs = testing.make_inputs(model_ir, batch=2, steps=4)  # float64 inputs
    out, states = model.forward(**inputs)
    grads = model.backward(np.ones_like(out, dtype=np.float64), truncate=2)
    assert out.dtype == np.float32
    assert all(v.dtype == np.float32 for v in states.values())
    assert {k for k, v in grads.items() if v.dtype != np.float32} == set()


def test_initial_state_is_carried_through_left_padding(spec_model):
    """A given initial state waits through the leading padding: as if the row ran alone."""
    model_ir, module = spec_model(PADDED_SPECS["bidirectional_gru_left"])
    model = module.Model(weights.random_weights(model_ir, 6), dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=3, steps=6, seed=6)
    _, states = model.forward(**inputs)
    start = {k: np.random.default_rng(1).normal(size=v.shape) for k, v in states.items()}
    out, final = model.forward(**inputs, initial_state=start)
    T = inputs["x"].shape[1]
    for b, n in enumerate(inputs["lengths"]):
        alone_start = {k: v[b : b + 1] for k, v in start.items()}
        alone, alone_final = model.forward(inputs["x"][b : b + 1, T - n :], lengths=np.array([n]),
                                           initial_state=alone_start)
        np.testing.assert_allclose(out[b, T - n :], alone[0], rtol=0, atol=1e-13)
        for key in final:
            np.testing.assert_allclose(final[key][b], alone_final[key][0], rtol=0, atol=1e-13)


def test_the_backend_declares_every_feature_it_is_given(numpy_model):
    backend = registry.get("numpy")
    assert backend.name == "numpy" and backend.framework == "numpy"
    assert backend.features == FEATURES
    seen = set()
    for example in EXAMPLES:
        seen |= numpy_model(example)[0].features
    assert seen <= FEATURES
    lower_source = (ROOT / "seqspec" / "lower.py").read_text(encoding="utf-8")
    literal = set(re.findall(r'\.use\("([a-z_]+)"', lower_source))
    assert literal <= FEATURES, literal - FEATURES
