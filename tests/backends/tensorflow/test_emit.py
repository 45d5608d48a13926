"""The TensorFlow emitter: golden files, determinism, lint, standalone imports (no TensorFlow)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import seqspec
from seqspec import registry

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
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


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            names.add((node.module or "").split(".")[0])
    return names


def test_compiling_again_replaces_the_runtime(all_compiled: Path) -> None:
    """The runtime carries seqspec's mark, so compiling into the same folder again works."""
    example = EXAMPLES[0]
    written = seqspec.compile_spec(example, "tensorflow", all_compiled / example.stem)
    assert all_compiled / example.stem / f"{RUNTIME}.py" in written


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
