"""The torch emitter: golden files, determinism, lint, standalone imports, layer grouping.

None of these tests needs torch: generated code is text until it runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from seqspec.backends.torch import grouping, source

import seqspec
from seqspec import registry

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
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
    # with dropout, a module per layer: the masks between them are the model's (dropout_masks)
    assert _groups("char_lstm") == [("nn.LSTM", 1, ""), ("nn.LSTM", 1, "")]


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


