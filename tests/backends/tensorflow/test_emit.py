"""The TensorFlow emitter: golden files, determinism, lint, standalone imports (no TensorFlow)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import seqspec
from seqspec import registry

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
ALLOWED = {"tensorflow", "keras", "numpy"} | set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def all_compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example compiled into one folder (one ruff run for all of them)."""
    out = tmp_path_factory.mktemp("tf-all")
    for example in EXAMPLES:
        seqspec.compile_spec(example, "tensorflow", out / example.stem)
    return out


def test_registered() -> None:
    backend = registry.get("tensorflow")
    assert backend.name == "tensorflow"
    assert backend.framework == "tensorflow"
    assert backend.package == "seqspec.backends.tensorflow"
    for feature in ("lstm_peepholes", "jordan", "gru_reset_before", "bidirectional"):
        assert feature in backend.features


def test_importing_the_backend_does_not_import_tensorflow() -> None:
    code = ("import sys, seqspec.backends.tensorflow as b; "
            "assert b.backend.name == 'tensorflow'; assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_example_feature_is_supported() -> None:
    backend = registry.get("tensorflow")
    for example in EXAMPLES:
        missing = seqspec.lower_file(example).features - backend.features
        assert not missing, f"{example.name}: {sorted(missing)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden(example: Path, all_compiled: Path, check_golden) -> None:
    got = (all_compiled / example.stem / "model.py").read_text(encoding="utf-8")
    check_golden(got, f"{example.stem}/tensorflow/model.py")


def test_deterministic(tmp_path: Path, all_compiled: Path) -> None:
    for example in EXAMPLES:
        seqspec.compile_spec(example, "tensorflow", tmp_path / example.stem)
        again = (tmp_path / example.stem / "model.py").read_bytes()
        assert again == (all_compiled / example.stem / "model.py").read_bytes(), example.name
        text = again.decode()
        assert str(ROOT) not in text and str(tmp_path) not in text  # no absolute paths


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_check(all_compiled: Path) -> None:
    files = [str(all_compiled / example.stem / "model.py") for example in EXAMPLES]
    result = subprocess.run(
        ["ruff", "check", "--isolated", "--select", "E,F,W,I,UP,B,SIM", "--line-length", "100",
         *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_format_outside_shared_table(all_compiled: Path, tmp_path: Path) -> None:
    """Everything this backend's templates write is ruff-formatted (the shared PARAMETERS
    table renders single-quoted pyrepr literals, so it is cut out first)."""
    for example in EXAMPLES:
        text = (all_compiled / example.stem / "model.py").read_text(encoding="utf-8")
        start = text.index("PARAMETERS = {\n")
        end = text.index("\n}\n", start) + 3
        (tmp_path / f"{example.stem}.py").write_text(text[:start] + text[end:], encoding="utf-8")
    result = subprocess.run(
        ["ruff", "format", "--check", "--diff", "--isolated", "--line-length", "100",
         str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_standalone_imports(example: Path, all_compiled: Path) -> None:
    """Generated code imports only TensorFlow / Keras, NumPy and the standard library."""
    tree = ast.parse((all_compiled / example.stem / "model.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            names.add((node.module or "").split(".")[0])
    assert names <= ALLOWED, sorted(names - ALLOWED)
    assert "seqspec" not in names


def test_only_used_cells_are_emitted(all_compiled: Path) -> None:
    text = (all_compiled / "jordan_series" / "model.py").read_text(encoding="utf-8")
    assert "class JordanCell" in text
    for absent in ("PeepholeLSTMCell", "def lstm_direction", "def gru_direction",
                   "def elman_direction", "def reverse_valid", "def roll_rows"):
        assert absent not in text, absent
    text = (all_compiled / "gru_reset_after" / "model.py").read_text(encoding="utf-8")
    assert "def roll_rows" in text and "def gru_direction" in text
    assert "JordanCell" not in text and "def gru_reset_before_to_keras" not in text
