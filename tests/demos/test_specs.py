"""The demos' specs are real specs: valid, documented, and compiled lint-clean by every backend.

Fast (no training); the demos' own runs are marked `demo`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "examples" / "demos").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/seqspec.schema.json"
BACKENDS = ["numpy", "torch", "tensorflow"]


def test_every_demo_has_specs_and_a_script() -> None:
    demos = sorted(p.stem for p in (ROOT / "demos").glob("*.py") if not p.stem.startswith("_"))
    assert {"char_lm", "adding", "sunspots", "digits", "digits_spell"} <= set(demos)
    for spec in SPECS:  # every spec belongs to a demo: <demo>.yaml or <demo>_<variant>.yaml
        users = [d for d in demos if spec.stem == d or spec.stem.startswith(d + "_")]
        assert users, f"{spec.name} is used by no demo"


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_demo_spec_is_valid_and_documented(spec: Path) -> None:
    lines = spec.read_text(encoding="utf-8").splitlines()
    assert lines[0] == SCHEMA_LINE
    assert lines[1].startswith("# ") and len(lines[1]) > 20, "a comment header says what it is"
    model = seqspec.lower_file(spec)
    assert model.data is not None, "a demo spec names its data"
    assert model.data.source.startswith("data/"), "demo data lives in examples/demos/data/"


@pytest.mark.parametrize("backend", BACKENDS)
def test_demo_specs_compile_lint_clean(backend: str, tmp_path: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    for spec in SPECS:
        out = tmp_path / spec.stem
        seqspec.compile_spec(spec, backend, out)
        assert {"model.py", "train.py"} <= {p.name for p in out.iterdir()}
    result = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E,F,W,I,UP,B,SIM", "--line-length", "100",
         "--target-version", "py310", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_reproduce_command_is_the_command_line_without_its_folders(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "demos"))
    try:
        import _common
    finally:
        sys.path.remove(str(ROOT / "demos"))
    argv = ["--quick", "--out", str(tmp_path / "o"), "--backend", "numpy",
            f"--results={tmp_path / 'r'}"]
    demo, args = _common.parse("adding", "test", argv)
    assert demo.command == "python demos/adding.py --quick --backend numpy"
    assert args.backend == "numpy" and demo.out == (tmp_path / "o").resolve()
    assert demo.results == (tmp_path / "r").resolve()
    assert _common.parse("adding", "test", [])[0].command == "python demos/adding.py"
