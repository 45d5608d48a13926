"""The TensorFlow emitter: golden files, determinism, lint, standalone imports (no TensorFlow)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import seqspec
from seqspec import registry, testing

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
ALLOWED = {"tensorflow", "keras", "numpy"} | set(sys.stdlib_module_names)
RUNTIME = "tensorflow_runtime"


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
    files.append(str(all_compiled / EXAMPLES[0].stem / f"{RUNTIME}.py"))
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
    shutil.copy(all_compiled / EXAMPLES[0].stem / f"{RUNTIME}.py", tmp_path)
    result = subprocess.run(
        ["ruff", "format", "--check", "--diff", "--isolated", "--line-length", "100",
         str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_standalone_imports(example: Path, all_compiled: Path) -> None:
    """Generated code imports only TensorFlow / Keras, NumPy, the standard library and the
    runtime beside it, which imports nothing else."""
    names = _imported_modules(all_compiled / example.stem / "model.py")
    assert names <= ALLOWED | {RUNTIME}, sorted(names - ALLOWED)
    assert _imported_modules(all_compiled / example.stem / f"{RUNTIME}.py") <= ALLOWED


def test_runtime_is_the_same_for_every_spec(all_compiled: Path) -> None:
    runtimes = {(all_compiled / e.stem / f"{RUNTIME}.py").read_bytes() for e in EXAMPLES}
    assert len(runtimes) == 1


def test_compiling_again_replaces_the_runtime(all_compiled: Path) -> None:
    """The runtime carries seqspec's mark, so compiling into the same folder again works."""
    example = EXAMPLES[0]
    written = seqspec.compile_spec(example, "tensorflow", all_compiled / example.stem)
    assert all_compiled / example.stem / f"{RUNTIME}.py" in written


def _unreferenced(folder: Path) -> list[str]:
    """Top-level definitions of a compiled folder's .py files that no file references (a local
    copy of the shared checker)."""
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in folder.glob("*.py")}
    used: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                used.update(alias.name for alias in node.names)
    dead = []
    for file, tree in sorted(trees.items()):
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            # model.py's documented API is read by whoever imports the model
            public = testing.MODEL_API if file == "model.py" else ()
            dead += [f"{file}:{name}" for name in names if name not in used and name not in public]
    return dead


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_model_defines_nothing_unused(example: Path, all_compiled: Path) -> None:
    """Every top-level definition of model.py is read by the folder (the runtime's by any spec
    of the backend: checked over the union of every example)."""
    dead = [d for d in _unreferenced(all_compiled / example.stem) if d.startswith("model.py:")]
    assert dead == []


#: Specs that reach the runtime's code no example reaches: a bidirectional language model
#: (generate re-runs it) and a decoder of values (generate feeds values back).
EXTRA_SPECS = {
    "bidirectional_lm": """\
seqspec: 1
name: bidirectional_lm
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 9, encoding: one_hot}
  layers:
    - {cell: gru, hidden_size: 4, bidirectional: true}
  head: {kind: softmax, classes: 9}
""",
    "value_decoder": """\
seqspec: 1
name: value_decoder
model:
  scheme: one_to_many
  input: {kind: vector, size: 3}
  bridge: {kind: dense, activation: tanh}
  decoder:
    input: {kind: features, size: 2}
    layers:
      - {cell: elman, hidden_size: 4}
  head: {kind: regression, outputs: 2}
  max_length: 5
""",
}


def test_runtime_defines_nothing_unused(all_compiled: Path, tmp_path: Path) -> None:
    """Every runtime definition is read by the runtime itself or by some spec's files."""
    folders = [all_compiled / example.stem for example in EXAMPLES]
    for name, text in EXTRA_SPECS.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
        seqspec.compile_spec(tmp_path / f"{name}.yaml", "tensorflow", tmp_path / name)
        folders.append(tmp_path / name)
    unused = _runtime_names(folders[0])
    for folder in folders:
        unused &= {d.split(":", 1)[1] for d in _unreferenced(folder)}
    assert unused == set()
    for name in EXTRA_SPECS:  # and what those specs compile to is clean too
        assert [d for d in _unreferenced(tmp_path / name) if d.startswith("model.py")] == []


def _runtime_names(folder: Path) -> set[str]:
    tree = ast.parse((folder / f"{RUNTIME}.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_only_used_cells_are_emitted(all_compiled: Path) -> None:
    text = (all_compiled / "jordan_series" / "model.py").read_text(encoding="utf-8")
    assert "class JordanCell" in text and "class Jordan(" in text
    for absent in ("class PeepholeLSTM", "class LSTM(", "class GRU(", "class Elman("):
        assert absent not in text, absent
    text = (all_compiled / "gru_reset_after" / "model.py").read_text(encoding="utf-8")
    assert "class GRU(" in text
    assert "Jordan" not in text and "class GRUResetBefore" not in text
    text = (all_compiled / "gru_reset_before" / "model.py").read_text(encoding="utf-8")
    assert "class GRUResetBefore(" in text and "class GRU(" not in text


def test_spec_static_branches_are_not_emitted(all_compiled: Path) -> None:
    """A spec without variable lengths never mentions lengths in model.py; one without a
    bidirectional layer never a backward direction."""
    text = (all_compiled / "elman_lm" / "model.py").read_text(encoding="utf-8")
    for absent in ('"lengths"', "lengths=", "zero_padded", "step_mask", "backward=",
                   "merge_mode=", "padding=", "import tensorflow"):
        assert absent not in text, absent
