"""The torch emitter: golden files, determinism, lint, standalone imports, layer grouping.

None of these tests needs torch: generated code is text until it runs.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from seqspec.backends.torch import grouping, source

import seqspec
from seqspec import registry, testing

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
ALLOWED = {"torch", "numpy", "torch_runtime"} | set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def all_compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example compiled into one folder (one ruff run for all of them)."""
    out = tmp_path_factory.mktemp("torch-all")
    for example in EXAMPLES:
        seqspec.compile_spec(example, "torch", out / example.stem)
    return out


def test_registered() -> None:
    backend = registry.get("torch")
    assert (backend.name, backend.framework, backend.package) == (
        "torch", "torch", "seqspec.backends.torch")


def test_importing_the_backend_does_not_import_torch() -> None:
    code = ("import sys, seqspec.backends.torch as b; "
            "assert b.backend.name == 'torch'; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_example_feature_is_supported() -> None:
    backend = registry.get("torch")
    for example in EXAMPLES:
        missing = seqspec.lower_file(example).features - backend.features
        assert not missing, f"{example.name}: {sorted(missing)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden(example: Path, all_compiled: Path, check_golden) -> None:
    got = (all_compiled / example.stem / "model.py").read_text(encoding="utf-8")
    check_golden(got, f"{example.stem}/torch/model.py")


def test_deterministic(tmp_path: Path, all_compiled: Path) -> None:
    for example in EXAMPLES:
        seqspec.compile_spec(example, "torch", tmp_path / example.stem)
        again = (tmp_path / example.stem / "model.py").read_bytes()
        assert again == (all_compiled / example.stem / "model.py").read_bytes(), example.name
        text = again.decode()
        assert str(ROOT) not in text and str(tmp_path) not in text  # no absolute paths


def _models(folder: Path) -> list[str]:
    """The generated model.py files and one torch_runtime.py (train.py belongs to the training
    templates' tests)."""
    return [str(folder / example.stem / "model.py") for example in EXAMPLES] + [
        str(folder / EXAMPLES[0].stem / "torch_runtime.py")]


def test_runtime_is_the_same_for_every_spec(all_compiled: Path) -> None:
    runtimes = {(all_compiled / e.stem / "torch_runtime.py").read_bytes() for e in EXAMPLES}
    assert len(runtimes) == 1
    text = runtimes.pop().decode()
    tree = ast.parse(text)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
    assert imported <= ALLOWED - {"torch_runtime"}, sorted(imported)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_check(all_compiled: Path) -> None:
    result = subprocess.run(
        ["ruff", "check", "--isolated", "--select", "E,F,W,I,UP,B,SIM", "--line-length", "100",
         *_models(all_compiled)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_format(all_compiled: Path) -> None:
    """The templates render formatted code: ruff format would change nothing, not a quote."""
    result = subprocess.run(
        ["ruff", "format", "--check", "--diff", "--isolated", "--line-length", "100",
         *_models(all_compiled)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_standalone_imports(example: Path, all_compiled: Path) -> None:
    """Generated code imports only torch, NumPy and the standard library."""
    tree = ast.parse((all_compiled / example.stem / "model.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            names.add((node.module or "").split(".")[0])
    assert names <= ALLOWED, sorted(names - ALLOWED)
    assert "torch" in names and "seqspec" not in names


def test_docstring_names_the_spec(all_compiled: Path) -> None:
    for example in EXAMPLES:
        model = seqspec.lower_file(example)
        doc = ast.get_docstring(ast.parse((all_compiled / example.stem / "model.py").read_text()))
        assert doc is not None
        assert f"Spec: {example.name}" in doc and model.spec_sha256 in doc


def _classes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def test_only_used_cells_are_emitted(all_compiled: Path) -> None:
    assert {"PeepholeLSTM", "PeepholeLSTMScan"} <= _classes(
        all_compiled / "peephole_lstm" / "model.py")
    assert "Jordan" not in _classes(all_compiled / "peephole_lstm" / "model.py")
    assert {"Jordan", "JordanScan"} <= _classes(all_compiled / "jordan_series" / "model.py")
    assert "GRUResetBefore" in _classes(all_compiled / "gru_reset_before" / "model.py")
    assert "Elman" in _classes(all_compiled / "stacked_elman_relu" / "model.py")
    # fused-only models carry no explicit cell machinery at all
    for name in ("char_lstm", "gru_reset_after", "elman_lm", "seq2seq_gru"):
        assert _classes(all_compiled / name / "model.py") == {"Config", "Model"}, name


def _groups(name: str) -> list[tuple[str, int, str]]:
    model = seqspec.lower_file(ROOT / "examples" / f"{name}.yaml")
    return [(g.cls, len(g.layers), g.merge) for s in model.stacks for g in grouping.groups(s)]


def test_layer_grouping() -> None:
    # same cell, size and direction: one multi-layer fused module (one cuDNN call)
    assert _groups("char_lstm") == [("nn.LSTM", 2, "")]
    assert _groups("seq2seq_gru") == [("nn.GRU", 2, ""), ("nn.GRU", 2, "")]
    # inside nn.LSTM a layer feeds the next [forward | backward]: a concat layer can, and the
    # top layer's own merge (sum) applies to the module's output
    assert _groups("bidirectional_lstm_classifier") == [("nn.LSTM", 2, "sum")]
    # an averaged layer cannot feed the next one inside a fused module
    assert _groups("bidirectional_gru_tagger") == [("nn.GRU", 1, "ave"), ("nn.RNN", 1, "mul")]
    # different sizes / nonlinearities split; sigmoid has no fused layer
    assert _groups("stacked_elman_relu") == [("nn.RNN", 1, ""), ("nn.RNN", 1, ""),
                                             ("Elman", 1, "")]
    assert _groups("peephole_lstm") == [("PeepholeLSTM", 1, "")]
    assert _groups("gru_reset_before") == [("GRUResetBefore", 1, "")]
    assert _groups("gru_reset_after") == [("nn.GRU", 1, "")]


def test_layout_covers_every_parameter_once() -> None:
    for example in EXAMPLES:
        model = seqspec.lower_file(example)
        groups = {s.name: grouping.groups(s) for s in model.stacks}
        rows = grouping.layout(model, groups)  # raises when a parameter is missing or doubled
        names = [b for _, _, blocks in rows for b in blocks if not b.startswith("+")]
        assert sorted(names) == sorted(p.name for p in model.params), example.name
        natives = [native for _, native, _ in rows]
        assert len(natives) == len(set(natives)), example.name


def test_gru_layout_reorders_gates_and_keeps_bhn() -> None:
    model = seqspec.lower_file(ROOT / "examples" / "gru_reset_after.yaml")
    rows = {native: blocks for _, native, blocks in
            grouping.layout(model, {"encoder": grouping.groups(model.encoder)})}
    p = "encoder.layers.0.forward."
    assert rows["encoder.0.weight_ih_l0"] == (p + "Wx_r", p + "Wx_z", p + "Wx_n")
    assert rows["encoder.0.bias_hh_l0"] == ("+" + p + "b_r", "+" + p + "b_z", p + "bhn")


def test_pyrepr_quotes_like_ruff() -> None:
    assert source.pyrepr("abc") == '"abc"'
    assert source.pyrepr("it's") == '"it\'s"'
    assert source.pyrepr('say "x"') == repr('say "x"')
    assert source.pyrepr(("a",)) == '("a",)'
    assert source.pyrepr(["a", 1, 2.5, None]) == '["a", 1, 2.5, None]'
    assert eval(source.pyrepr("back\\slash\n")) == "back\\slash\n"


def test_wrapped_stays_within_the_line() -> None:
    short = source.wrapped(4, "f(", ["a", "b"], ")")
    assert short == "    f(a, b)"
    long = source.wrapped(8, "g(", [f"argument_{i}" for i in range(12)], "):")
    assert all(len(line) <= 100 for line in long.splitlines())
    assert long.splitlines()[-1] == "        ):" and long.splitlines()[1].endswith(",")


def _unreferenced_definitions(folder: Path) -> list[str]:
    """Top-level definitions of a compiled folder's .py files that no file of it references
    (a local copy of the check in seqspec/testing.py)."""
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in folder.glob("*.py")}
    read: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                read.add(node.id)
            elif isinstance(node, ast.Attribute):
                read.add(node.attr)
            elif isinstance(node, ast.alias):
                read.add(node.name)
    found = []
    for file, tree in sorted(trees.items()):
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            found += [f"{file}: {n}" for n in names
                      if n not in read and n not in {"main", *testing.MODEL_API}]
    return found


def test_no_unreferenced_definitions(all_compiled: Path) -> None:
    """Every top-level definition of a model.py is used in its folder, and every one of
    torch_runtime.py in the folder of some example (train.py and predict.py count as users)."""
    unused_in_all = None
    for example in EXAMPLES:
        dead = _unreferenced_definitions(all_compiled / example.stem)
        assert not [d for d in dead if d.startswith("model.py")], (example.stem, dead)
        runtime = {d for d in dead if d.startswith("torch_runtime.py")}
        unused_in_all = runtime if unused_in_all is None else unused_in_all & runtime
    assert not unused_in_all, sorted(unused_in_all)
