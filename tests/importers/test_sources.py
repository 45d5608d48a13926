"""Import models built in ONNX, Keras and PyTorch, then compare every backend's compiled model
with the source on fresh random inputs (variable lengths where the model has them): float32
within 1e-5, float64 within 1e-9 where the source runs in float64."""

from __future__ import annotations

import numpy as np
import pytest
from import_sources import CASES, EXPECTED, summary

import seqspec
from seqspec.importers.common import TOLERANCE, check_inputs, softmax, valid_mask
from seqspec.weights import load_npz

BACKENDS = ("numpy", "torch", "tensorflow")


def _runner(backend: str):
    if backend != "numpy":
        pytest.importorskip("tensorflow" if backend == "tensorflow" else "torch")
    import importlib

    return importlib.import_module(f"seqspec.backends.{backend}.runner")


@pytest.mark.parametrize("case", list(CASES))
def test_the_import_reads_the_architecture(case: str, imported) -> None:
    imp, report = imported(case)
    assert summary(imp.model, imp.dtype) == EXPECTED[case]
    assert report.dtype == imp.dtype
    text = report.spec_path.read_text()
    assert text.startswith("# Imported by `seqspec import`")
    assert seqspec.load(report.spec_path).model.scheme == imp.model["scheme"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_backend_reproduces_the_source(case: str, backend: str, imported,
                                             compiled_import) -> None:
    imp, report = imported(case)
    assert report.max_difference <= TOLERANCE[imp.dtype]
    model = seqspec.lower_file(report.spec_path)
    inputs = check_inputs(imp, model, seed=7, batch=3, steps=5)
    theirs = np.asarray(imp.run_source(inputs), dtype=np.float64)
    result = _runner(backend).run(compiled_import(case, backend), load_npz(
        report.weights_path), inputs, None, imp.dtype)
    ours = np.asarray(result["outputs"]["outputs"], dtype=np.float64)
    if imp.softmax_output:
        ours = softmax(ours)
    assert ours.shape == theirs.shape
    mask = valid_mask(model, inputs, ours.shape)
    assert mask.any()
    assert np.abs(ours - theirs)[mask].max() <= TOLERANCE[imp.dtype]
