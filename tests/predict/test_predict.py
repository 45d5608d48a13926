"""Model.predict in every backend: inference mode whatever the model's mode, batched, NumPy out,
the same numbers as the NumPy reference."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from seqspec import testing, weights

from .test_inputs import CLASSIFIER

BACKENDS = ["numpy", "torch", "tensorflow"]


@pytest.fixture(scope="module")
def activity(compile_text):
    """(ir, {backend: float64 Model}) of the dropout classifier, same random weights."""
    built = {}
    for backend in BACKENDS:
        if backend != "numpy":
            pytest.importorskip(backend)
        model_ir, folder = compile_text("activity", CLASSIFIER, backend)
        runner = importlib.import_module(f"seqspec.backends.{backend}.runner")
        extra = {"device": "cpu"} if backend == "torch" else {}
        w = weights.random_weights(model_ir, 0, scale=2.0)
        built[backend] = runner.load_module(folder).Model(w, dtype="float64", **extra)
    return model_ir, built


def test_predict_agrees_with_numpy_in_batches_of_any_size(activity):
    model_ir, built = activity
    inputs = testing.make_inputs(model_ir, batch=7, steps=6)
    reference = built["numpy"].predict(**inputs)
    assert isinstance(reference, np.ndarray) and reference.shape == (7, 3)
    for backend, model in built.items():
        for batch_size in (None, 1, 3, 7, 100):
            out = model.predict(**inputs, batch_size=batch_size)
            assert isinstance(out, np.ndarray), backend
            np.testing.assert_allclose(out, reference, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{backend} batch_size={batch_size}")


def test_probabilities_and_classes(activity):
    model_ir, built = activity
    inputs = testing.make_inputs(model_ir, batch=5, steps=4)
    logits = built["numpy"].predict(**inputs)
    for backend, model in built.items():
        proba = model.predict_proba(**inputs, batch_size=2)
        np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-12, err_msg=backend)
        expected = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(proba, expected, rtol=1e-9, err_msg=backend)
        np.testing.assert_array_equal(model.predict_classes(**inputs), logits.argmax(axis=-1))


def test_torch_predict_turns_dropout_off_and_keeps_the_mode(activity):
    model_ir, built = activity
    model = built["torch"]
    inputs = testing.make_inputs(model_ir, batch=4, steps=6)
    model.train()  # a fresh torch module is in training mode: dropout on in model(...)
    first, second = model.predict(**inputs), model.predict(**inputs)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, built["numpy"].predict(**inputs), rtol=1e-9, atol=1e-12)
    assert model.training  # the mode it was in is back
    a, b = model(**inputs)[0], model(**inputs)[0]  # and the module itself still drops out
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    model.eval()


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True])
def test_a_bad_batch_size_is_the_same_error_everywhere(activity, batch_size):
    model_ir, built = activity
    inputs = testing.make_inputs(model_ir, batch=2, steps=3)
    for backend, model in built.items():
        with pytest.raises(ValueError) as error:
            model.predict(**inputs, batch_size=batch_size)
        assert str(error.value) == (
            f"batch_size must be None or a positive integer, got {batch_size!r}"), backend


def test_predict_checks_its_inputs(activity):
    model_ir, built = activity
    inputs = testing.make_inputs(model_ir, batch=2, steps=3)
    for model in built.values():
        with pytest.raises(ValueError, match=r"^lengths is required \(the spec declares"):
            model.predict(x=inputs["x"])
