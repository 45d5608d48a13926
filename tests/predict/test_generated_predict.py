"""The generated predict.py: one script for every backend, golden bytes, lint, imports."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
BACKENDS = ["numpy", "torch", "tensorflow"]
STDLIB = {"argparse", "csv", "io", "json", "math", "os", "sys", "zipfile"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """predict.py of every example and backend, from specs at a fixed relative place."""
    root = tmp_path_factory.mktemp("predict-golden")
    (root / "spec").mkdir()
    out = {}
    for example in EXAMPLES:
        spec = root / "spec" / example.name
        shutil.copy(example, spec)
        for backend in BACKENDS:
            folder = root / "out" / example.stem / backend
            seqspec.compile_spec(spec, backend, folder)
            out[example.stem, backend] = (folder / "predict.py").read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("example", IDS)
def test_one_script_for_every_backend_pinned_by_its_golden(example, compiled, check_golden):
    # the script uses the Model API alone, the same in every backend, through its backend's
    # train runtime
    texts = {
        compiled[example, backend].replace(f"{backend}_train_runtime", "numpy_train_runtime")
        for backend in BACKENDS
    }
    assert len(texts) == 1
    check_golden(texts.pop(), f"{example}/numpy/predict.py")


def test_lint_and_format_clean(compiled, tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    for example in IDS:
        (tmp_path / f"{example}.py").write_text(compiled[example, "numpy"], encoding="utf-8")
    lint = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E,F,W,I,UP,B,SIM", "--line-length", "100",
         "--target-version", "py310", str(tmp_path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([ruff, "format", "--isolated", "--check", "--line-length", "100",
                          str(tmp_path)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_imports_only_numpy_the_standard_library_and_its_folder(compiled):
    for example in IDS:
        text = compiled[example, "numpy"]
        tree = ast.parse(text)
        top = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                top |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                top.add(node.module.split(".")[0])
        assert top <= STDLIB | {"numpy", "model", "train", "numpy_train_runtime"}, (example, top)
        assert "import seqspec" not in text and "from seqspec" not in text
