"""Start-up stays light: validating never imports a framework, jinja2 or numpy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax")


def _imported(args: list[str]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", line)
        if m:
            names.add(m.group(1))
    assert names, "python -X importtime printed nothing"
    return names


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def test_validate_imports_no_framework_nor_codegen() -> None:
    names = _imported(["-m", "seqspec", "validate", "examples/elman_lm.yaml"])
    assert "seqspec.api" in names and "pydantic" in names  # the probe sees real imports
    assert not _top(names) & {*FRAMEWORKS, "jinja2", "numpy"}
    assert "seqspec.weights" not in names and "seqspec.testing" not in names


def test_import_seqspec_is_light() -> None:
    names = _imported(["-c", "import seqspec"])
    assert "seqspec" in names
    assert not _top(names) & {*FRAMEWORKS, "pydantic", "yaml", "jinja2", "numpy"}


def test_backends_and_schema_import_no_framework() -> None:
    for args in (["-m", "seqspec", "backends"], ["-m", "seqspec", "schema"],
                 ["-m", "seqspec", "inspect", "examples/char_lstm.yaml"]):
        names = _imported(args)
        assert not _top(names) & set(FRAMEWORKS), args
