"""Fixtures for the NumPy backend's tests: compiled modules, small specs written on the fly."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any

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


@pytest.fixture(scope="session")
def gradcheck(oracle):
    """The directional finite-difference check (tests/oracle.py), as a fixture."""
    return oracle.directional_check


@pytest.fixture(scope="session")
def examples():
    """(paths, ids) of the example specs."""
    return EXAMPLES, EXAMPLE_IDS
