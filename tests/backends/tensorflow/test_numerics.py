"""Outputs, final states and gradients of every example against the float64 oracle.

The oracle (reference.py) runs each sequence alone, step by step, from the canonical
equations. Gradients are checked as directional derivatives: for every parameter and float
input, <gradient, v> against a central difference of the oracle's loss along a random v.
The TensorFlow side is the runner (compiled forward and GradientTape backward).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
NAMES = [p.stem for p in sorted((ROOT / "examples").glob("*.yaml"))]
FLOATS = ("x", "features", "y_in", "windows")


def _float_inputs(inputs):
    return [k for k in FLOATS if k in inputs and inputs[k].dtype.kind == "f"]


@pytest.mark.parametrize("name", NAMES)
def test_float64_against_the_oracle(name, case, tf_result, reference) -> None:
    model, w, inputs, d_outputs = case(name)
    want, want_states = reference.forward(model, w, inputs)
    got = tf_result(name, "float64")

    outputs = got["outputs"]["outputs"]
    assert outputs.dtype == np.float64 and outputs.shape == want.shape == d_outputs.shape
    np.testing.assert_allclose(outputs, want, rtol=0, atol=1e-12)
    assert set(got["states"]) == set(want_states)
    for key, value in want_states.items():
        np.testing.assert_allclose(got["states"][key], value, rtol=0, atol=1e-12, err_msg=key)
    if outputs.ndim == 3 and any(k in inputs for k in ("lengths", "y_lengths")):
        padded = want == 0  # the oracle leaves padded positions at exactly 0
        assert padded.any() and (outputs[padded] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_float64_gradients_against_the_oracle(name, case, tf_result, reference) -> None:
    model, w, inputs, d_outputs = case(name)
    grads = tf_result(name, "float64")["grads"]
    floats = _float_inputs(inputs)
    assert set(grads) == set(w) | set(floats)

    def loss(ww, ii):
        return float(np.sum(reference.forward(model, ww, ii)[0] * d_outputs))

    rng, eps = np.random.default_rng(0), 1e-6
    for name_ in [*w, *floats]:
        source = w if name_ in w else inputs
        assert grads[name_].shape == source[name_].shape, name_
        v = rng.normal(size=source[name_].shape)
        plus, minus = dict(source), dict(source)
        plus[name_], minus[name_] = source[name_] + eps * v, source[name_] - eps * v
        if name_ in w:
            fd = (loss(plus, inputs) - loss(minus, inputs)) / (2 * eps)
        else:
            fd = (loss(w, plus) - loss(w, minus)) / (2 * eps)
        got = float(np.sum(grads[name_] * v))
        assert abs(got - fd) <= 1e-6 * max(1.0, abs(fd)), (name_, got, fd)


@pytest.mark.parametrize("name", NAMES)
def test_float32(name, case, tf_result, reference) -> None:
    """float32 outputs and states against the oracle, gradients against float64's (<= 1e-5)."""
    model, w, inputs, _ = case(name)
    want, want_states = reference.forward(model, w, inputs)
    got, exact = tf_result(name, "float32"), tf_result(name, "float64")
    assert got["outputs"]["outputs"].dtype == np.float32
    np.testing.assert_allclose(got["outputs"]["outputs"], want, rtol=0, atol=1e-5)
    for key, value in want_states.items():
        np.testing.assert_allclose(got["states"][key], value, rtol=0, atol=1e-5, err_msg=key)
    assert set(got["grads"]) == set(exact["grads"])
    for key, value in exact["grads"].items():
        np.testing.assert_allclose(got["grads"][key], value, rtol=0, atol=1e-5, err_msg=key)
