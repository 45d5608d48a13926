"""The comparison rules of ``seqspec check``: tolerances per dtype and quantity, and failures."""

from __future__ import annotations

import numpy as np
import pytest

from seqspec.check.compare import compare_arrays, compare_results, summarize, tolerance

PAIR = ("numpy", "torch")


def test_float64_is_absolute_1e9() -> None:
    a = np.ones((2, 3))
    assert compare_arrays("outputs", "outputs", PAIR, a, a + 0.9e-9, "float64").passed
    assert not compare_arrays("outputs", "outputs", PAIR, a, a + 1.1e-9, "float64").passed
    assert not compare_arrays("grads", "head.W", PAIR, a, a + 1.1e-9, "float64").passed


def test_float32_outputs_and_states_are_absolute_1e5() -> None:
    a = np.full((4,), 1000.0)  # absolute: large values get no extra room
    assert compare_arrays("states", "s", PAIR, a, a + 0.9e-5, "float32").passed
    assert not compare_arrays("states", "s", PAIR, a, a + 2e-5, "float32").passed


def test_float32_gradients_are_relative_to_their_largest_entry() -> None:
    g = np.array([100.0, -3.0, 0.5])
    assert compare_arrays("grads", "W", PAIR, g, g + 9e-3, "float32").passed  # 9e-5 of 100
    assert not compare_arrays("grads", "W", PAIR, g, g + 2e-2, "float32").passed
    zero = np.zeros(3)
    assert compare_arrays("grads", "W", PAIR, zero, zero, "float32").passed
    assert not compare_arrays("grads", "W", PAIR, zero, zero + 1e-30, "float32").passed


@pytest.mark.parametrize(("a", "b", "note"), [
    (np.zeros(3), None, "missing in torch"),
    (np.zeros(3), np.zeros(4), "shape (3,) vs (4,)"),
    (np.zeros(3), np.array([0.0, np.nan, 0.0]), "non-finite values"),
    (np.zeros(3), np.array([0.0, np.inf, 0.0]), "non-finite values"),
])
def test_malformed_quantities_fail(a, b, note) -> None:
    c = compare_arrays("outputs", "outputs", PAIR, a, b, "float64")
    assert not c.passed
    assert c.note == note


def test_results_compare_every_state_and_gradient_and_name_the_worst() -> None:
    a = {"outputs": {"outputs": np.zeros(2)},
         "states": {"encoder.layers.0.forward.h": np.zeros(2)},
         "grads": {"head.W": np.ones(2), "head.b": np.ones(2)}}
    b = {"outputs": {"outputs": np.zeros(2)},
         "states": {"encoder.layers.0.forward.h": np.zeros(2)},
         "grads": {"head.W": np.ones(2), "head.b": np.ones(2) + 1e-3}}
    rows = compare_results(PAIR, a, b, "float64")
    assert [r.quantity for r in rows] == [
        "outputs", "states[encoder.layers.0.forward.h]", "grads[head.W]", "grads[head.b]"]
    assert [r.passed for r in rows] == [True, True, True, False]
    summary = {r.group: r for r in summarize(rows)}
    assert summary["grads"].name == "worst: head.b"
    assert not summary["grads"].passed
    assert "head.b" in summary["grads"].note
    assert len(compare_results(PAIR, a, b, "float64", gradients=False)) == 2


def test_tolerance_table() -> None:
    assert str(tolerance("outputs", "float64")) == "abs<=1e-09"
    assert str(tolerance("grads", "float64")) == "abs<=1e-09"
    assert str(tolerance("states", "float32")) == "abs<=1e-05"
    assert str(tolerance("grads", "float32")) == "rel<=1e-04"
