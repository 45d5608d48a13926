"""Shared fixtures: the example specs, golden-file updating, compiled-model caching."""

from __future__ import annotations

from pathlib import Path

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
