"""Generation: greedy, top-k and sampled decoding, checked against teacher-forced forward."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from seqspec import testing, weights

ROOT = Path(__file__).resolve().parents[3]


def lm(numpy_model, example="char_lstm"):
    model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
    model = module.Model(weights.random_weights(model_ir, 0, scale=3.0), dtype="float64")
    prefix = testing.make_inputs(model_ir, batch=3, steps=4)["x"]
    return model, prefix


def next_logits(model, prefix, generated):
    """Logits of the next token after prefix + generated, from one teacher-forced forward."""
    sequence = np.concatenate([prefix, generated], axis=1)
    full = {}
    if "lengths" in sys.modules[type(model).__module__].INPUTS:  # variable_length: required
        full["lengths"] = np.full(len(sequence), sequence.shape[1])
    return model.forward(sequence, **full)[0][:, -1]


def test_argmax_is_greedy_and_deterministic(numpy_model):
    model, prefix = lm(numpy_model)
    tokens = model.generate(prefix, steps=6)
    assert tokens.shape == (3, 6) and tokens.dtype == np.int64
    np.testing.assert_array_equal(model.generate(prefix, steps=6, seed=5), tokens)
    for k in range(6):
        np.testing.assert_array_equal(
            tokens[:, k], next_logits(model, prefix, tokens[:, :k]).argmax(axis=1))


def test_top_k_only_picks_among_the_k_most_likely(numpy_model):
    model, prefix = lm(numpy_model)
    tokens = model.generate(prefix, steps=8, strategy="top_k", top_k=3, temperature=2.0, seed=1)
    for k in range(8):
        logits = next_logits(model, prefix, tokens[:, :k])
        top3 = np.argsort(-logits, axis=1)[:, :3]
        assert all(tokens[b, k] in top3[b] for b in range(len(tokens)))
    # top_k = 1 is greedy
    np.testing.assert_array_equal(
        model.generate(prefix, steps=5, strategy="top_k", top_k=1, seed=3),
        model.generate(prefix, steps=5))


def test_sampling_is_seeded(numpy_model):
    model, prefix = lm(numpy_model)
    a = model.generate(prefix, steps=12, strategy="sample", temperature=1.5, seed=7)
    b = model.generate(prefix, steps=12, strategy="sample", temperature=1.5, seed=7)
    c = model.generate(prefix, steps=12, strategy="sample", temperature=1.5, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, model.generate(prefix, steps=12))  # not greedy at T = 1.5


def test_temperature_to_zero_approaches_argmax(numpy_model):
    model, prefix = lm(numpy_model)
    greedy = model.generate(prefix, steps=6)
    for seed in range(3):
        cold = model.generate(prefix, steps=6, strategy="sample", temperature=1e-6, seed=seed)
        np.testing.assert_array_equal(cold, greedy)


def test_bad_strategy_is_refused(numpy_model):
    model, prefix = lm(numpy_model)
    with pytest.raises(ValueError, match="strategy"):
        model.generate(prefix, steps=2, strategy="beam")
    with pytest.raises(ValueError, match="temperature"):
        model.generate(prefix, steps=2, strategy="sample", temperature=0.0)


def test_bidirectional_language_model_reruns_the_sequence(spec_model):
    model_ir, module = spec_model({
        "scheme": "many_to_many",
        "input": {"kind": "tokens", "vocab_size": 7, "encoding": "one_hot"},
        "layers": [{"cell": "gru", "hidden_size": 4, "bidirectional": True}],
        "head": {"kind": "softmax", "classes": 7},
    })
    model = module.Model(weights.random_weights(model_ir, 0, scale=3.0), dtype="float64")
    prefix = testing.make_inputs(model_ir, batch=2, steps=3)["x"]
    tokens = model.generate(prefix, steps=4)
    for k in range(4):
        np.testing.assert_array_equal(
            tokens[:, k], next_logits(model, prefix, tokens[:, :k]).argmax(axis=1))


@pytest.mark.parametrize("example", ["caption_one_to_many", "seq2seq_gru",
                                     "seq2seq_bilstm_dense"])
def test_free_decoding_is_greedy_teacher_forcing(example, numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
    model = module.Model(weights.random_weights(model_ir, 0, scale=3.0), dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=3, steps=5)
    source = {k: v for k, v in inputs.items() if k in ("features", "x", "x_lengths")}
    tokens = model.generate(**source, steps=5)
    assert tokens.shape == (3, 5)
    start = np.full((3, 1), model_ir.start_token)
    end = model_ir.end_token
    for k in range(5):
        y_in = np.concatenate([start, tokens[:, :k]], axis=1)
        logits = model.forward(**source, y_in=y_in)[0][:, -1]
        for b in range(3):
            if end is not None and end in tokens[b, :k]:
                assert tokens[b, k] == end  # a row that has ended repeats end_token
            else:
                assert tokens[b, k] == logits[b].argmax()
    default = model.generate(**source)
    assert default.shape == (3, model_ir.max_length)


def test_end_token_is_repeated(numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / "caption_one_to_many.yaml")
    w = weights.random_weights(model_ir, 0)
    w["head.b"] = np.zeros(model_ir.head.out_size)
    w["head.b"][model_ir.end_token] = 50.0  # the end token wins at once
    model = module.Model(w, dtype="float64")
    features = np.random.default_rng(0).normal(size=(2, model_ir.vector_size))
    np.testing.assert_array_equal(model.generate(features, steps=4),
                                  np.full((2, 4), model_ir.end_token))


def test_regression_decoder_feeds_its_outputs_back(spec_model):
    model_ir, module = spec_model({
        "scheme": "one_to_many",
        "input": {"kind": "vector", "size": 3},
        "decoder": {"input": {"kind": "features", "size": 2},
                    "layers": [{"cell": "jordan", "hidden_size": 4, "output_size": 3}]},
        "head": {"kind": "regression", "outputs": 2},
        "max_length": 5,
    })
    model = module.Model(weights.random_weights(model_ir, 0), dtype="float64")
    features = np.random.default_rng(1).normal(size=(2, 3))
    values = model.generate(features, steps=4)
    assert values.shape == (2, 4, 2)
    y_in = np.concatenate([np.zeros((2, 1, 2)), values[:, :-1]], axis=1)
    np.testing.assert_allclose(model.forward(features, y_in)[0], values, rtol=0, atol=1e-13)
