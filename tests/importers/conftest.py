"""Importer fixtures: every source built once per session, imported once (``imported(case)``)
and compiled once per backend (``compiled_import(case, backend)``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # importlib import mode: make import_sources importable
    sys.path.insert(0, str(HERE))

from import_sources import CASES, NEEDS  # noqa: E402


@pytest.fixture(scope="session")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("import-sources")


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory, source_dir: Path):
    """imported(case) -> (Imported, Report): the source built, read and written, once."""
    from seqspec.importers import read
    from seqspec.importers.common import write

    cache: dict[str, Any] = {}

    def get(case: str) -> Any:
        if case not in cache:
            for module in NEEDS[case.split("_")[0]]:
                pytest.importorskip(module)
            path, options = CASES[case](source_dir)
            imp = read(path, **options)
            report = write(imp, tmp_path_factory.mktemp(case))
            cache[case] = (imp, report)
        return cache[case]

    return get


@pytest.fixture(scope="session")
def compiled_import(tmp_path_factory: pytest.TempPathFactory, imported: Any):
    """compiled_import(case, backend) -> the folder of the imported spec compiled (cached)."""
    import seqspec

    cache: dict[tuple[str, str], Path] = {}

    def get(case: str, backend: str) -> Path:
        if (case, backend) not in cache:
            _, report = imported(case)
            out = tmp_path_factory.mktemp(f"{case}-{backend}")
            seqspec.compile_spec(report.spec_path, backend, out)
            cache[case, backend] = out
        return cache[case, backend]

    return get
