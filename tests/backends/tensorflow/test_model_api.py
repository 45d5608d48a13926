"""The generated Keras model's API: weights in and out, Keras saving, compiled and eager
entry points, initial states, dropout, mixed precision, XLA, generation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.weights import init_weights

ROOT = Path(__file__).resolve().parents[3]
NAMES = [p.stem for p in sorted((ROOT / "examples").glob("*.yaml"))]


@pytest.mark.parametrize("name", NAMES)
def test_canonical_weights_round_trip(name, tf_module, case) -> None:
    model, w, _, _ = case(name)
    module = tf_module(name)
    assert list(module.PARAMETERS) == [p.name for p in model.params]
    fresh = module.init_weights(7)  # the shared initialisers, bit for bit
    for key, value in init_weights(model, 7).items():
        assert np.array_equal(fresh[key], value), key
    back = module.Model(w, dtype="float64").canonical_weights()
    assert list(back) == list(w)
    for key, value in w.items():
        if name == "gru_reset_before" and key.endswith((".b_n", ".bhn")):
            continue  # only b_n + bhn is identifiable; checked below
        assert back[key].dtype == np.float64 and np.array_equal(back[key], value), key
    if name == "gru_reset_before":
        p = "encoder.layers.0.forward"
        np.testing.assert_allclose(back[f"{p}.b_n"], w[f"{p}.b_n"] + w[f"{p}.bhn"], atol=1e-15)
        assert not back[f"{p}.bhn"].any()


def test_wrong_weights_are_refused(tf_module, case) -> None:
    _, w, _, _ = case("peephole_lstm")
    module = tf_module("peephole_lstm")
    bad = dict(w)
    bad.pop("encoder.layers.0.forward.p_o")
    bad["head.W"] = bad["head.W"].T
    with pytest.raises(ValueError, match=r"missing encoder\.layers\.0\.forward\.p_o"):
        module.Model(bad)
    with pytest.raises(ValueError, match=r"head\.W: shape"):
        module.Model({**w, "head.W": w["head.W"].T})


# Keras' own saving hands TF tensors to np.array, which NumPy 2 warns about (not ours).
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_npz_and_keras_saving(tmp_path, tf_module, tf_model, case) -> None:
    """Canonical .npz, Keras' .keras archive (load_model) and .weights.h5 all round-trip."""
    import keras

    name = "jordan_bidirectional_classifier"  # custom cells, both directions, one-hot input
    _, w, inputs, _ = case(name)
    module = tf_module(name)
    model = tf_model(name)
    want = np.asarray(model(inputs))  # eager Keras call
    np.testing.assert_allclose(np.asarray(model.forward(**inputs)[0]), want, atol=1e-13, rtol=0)

    model.save_npz(tmp_path / "w.npz")
    assert sorted(np.load(tmp_path / "w.npz").files) == sorted(w)
    other = module.Model(dtype="float64")  # init_weights(0): different numbers
    assert not np.allclose(np.asarray(other(inputs)), want)
    other.load_npz(tmp_path / "w.npz")
    np.testing.assert_array_equal(np.asarray(other(inputs)), want)

    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded).__name__ == "Model" and loaded.dtype_policy.name == "float64"
    np.testing.assert_array_equal(np.asarray(loaded(inputs)), want)
    for key, value in w.items():
        np.testing.assert_array_equal(loaded.canonical_weights()[key], value)

    model.save_weights(tmp_path / "m.weights.h5")
    again = module.Model(dtype="float64")
    again.load_weights(tmp_path / "m.weights.h5")  # a path goes to Keras' own loader
    np.testing.assert_array_equal(np.asarray(again(inputs)), want)


def test_calls_run_compiled(tf_module, case) -> None:
    """model(inputs) and forward() share one traced graph; eager calls never run the loop
    step by step (20x slower)."""
    _, w, inputs, _ = case("peephole_lstm")
    model = tf_module("peephole_lstm").Model(w)
    assert model.forward_fn.experimental_get_tracing_count() == 0
    first = model(inputs).numpy()
    assert model.forward_fn.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(model.forward(**inputs)[0].numpy(), first)
    assert model.forward_fn.experimental_get_tracing_count() == 1


def test_initial_state_carries_over(tf_model, case) -> None:
    """Two halves with the state carried equal one run (a unidirectional LM, full lengths)."""
    _, _, inputs, _ = case("char_lstm")
    model = tf_model("char_lstm")
    x = inputs["x"]

    def full(part):  # char_lstm declares variable_length: lengths are required
        return np.full(len(part), part.shape[1])

    whole, whole_states = model.forward(x=x, lengths=full(x))
    first, states = model.forward(x=x[:, :3], lengths=full(x[:, :3]))
    second, last = model.forward(x=x[:, 3:], lengths=full(x[:, 3:]), initial_state=states)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-13, rtol=0)
    for key, value in whole_states.items():
        np.testing.assert_allclose(last[key], value, atol=1e-13, rtol=0, err_msg=key)


