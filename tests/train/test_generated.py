"""The generated train.py files and their training runtimes: golden bytes, lint, imports, the
default data path."""

from __future__ import annotations

import ast
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import seqspec
from seqspec import registry
from seqspec.errors import format_path
from seqspec.training import SERIES_MODELS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
BACKENDS = ["numpy", "torch", "tensorflow"]
FRAMEWORK_IMPORTS = {"numpy": set(), "torch": {"torch"}, "tensorflow": {"tensorflow", "keras"}}
STDLIB = {
    "argparse", "collections", "contextlib", "csv", "dataclasses", "io", "json", "math", "os",
    "re", "signal", "sys", "time", "zipfile",
}
OPTIONAL = {"tqdm", "matplotlib", "tensorboard", "threadpoolctl"}  # inside functions, optional
MAX_COMPLEXITY = 12  # ruff C901: every generated function stays small enough to read


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Every example compiled by every backend, from a copy of the spec at a fixed place.

    The default data path is relative to the output folder, so the goldens are made from the
    same relative layout on every machine: <tmp>/spec/<example>.yaml -> <tmp>/out/<ex>/<backend>.
    """
    root = tmp_path_factory.mktemp("train-golden")
    (root / "spec").mkdir()
    out = {}
    for example in EXAMPLES:
        spec = root / "spec" / example.name
        shutil.copy(example, spec)
        for backend in BACKENDS:
            folder = root / "out" / example.stem / backend
            seqspec.compile_spec(spec, backend, folder)
            out[example.stem, backend] = folder / "train.py"
            runtime = folder / f"{backend}_train_runtime.py"
            if runtime.exists():
                out["runtime", backend] = runtime
    return out


def test_default_data_path_is_relative_to_the_output_folder(tmp_path):
    out = tmp_path / "deep" / "out"
    seqspec.compile_spec(ROOT / "examples" / "char_lstm.yaml", "numpy", out)
    tree = ast.parse((out / "train.py").read_text(encoding="utf-8"))
    data = next(k.value.value for n in ast.walk(tree) if isinstance(n, ast.keyword)
                and n.arg == "data" for k in [n])
    assert not Path(data).is_absolute()
    assert (out / data).resolve() == (ROOT / "examples" / "data" / "corpus.txt").resolve()


def test_a_model_its_data_cannot_train_is_refused_at_the_data_key(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "seqspec: 1\nname: tagged\nmodel:\n  scheme: many_to_one\n"
        "  input: {kind: tokens, vocab_size: 5, encoding: one_hot}\n"
        "  layers: [{cell: elman, hidden_size: 4}]\n  head: {kind: softmax, classes: 2}\n"
        "data: {source: s.csv, format: csv, column: v}\n", encoding="utf-8")
    with pytest.raises(seqspec.SpecError) as refused:
        seqspec.compile_spec(spec, "numpy", tmp_path / "out")
    assert [format_path(p.path) for p in refused.value.problems] == ["data.column"]
    assert not (tmp_path / "out").exists()
    # an IR that skipped that check still gets a train.py that says why (the same rule)
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "{source: s.csv, format: csv, column: v}", "{source: s.npz, format: npz}"),
        encoding="utf-8")
    model = seqspec.lower_file(spec)
    model = dataclasses.replace(model, data=dataclasses.replace(
        model.data, source="s.csv", format="csv", column="v"))
    files = registry.get("numpy").emit(model)
    assert "numpy_train_runtime.py" not in files
    (tmp_path / "train.py").write_text(files["train.py"], encoding="utf-8")
    proc = subprocess.run([sys.executable, str(tmp_path / "train.py")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == f"cannot train from csv data: {SERIES_MODELS}\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_help_shows_every_default(backend, compiled):
    """Every option of the train runtime (every example's train.py) says its default in --help
    (argparse's ArgumentDefaultsHelpFormatter shows it for options with a help text)."""
    for example in ["runtime"]:
        tree = ast.parse(compiled[example, backend].read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and getattr(n.func, "attr", "") == "add_argument"]
        assert calls, example
        for call in calls:
            keywords = {k.arg for k in call.keywords}
            assert "help" in keywords, (example, ast.unparse(call))
        parser = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                      and getattr(n.func, "attr", "") == "ArgumentParser")
        formatter = {k.arg: ast.unparse(k.value) for k in parser.keywords}["formatter_class"]
        assert formatter == "argparse.ArgumentDefaultsHelpFormatter", example


@pytest.mark.parametrize("backend", BACKENDS)
def test_help_output_names_the_spec_defaults(backend, compiled):
    folder = compiled["char_lstm", backend].parent
    proc = subprocess.run([sys.executable, str(folder / "train.py"), "--help"],
                          capture_output=True, text=True, cwd=folder, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for option in ("--lr", "--epochs", "--batch-size", "--seed", "--patience", "--schedule",
                   "--monitor", "--dtype", "--optimizer"):
        assert option in text
    assert text.count("(default: ") >= 25, text
    assert "(default: val_loss)" in text and "(default: constant)" in text
