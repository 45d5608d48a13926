"""Fixtures of the TensorFlow backend tests: TensorFlow imported once, compiled models cached."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BY_NAME = {p.stem: p for p in EXAMPLES}

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter


@pytest.fixture(scope="session")
def reference(oracle) -> ModuleType:
    """The float64 step-by-step oracle (tests/oracle.py), on NumPy arrays."""
    return oracle


@pytest.fixture(scope="session")
def tf() -> ModuleType:
    """TensorFlow, imported once per session (a skip with a reason when it is not installed)."""
    return pytest.importorskip("tensorflow", reason="the TensorFlow backend needs TensorFlow")


@pytest.fixture(scope="session")
def tf_module(tf, compiled_dir):
    """tf_module(name) -> the generated model.py of an example, compiled and imported once."""
    from seqspec.backends.tensorflow.runner import load_module

    cache: dict[str, ModuleType] = {}

    def get(name: str) -> ModuleType:
        if name not in cache:
            cache[name] = load_module(compiled_dir(BY_NAME[name], "tensorflow"))
        return cache[name]

    return get


def output_shape(model, inputs) -> tuple[int, ...]:
    """The shape of a model's outputs for a batch from seqspec.testing.make_inputs."""
    if model.ar is not None:
        return (len(inputs["windows"]), 1)
    if model.scheme == "many_to_one":
        return (len(inputs["x"]), model.head.out_size)
    seq = inputs["x"] if model.scheme == "many_to_many" else inputs["y_in"]
    return (*seq.shape[:2], model.head.out_size)


@pytest.fixture(scope="session")
def case():
    """case(name) -> (ir model, weights, inputs, d_outputs): the standard equivalence batch
    (random_weights seed 0, make_inputs seed 0, output_cotangent)."""
    import seqspec
    from seqspec.testing import make_inputs, output_cotangent
    from seqspec.weights import random_weights

    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            model = seqspec.lower_file(BY_NAME[name])
            inputs = make_inputs(model)
            cache[name] = (model, random_weights(model), inputs,
                           output_cotangent(output_shape(model, inputs)))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def tf_result(tf, compiled_dir, case):
    """tf_result(name, dtype) -> the TensorFlow runner's result for case(name), run once."""
    from seqspec.backends.tensorflow import runner

    cache: dict[tuple[str, str], dict] = {}

    def get(name: str, dtype: str) -> dict:
        if (name, dtype) not in cache:
            _, w, inputs, d_outputs = case(name)
            model_dir = compiled_dir(BY_NAME[name], "tensorflow")
            cache[name, dtype] = runner.run(model_dir, w, inputs, d_outputs, dtype)
        return cache[name, dtype]

    return get


@pytest.fixture(scope="session")
def tf_model(tf_module, case):
    """tf_model(name, dtype="float64") -> a generated Model with case(name)'s weights, built
    once (its compiled functions trace once per input signature)."""
    cache: dict[tuple[str, str], object] = {}

    def get(name: str, dtype: str = "float64"):
        if (name, dtype) not in cache:
            cache[name, dtype] = tf_module(name).Model(case(name)[1], dtype=dtype)
        return cache[name, dtype]

    return get
