"""TensorFlow against the NumPy reference backend: same canonical weights, same batch
(random_weights, make_inputs with padding garbage), dropout off.

float64: outputs, final states and gradients (every parameter and float input) within 1e-9
(measured: <= 2e-14). float32: within 1e-5 of NumPy's float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
NAMES = [p.stem for p in EXAMPLES]
BY_NAME = {p.stem: p for p in EXAMPLES}


@pytest.fixture(scope="module")
def numpy_result(compiled_dir, case):
    """numpy_result(name) -> the NumPy runner's float64 result for case(name)."""
    from seqspec.backends.numpy import runner
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            _, w, inputs, d_outputs = case(name)
            cache[name] = runner.run(compiled_dir(BY_NAME[name], "numpy"), w, inputs,
                                     d_outputs, "float64")
        return cache[name]

    return get


def _compare(got: dict, want: dict, atol: float) -> None:
    np.testing.assert_allclose(got["outputs"]["outputs"], want["outputs"]["outputs"],
                               rtol=0, atol=atol)
    for part in ("states", "grads"):
        assert set(got[part]) == set(want[part]), part
        for key, value in want[part].items():
            assert got[part][key].shape == value.shape, key
            np.testing.assert_allclose(got[part][key], value, rtol=0, atol=atol,
                                       err_msg=f"{part} {key}")


@pytest.mark.parametrize("name", NAMES)
def test_float64_equals_numpy(name, tf_result, numpy_result) -> None:
    _compare(tf_result(name, "float64"), numpy_result(name), atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_float32_equals_numpy(name, tf_result, numpy_result) -> None:
    _compare(tf_result(name, "float32"), numpy_result(name), atol=1e-5)


@pytest.mark.parametrize("name", ["char_lstm", "seq2seq_gru", "caption_one_to_many"])
def test_generation_equals_numpy(name, compiled_dir, case, tf_model) -> None:
    """Same seed, same tokens: greedy, top-k and temperature sampling."""
    from seqspec.backends.numpy import runner as numpy_runner
    _, w, inputs, _ = case(name)
    module = numpy_runner.load_module(compiled_dir(BY_NAME[name], "numpy"))
    reference = module.Model(w, dtype="float64")
    if name == "char_lstm":
        args = {"prefix": inputs["x"][:, :3], "steps": 5}
    else:
        args = {k: v for k, v in inputs.items() if k in ("x", "x_lengths", "features")}
        args["steps"] = 5
    for options in ({}, {"strategy": "top_k", "top_k": 4, "seed": 3},
                    {"strategy": "sample", "temperature": 1.5, "seed": 11}):
        np.testing.assert_array_equal(tf_model(name).generate(**args, **options),
                                      reference.generate(**args, **options), err_msg=str(options))
