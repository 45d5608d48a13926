"""Fixtures of the torch backend tests: torch imported once, compiled models cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import seqspec
from seqspec import ir

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BY_NAME = {p.stem: p for p in EXAMPLES}


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch, imported once per session (a skip with a reason when it is not installed)."""
    return pytest.importorskip("torch", reason="the torch backend needs PyTorch")


@pytest.fixture(scope="session")
def reference(oracle) -> ModuleType:
    """The float64 step-by-step oracle (tests/oracle.py): on torch tensors, autograd."""
    return oracle


@pytest.fixture(scope="session")
def torch_module(torch, compiled_dir) -> Callable[[str], ModuleType]:
    """torch_module(example name) -> its generated model.py, compiled and imported once."""
    from seqspec.backends.torch.runner import load_module

    cache: dict[str, ModuleType] = {}

    def get(name: str) -> ModuleType:
        if name not in cache:
            cache[name] = load_module(compiled_dir(BY_NAME[name], "torch"))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def compile_text(torch, tmp_path_factory) -> Callable[[str, str], tuple[ModuleType, ir.Model]]:
    """compile_text(name, yaml) -> (generated module, IR) for a spec written in a test."""
    from seqspec.backends.torch.runner import load_module

    root = tmp_path_factory.mktemp("torch-specs")
    cache: dict[str, tuple[ModuleType, ir.Model]] = {}

    def get(name: str, text: str) -> tuple[ModuleType, ir.Model]:
        if name not in cache:
            path = root / f"{name}.yaml"
            path.write_text(text, encoding="utf-8")
            seqspec.compile_spec(path, "torch", root / name)
            cache[name] = load_module(root / name), seqspec.lower_file(path)
        return cache[name]

    return get
