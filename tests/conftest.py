"""Shared fixtures: the example specs, golden-file updating, compiled-model caching."""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_IDS = [p.stem for p in EXAMPLES]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current templates instead of comparing",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def check_golden(update_golden: bool):
    """check_golden(text, "<backend>/<example>/<file>"): compare with tests/golden byte for byte
    (tests/generated; the older per-backend tests still pass "<example>/<backend>/<file>").

    With --update-golden the file is rewritten instead; a mismatch fails with a unified diff and
    the command that updates the goldens.
    """

    def check(text: str, relative: str) -> None:
        golden = ROOT / "tests" / "golden" / relative
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8")
            return
        if not golden.exists():
            pytest.fail(f"no golden file {golden}; create it with: pytest --update-golden")
        expected = golden.read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=str(golden), tofile="generated", n=2))
            pytest.fail(f"the generated file differs from {golden}:\n{diff[:6000]}\n"
                        "if the change is intended: pytest --update-golden")

    return check


@pytest.fixture(scope="session")
def compiled_dir(tmp_path_factory: pytest.TempPathFactory):
    """compiled_dir(example_path, backend) -> a folder holding the compiled model (cached)."""
    import seqspec

    cache: dict[tuple[str, str], Path] = {}

    def compile_(example: Path, backend: str) -> Path:
        key = (str(example), backend)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{Path(example).stem}-{backend}")
            seqspec.compile_spec(example, backend, out)
            cache[key] = out
        return cache[key]

    return compile_


@pytest.fixture(scope="session")
def oracle() -> ModuleType:
    """tests/oracle.py: the one float64 step-by-step oracle (NumPy arrays or torch autograd)
    and the finite-difference check (test modules cannot import it: --import-mode=importlib)."""
    name = "seqspec_tests_oracle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "oracle.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
