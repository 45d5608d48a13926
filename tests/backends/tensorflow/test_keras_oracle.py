"""Keras' own layers as an oracle: hand-built Keras models with weights converted by the test
(rnn-semantics.md section 14) give the generated model's numbers.

LSTM, GRU (reset_after True and False), SimpleRNN (tanh, relu, sigmoid) and
keras.layers.Bidirectional, with masks for right and left padding, all in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

ATOL = 1e-12


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


def gates(w, prefix, kind, order):
    """Per-gate canonical matrices (H, in) -> one Keras matrix (in, G*H)."""
    return np.concatenate([w[f"{prefix}.{kind}_{g}"].T for g in order], axis=1)


def lstm(keras, w, prefix, units, **kwargs):
    layer = keras.layers.LSTM(units, dtype="float64", **kwargs)
    layer.build((None, None, w[f"{prefix}.Wx_i"].shape[1]))
    bias = np.concatenate([w[f"{prefix}.b_{g}"] for g in "ifgo"])
    layer.set_weights([gates(w, prefix, "Wx", "ifgo"), gates(w, prefix, "Wh", "ifgo"), bias])
    return layer


def gru(keras, w, prefix, units, reset_after, **kwargs):
    layer = keras.layers.GRU(units, reset_after=reset_after, dtype="float64", **kwargs)
    layer.build((None, None, w[f"{prefix}.Wx_z"].shape[1]))
    b = np.concatenate([w[f"{prefix}.b_{g}"] for g in "zrn"])
    zeros, bhn = np.zeros(units), w[f"{prefix}.bhn"]
    if reset_after:  # row 0 input side, row 1 recurrent side (inside r * (...))
        bias = np.stack([b, np.concatenate([zeros, zeros, bhn])])
    else:  # bhn sits outside the product with r: it adds to b_n
        bias = b + np.concatenate([zeros, zeros, bhn])
    layer.set_weights([gates(w, prefix, "Wx", "zrn"), gates(w, prefix, "Wh", "zrn"), bias])
    return layer


def simple_rnn(keras, w, prefix, units, activation):
    layer = keras.layers.SimpleRNN(units, activation=activation, return_sequences=True,
                                   dtype="float64")
    layer.build((None, None, w[f"{prefix}.Wx_h"].shape[1]))
    layer.set_weights([w[f"{prefix}.Wx_h"].T, w[f"{prefix}.Wh_h"].T, w[f"{prefix}.b_h"]])
    return layer


def head(w, h):
    return h @ w["head.W"].T + w["head.b"]


def test_gru_reset_before_last_state(keras, case, tf_result) -> None:
    _, w, inputs, _ = case("gru_reset_before")
    layer = gru(keras, w, "encoder.layers.0.forward", 20, reset_after=False, return_state=True)
    _, h = layer(inputs["x"])
    got = tf_result("gru_reset_before", "float64")
    np.testing.assert_allclose(got["states"]["encoder.layers.0.forward.h"], h, atol=ATOL, rtol=0)
    np.testing.assert_allclose(got["outputs"]["outputs"], head(w, np.asarray(h)), atol=ATOL,
                               rtol=0)


def test_gru_reset_after_left_padded_mean(keras, case, tf_result) -> None:
    """Keras' generic loop takes the left-padded mask as it is; seqspec rotates the rows."""
    _, w, inputs, _ = case("gru_reset_after")
    x, lengths = inputs["x"], inputs["lengths"]
    steps = x.shape[1]
    mask = np.arange(steps)[None, :] >= (steps - lengths)[:, None]  # valid steps last
    assert not mask.all()
    layer = gru(keras, w, "encoder.layers.0.forward", 16, reset_after=True,
                return_sequences=True, return_state=True, zero_output_for_mask=True)
    y, h = layer(x, mask=mask)
    pooled = np.asarray(y).sum(axis=1) / lengths[:, None]
    got = tf_result("gru_reset_after", "float64")
    np.testing.assert_allclose(got["states"]["encoder.layers.0.forward.h"], h, atol=ATOL, rtol=0)
    np.testing.assert_allclose(got["outputs"]["outputs"], head(w, pooled), atol=ATOL, rtol=0)


def test_stacked_simple_rnn(keras, case, tf_result) -> None:
    _, w, inputs, _ = case("stacked_elman_relu")
    h = w["encoder.embedding"][inputs["x"]]
    for k, (units, act) in enumerate([(16, "tanh"), (12, "relu"), (10, "sigmoid")]):
        h = simple_rnn(keras, w, f"encoder.layers.{k}.forward", units, act)(h)
    got = tf_result("stacked_elman_relu", "float64")
    np.testing.assert_allclose(got["outputs"]["outputs"], head(w, np.asarray(h)), atol=ATOL,
                               rtol=0)


def test_stacked_lstm_right_padded(keras, case, tf_result) -> None:
    _, w, inputs, _ = case("char_lstm")
    mask = np.arange(inputs["x"].shape[1])[None, :] < inputs["lengths"][:, None]
    h = w["encoder.embedding"][inputs["x"]]
    states = {}
    for k in range(2):
        prefix = f"encoder.layers.{k}.forward"
        layer = lstm(keras, w, prefix, 128, return_sequences=True, return_state=True,
                     zero_output_for_mask=True)
        h, states[f"{prefix}.h"], states[f"{prefix}.c"] = layer(h, mask=mask)
    want = head(w, np.asarray(h)) * mask[:, :, None]
    got = tf_result("char_lstm", "float64")
    np.testing.assert_allclose(got["outputs"]["outputs"], want, atol=ATOL, rtol=0)
    for key, value in states.items():
        np.testing.assert_allclose(got["states"][key], value, atol=ATOL, rtol=0, err_msg=key)


def test_bidirectional_against_keras_bidirectional(keras, case, tf_result) -> None:
    """keras.layers.Bidirectional (go_backwards with the mask) against seqspec's two layers
    over reversed valid parts: concat, then sum, then a masked max."""
    _, w, inputs, _ = case("bidirectional_lstm_classifier")
    mask = np.arange(inputs["x"].shape[1])[None, :] < inputs["lengths"][:, None]
    h = inputs["x"]
    states = {}
    for k, mode in enumerate(["concat", "sum"]):
        fw = lstm(keras, w, f"encoder.layers.{k}.forward", 32, return_sequences=True,
                  return_state=True)
        bw = lstm(keras, w, f"encoder.layers.{k}.backward", 32, return_sequences=True,
                  return_state=True, go_backwards=True)
        both = keras.layers.Bidirectional(fw, backward_layer=bw, merge_mode=mode,
                                          dtype="float64")
        both.build((None, None, h.shape[-1]))
        both.forward_layer.set_weights(fw.get_weights())  # Bidirectional clones its layers
        both.backward_layer.set_weights(bw.get_weights())
        h, *parts = both(h, mask=mask)
        for d, part in zip(["forward", "backward"], [parts[:2], parts[2:]], strict=True):
            states[f"encoder.layers.{k}.{d}.h"], states[f"encoder.layers.{k}.{d}.c"] = part
    pooled = np.where(mask[:, :, None], np.asarray(h), -np.inf).max(axis=1)
    got = tf_result("bidirectional_lstm_classifier", "float64")
    np.testing.assert_allclose(got["outputs"]["outputs"], head(w, pooled), atol=ATOL, rtol=0)
    for key, value in states.items():
        np.testing.assert_allclose(got["states"][key], value, atol=ATOL, rtol=0, err_msg=key)
