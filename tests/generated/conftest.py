"""Every example compiled by every backend once per session, for the generated-code suite.

The specs are copied to <tmp>/spec/ and compiled to <tmp>/out/<example>/<backend>/, so the data
path train.py holds (relative to its folder) is the same on every machine and the goldens stay
put. The suite reads whatever files the emitter writes: model.py, train.py, predict.py today;
also the runtime modules after issue 15.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import seqspec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: The bundled examples, plus specs in specs/ that reach runtime code no example reaches.
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml")) + sorted((HERE / "specs").glob("*.yaml"))
BACKENDS = ("numpy", "torch", "tensorflow")


def _load(name: str) -> ModuleType:
    """A helper module of this folder (pytest runs with --import-mode=importlib)."""
    if f"seqspec_tests_{name}" not in sys.modules:
        spec = importlib.util.spec_from_file_location(f"seqspec_tests_{name}", HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules[f"seqspec_tests_{name}"]


@dataclass(frozen=True)
class Compiled:
    """One example compiled by one backend."""

    folder: Path
    files: dict[str, str]  # relative path -> text, every file the emitter wrote


def compile_all(root: Path,
                backends: tuple[str, ...] = BACKENDS) -> dict[tuple[str, str], Compiled]:
    """{(example, backend): Compiled} for every example, compiled under `root`."""
    (root / "spec").mkdir(parents=True)
    out = {}
    for example in EXAMPLES:
        spec = root / "spec" / example.name
        shutil.copy(example, spec)
        for backend in backends:
            folder = root / "out" / example.stem / backend
            written = seqspec.compile_spec(spec, backend, folder)
            out[example.stem, backend] = Compiled(folder, {
                p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(written)})
    return out


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Compiled]:
    """{(example, backend): Compiled}: every example, every backend, compiled once."""
    return compile_all(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="session")
def deadcode() -> ModuleType:
    return _load("deadcode")


@pytest.fixture(scope="session")
def golden() -> ModuleType:
    return _load("golden")


@pytest.fixture(scope="session")
def compiled_again(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Compiled]:
    """The same compiled a second time, into another folder (for determinism)."""
    return compile_all(tmp_path_factory.mktemp("generated-again"))


_PLAN: dict[str, tuple[dict[str, tuple[str, ...]], frozenset[str]]] = {}


def golden_plan_now() -> dict[str, tuple[dict[str, tuple[str, ...]], frozenset[str]]]:
    """{backend: ({example: files its goldens pin}, features no example shows)}, computed once."""
    if not _PLAN:
        from seqspec import registry

        golden = _load("golden")
        models = {p.stem: seqspec.lower_file(p) for p in EXAMPLES}
        for backend in BACKENDS:
            _PLAN[backend] = golden.plan(registry.get(backend).features, models)
    return _PLAN


@pytest.fixture(scope="session")
def golden_plan() -> dict[str, tuple[dict[str, tuple[str, ...]], frozenset[str]]]:
    return golden_plan_now()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """golden_case: (backend, example) for each example the goldens of a backend pin."""
    if "golden_case" in metafunc.fixturenames:
        cases = [(b, e) for b, (files, _) in golden_plan_now().items() for e in files]
        metafunc.parametrize("golden_case", cases, ids=[f"{b}-{e}" for b, e in cases])
