"""Random valid specs: NumPy and every installed backend agree within tolerance.

Backends run in this process (fast): NumPy in float64 as the reference, torch and TensorFlow in
float64 (outputs, states and gradients within 1e-9), onnxruntime in float32 (outputs and states
within 1e-5). ``seqspec check`` runs the same comparisons in separate processes.
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from budget import STATS, budget
from hypothesis import given, note
from hypothesis import strategies as st
from spec_strategies import specs

import seqspec
from seqspec.check import output_shape
from seqspec.check.compare import compare_results
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import random_weights


def _runner(name: str, framework: str):
    """The backend's runner module, or None when it or its framework is missing."""
    if importlib.util.find_spec(framework) is None:
        return None
    try:
        from seqspec import registry

        package = registry.get(name).package
    except Exception:
        return None
    if importlib.util.find_spec(f"{package}.runner") is None:
        return None
    return importlib.import_module(f"{package}.runner")


NUMPY = _runner("numpy", "numpy")
OTHERS = {name: r for name, fw in (("torch", "torch"), ("tensorflow", "tensorflow"))
          if (r := _runner(name, fw)) is not None}
HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
assert NUMPY is not None, "the NumPy reference backend must have a runner"


def _onnx_run(model, weights, inputs) -> dict:
    import onnxruntime as ort

    from seqspec.onnx import export

    session = ort.InferenceSession(export(model, weights).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    feeds = {a.name: inputs[a.name].astype(np.int64 if "int" in a.type else np.float32)
             for a in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    values = dict(zip(names, session.run(names, feeds), strict=True))
    return {"outputs": {"outputs": values.pop("outputs")}, "states": values, "grads": {}}


def _agree(spec: dict, batch: int, steps: int) -> None:
    start = time.perf_counter()
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        model = seqspec.lower_file(path)
        weights = random_weights(model, 0)
        inputs = make_inputs(model, batch=batch, steps=steps, seed=0)
        g = output_cotangent(output_shape(model, inputs))
        seqspec.compile_spec(path, "numpy", Path(tmp) / "numpy")
        ref = NUMPY.run(Path(tmp) / "numpy", weights, inputs, g, "float64")
        failures = []
        for name, runner in OTHERS.items():
            from seqspec import registry

            if not model.features <= registry.get(name).features:
                continue
            seqspec.compile_spec(path, name, Path(tmp) / name)
            got = runner.run(Path(tmp) / name, weights, inputs, g, "float64")
            rows = compare_results(("numpy", name), ref, got, "float64")
            failures += [r for r in rows if not r.passed]
            STATS.compared[name] = STATS.compared.get(name, 0) + 1
        if HAS_ONNX:
            rows = compare_results(("numpy", "onnx"), ref, _onnx_run(model, weights, inputs),
                                   "float32", gradients=False)
            failures += [r for r in rows if not r.passed]
            STATS.compared["onnx"] = STATS.compared.get("onnx", 0) + 1
    STATS.record("equivalence", time.perf_counter() - start)
    assert not failures, "\n".join(
        f"{r.quantity} {'~'.join(r.pair)}: {r.max_abs:.3g} > {r.tolerance} {r.note}"
        for r in failures) + "\n" + text


@budget("equivalence")
@given(spec=specs(), batch=st.integers(1, 3), steps=st.integers(1, 5))
def test_random_specs_agree_across_backends(spec: dict, batch: int, steps: int) -> None:
    _agree(spec, batch, steps)