def test_dropout_only_in_training(tf_model, case) -> None:
    _, _, inputs, _ = case("stacked_elman_relu")  # dropout 0.2 between layers
    model = tf_model("stacked_elman_relu")
    quiet = [np.asarray(model.forward(**inputs)[0]) for _ in range(2)]
    np.testing.assert_array_equal(quiet[0], quiet[1])
    noisy = np.asarray(model.forward(**inputs, training=True)[0])
    assert not np.allclose(noisy, quiet[0])


def test_mixed_precision_and_xla(tf_module, case, tf_result) -> None:
    _, w, inputs, _ = case("jordan_series")
    want = tf_result("jordan_series", "float64")["outputs"]["outputs"]
    mixed = tf_module("jordan_series").Model(w, dtype="mixed_float16")
    assert mixed.compute_dtype == "float16" and mixed.variable_dtype == "float32"
    out = np.asarray(mixed.forward(**inputs)[0])
    assert out.dtype == np.float32  # the head computes in float32
    np.testing.assert_allclose(out, want, atol=2e-2, rtol=0)
    xla = tf_module("jordan_series").Model(w, dtype="float64", jit_compile=True)
    np.testing.assert_allclose(np.asarray(xla.forward(**inputs)[0]), want, atol=1e-12, rtol=0)


def test_keras_fit_runs(tf_module, case) -> None:
    """model(inputs) is what Keras' fit calls: one epoch of SGD moves the weights."""
    _, w, inputs, _ = case("gru_reset_after")
    model = tf_module("gru_reset_after").Model(w)
    model.compile(optimizer="sgd", loss="mse")
    before = model.canonical_weights()
    model.fit(inputs, np.zeros((len(inputs["x"]), 1)), epochs=1, verbose=0)
    after = model.canonical_weights()
    assert not np.allclose(after["head.W"], before["head.W"])


def _greedy(reference, model, w, inputs, name, steps):
    """The oracle's greedy decoding, by re-running growing sequences."""
    if name == "char_lstm":
        seq = inputs["x"][:, :3]
        for _ in range(steps):
            logits, _ = reference.forward(model, w, {"x": seq})
            seq = np.concatenate([seq, logits[:, -1].argmax(-1)[:, None]], axis=1)
        return seq[:, 3:]
    feed = {k: v for k, v in inputs.items() if k in ("x", "x_lengths", "features")}
    y_in = np.full((len(inputs["y_in"]), 1), model.start_token)
    out = []
    for _ in range(steps):
        logits, _ = reference.forward(model, w, {**feed, "y_in": y_in})
        token = logits[:, -1].argmax(-1)
        if model.end_token is not None and out:
            token = np.where(out[-1] == model.end_token, model.end_token, token)
        out.append(token)
        y_in = np.concatenate([y_in, token[:, None]], axis=1)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("name", ["char_lstm", "seq2seq_gru", "caption_one_to_many"])
def test_generation(name, tf_model, case, reference) -> None:
    model, w, inputs, _ = case(name)
    tf_model_ = tf_model(name)
    if name == "char_lstm":
        args = {"prefix": inputs["x"][:, :3], "steps": 4}
    else:
        args = {k: v for k, v in inputs.items() if k in ("x", "x_lengths", "features")}
        args["steps"] = 4
    greedy = tf_model_.generate(**args)
    assert greedy.shape == (len(inputs["y_in" if "y_in" in inputs else "x"]), 4)
    np.testing.assert_array_equal(greedy, _greedy(reference, model, w, inputs, name, 4))
    drawn = [tf_model_.generate(**args, strategy="top_k", top_k=3, seed=s) for s in (1, 1, 2)]
    np.testing.assert_array_equal(drawn[0], drawn[1])
    sampled = tf_model_.generate(**args, strategy="sample", temperature=2.0, seed=5)
    assert sampled.min() >= 0 and sampled.max() < model.head.out_size
    with pytest.raises(ValueError, match="unknown strategy"):
        tf_model_.generate(**args, strategy="beam")


def test_generation_is_only_emitted_where_outputs_feed_back(tf_module) -> None:
    for name in NAMES:
        can = seqspec.lower_file(ROOT / "examples" / f"{name}.yaml").can_generate
        assert hasattr(tf_module(name).Model, "generate") == can, name
