"""A built wheel carries the templates and works outside the source tree.

The wheel is built from a copy of the sources (so the shared working tree gets no build/ or
egg-info), installed without network into a fresh venv that sees the system's packages
(pydantic, PyYAML, Jinja2, numpy), and run from an unrelated folder, checking that the venv's
seqspec, not the editable checkout, is the one imported.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "seqspec", "backends")
REQUIRED = (
    "seqspec/cli.py",
    "seqspec/__main__.py",
    "seqspec/py.typed",
    "seqspec/templates/_runtime_weights.py.j2",
    "seqspec/templates/_train_*.py.j2",
    "seqspec/onnx/__init__.py",
    "seqspec/importers/__init__.py",
    "seqspec/backends/numpy/templates/*.j2",
    "seqspec/backends/torch/templates/*.j2",
    "seqspec/backends/tensorflow/templates/*.j2",
    "seqspec/backends/*/runner.py",
)


def _run(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env,
                          **kw)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        elif path.exists():
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "--quiet", "-w", str(dist)], cwd=src)
    (built,) = dist.glob("seqspec-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(home)], cwd=home.parent)
    python = home / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          str(wheel)], cwd=home.parent)
    return home


def test_wheel_carries_code_and_templates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    for pattern in REQUIRED:
        assert fnmatch.filter(names, pattern), f"the wheel lacks {pattern}"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "seqspec = seqspec.cli:main" in zf.read(entry_points).decode()
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def test_installed_seqspec_validates_from_elsewhere(venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    where = _run([str(python), "-c", "import seqspec, json; print(json.dumps(seqspec.__file__))"],
                 cwd=tmp_path)
    imported = Path(json.loads(where.stdout))
    assert imported.is_relative_to(venv), f"imported {imported}, not the venv's seqspec"
    assert not imported.is_relative_to(ROOT)

    spec = tmp_path / "elman_lm.yaml"
    shutil.copy2(ROOT / "examples" / "elman_lm.yaml", spec)
    proc = _run([str(venv / "bin" / "seqspec"), "validate", "elman_lm.yaml"], cwd=tmp_path)
    assert proc.stdout == "elman_lm.yaml: ok\n"
    proc = _run([str(venv / "bin" / "seqspec"), "inspect", "elman_lm.yaml"], cwd=tmp_path)
    assert "1,610,000" in proc.stdout


def test_installed_seqspec_compiles_numpy(venv: Path, tmp_path: Path) -> None:
    shutil.copy2(ROOT / "examples" / "char_lstm.yaml", tmp_path / "char_lstm.yaml")
    proc = _run([str(venv / "bin" / "seqspec"), "compile", "char_lstm.yaml", "--backend",
                 "numpy", "-o", "out"], cwd=tmp_path)
    assert "out/model.py" in proc.stdout.splitlines()
    assert (tmp_path / "out" / "model.py").is_file()
    text = (tmp_path / "out" / "model.py").read_text()
    assert "seqspec" not in [line.split()[1] for line in text.splitlines()
                             if line.startswith(("import ", "from "))]
