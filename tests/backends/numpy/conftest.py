"""Fixtures for the NumPy backend's tests: compiled modules, small specs written on the fly."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import yaml

from seqspec import ir

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_IDS = [p.stem for p in EXAMPLES]


@pytest.fixture(scope="session")
def numpy_model(compiled_dir):
    """numpy_model(spec_path) -> (the lowered IR, the imported generated module), cached."""
    from seqspec.backends.numpy.runner import load_module

    from seqspec.api import lower_file

    cache: dict[str, tuple[ir.Model, ModuleType]] = {}

    def get(path: Path) -> tuple[ir.Model, ModuleType]:
        key = str(path)
        if key not in cache:
            cache[key] = (lower_file(path), load_module(compiled_dir(Path(path), "numpy")))
        return cache[key]

    return get


@pytest.fixture(scope="session")
def spec_model(tmp_path_factory, numpy_model):
    """spec_model(model_dict) -> (IR, module) for a spec with that `model:` section."""
    folder = tmp_path_factory.mktemp("specs")

    def build(model: dict[str, Any]) -> tuple[ir.Model, ModuleType]:
        text = yaml.safe_dump({"seqspec": 1, "name": "t", "model": model}, sort_keys=True)
        path = folder / f"t_{hashlib.sha256(text.encode()).hexdigest()[:16]}.yaml"
        if not path.exists():
            path.write_text(text)
        return numpy_model(path)

    return build


def directional_check(model, weights, inputs, *, seed=0, eps=1e-4, truncate=None, extra=None,
                      names=None):
    """Compare backward() with finite differences along a random direction, per parameter.

    Returns {name: relative error} for every parameter and float input (or `names`).
    """
    extra = extra or {}
    out, _ = model.forward(**inputs, **extra)
    G = np.random.default_rng(seed + 1).normal(size=out.shape)
    grads = model.backward(G, truncate=truncate)
    rng = np.random.default_rng(seed + 2)

    def loss(w, x):
        model.load_weights(w)
        o, _ = model.forward(**x, **extra)
        return float(np.sum(o * G))

    errors = {}
    for name in names or grads:
        is_input = name in inputs
        base = inputs[name] if is_input else weights[name]
        v = rng.normal(size=base.shape)
        values = []
        for step in (2.0, 1.0, -1.0, -2.0):
            w, x = dict(weights), dict(inputs)
            (x if is_input else w)[name] = base + step * eps * v
            values.append(loss(w, x))
        # the fourth-order central difference: error O(eps^4) instead of O(eps^2)
        numeric = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
        analytic = float(np.sum(grads[name] * v))
        # relative error; the 1e-6 in the denominator judges derivatives near 0 against the
        # finite differences' own rounding noise (about 1e-12 here) instead of against 0
        errors[name] = abs(numeric - analytic) / (max(abs(numeric), abs(analytic)) + 1e-6)
    model.load_weights(weights)
    return errors


@pytest.fixture(scope="session")
def gradcheck():
    """The directional finite-difference check, as a fixture (test modules cannot import it)."""
    return directional_check


@pytest.fixture(scope="session")
def examples():
    """(paths, ids) of the example specs."""
    return EXAMPLES, EXAMPLE_IDS
