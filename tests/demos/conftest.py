"""Run a demo's reduced version (--quick) in a temporary folder and read what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_demo(tmp_path):
    """run_demo("adding", *args) -> the demo's results JSON (its --quick run, in tmp_path)."""

    def run(name: str, *args: str) -> dict:
        out, results = tmp_path / "out", tmp_path / "results"
        argv = [sys.executable, str(ROOT / "demos" / f"{name}.py"), "--quick", "--out", str(out),
                "--results", str(results), *args]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])
        assert (results / f"{name}.md").exists()
        return json.loads((results / f"{name}.json").read_text(encoding="utf-8"))

    return run
