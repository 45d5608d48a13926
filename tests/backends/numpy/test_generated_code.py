"""The generated file itself: golden bytes, determinism, lint, and that it stands alone."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import testing, weights

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
GOLDEN = ROOT / "tests" / "golden"
ALLOWED_IMPORTS = {"__future__", "dataclasses", "math", "os", "numpy", "numpy_runtime"}


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_golden(example, compiled_dir, check_golden):
    text = (compiled_dir(example, "numpy") / "model.py").read_text(encoding="utf-8")
    check_golden(text, f"{example.stem}/numpy/model.py")


@pytest.mark.parametrize("example", EXAMPLES[:3] + EXAMPLES[-3:], ids=IDS[:3] + IDS[-3:])
def test_compiling_twice_gives_the_same_bytes(example, tmp_path):
    first = seqspec.compile_spec(example, "numpy", tmp_path / "a")
    second = seqspec.compile_spec(example, "numpy", tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    assert "model.py" in [p.name for p in first]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert str(tmp_path) not in a.read_text(encoding="utf-8")  # no absolute paths


def test_generated_code_is_lint_clean(compiled_dir, tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    for example in EXAMPLES:  # one folder, one ruff run: fast
        target = tmp_path / f"{example.stem}.py"
        target.write_bytes((compiled_dir(example, "numpy") / "model.py").read_bytes())
    runtime = compiled_dir(EXAMPLES[0], "numpy") / "numpy_runtime.py"
    (tmp_path / "numpy_runtime.py").write_bytes(runtime.read_bytes())
    result = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E,F,W,I,UP,B,SIM", "--line-length", "100",
         "--target-version", "py310", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Formatting: everything but the quotes of the literals that seqspec.render.pyrepr writes.
    result = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--line-length", "100", "--config",
         "format.quote-style='preserve'", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_imports_only_numpy_and_the_standard_library(example, compiled_dir):
    tree = ast.parse((compiled_dir(example, "numpy") / "model.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert "seqspec" not in imported


STANDALONE = textwrap.dedent("""
    import importlib.util, sys
    import numpy as np
    sys.modules["seqspec"] = None  # any `import seqspec` now raises ImportError
    sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])  # numpy_runtime.py, beside model.py
    spec = importlib.util.spec_from_file_location("standalone_model", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    data = np.load(sys.argv[2])
    inputs = {k[3:]: data[k] for k in data.files if k.startswith("in_")}
    model = module.Model(module.init_weights(0), dtype="float64")
    out, states = model.forward(**inputs)
    grads = model.backward(np.ones_like(out))
    assert set(module.PARAMETERS) <= set(grads)
    assert not any(name.startswith("seqspec") for name in sys.modules if sys.modules[name])
    np.save(sys.argv[3], out)
""")


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_runs_without_seqspec(example, compiled_dir, tmp_path):
    """The model imports, runs forward and backward in a fresh `python -I` without seqspec."""
    from seqspec.api import lower_file

    model_ir = lower_file(example)
    inputs = testing.make_inputs(model_ir, batch=2, steps=4)
    np.savez(tmp_path / "inputs.npz", **{f"in_{k}": v for k, v in inputs.items()})
    script = tmp_path / "run.py"
    script.write_text(STANDALONE)
    result = subprocess.run(
        [sys.executable, "-I", str(script), str(compiled_dir(example, "numpy") / "model.py"),
         str(tmp_path / "inputs.npz"), str(tmp_path / "out.npy")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # and it computed what the same file computes in this process
    from seqspec.backends.numpy.runner import run

    expected = run(compiled_dir(example, "numpy"), weights.init_weights(model_ir, 0), inputs)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected["outputs"]["outputs"])


def test_the_runtime_is_the_same_for_every_spec(compiled_dir):
    texts = {(compiled_dir(e, "numpy") / "numpy_runtime.py").read_bytes() for e in EXAMPLES}
    assert len(texts) == 1


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_model_py_defines_nothing_unused(example, compiled_dir):
    folder = compiled_dir(example, "numpy")
    unused = [d for d in testing.unreferenced_definitions(folder) if d.startswith("model.py:")]
    assert unused == []


REGRESSION_DECODER = """\
seqspec: 1
name: regression_decoder
model:
  scheme: one_to_many
  input: {kind: vector, size: 3}
  decoder:
    input: {kind: features, size: 2}
    layers: [{cell: gru, hidden_size: 4}]
  head: {kind: regression, outputs: 2}
  max_length: 5
"""


def test_every_runtime_definition_is_used_by_some_spec(compiled_dir, tmp_path):
    folders = [compiled_dir(e, "numpy") for e in EXAMPLES]
    assert testing.unreferenced_runtime_definitions(folders) == ["numpy_runtime.py:decode_values"]
    # decode_values: free decoding of a regression decoder, which no example has
    spec = tmp_path / "regression_decoder.yaml"
    spec.write_text(REGRESSION_DECODER)
    seqspec.compile_spec(spec, "numpy", tmp_path / "out")
    assert testing.unreferenced_runtime_definitions([*folders, tmp_path / "out"]) == []


def test_unreferenced_definitions_finds_a_dead_helper(tmp_path):
    (tmp_path / "model.py").write_text(
        "from numpy_runtime import used\n\nX = 1\n\n\ndef dead():\n    return dead()\n\n\n"
        "def alive():\n    return used(X)\n"
    )
    (tmp_path / "train.py").write_text("from model import alive\n\nalive()\n")
    (tmp_path / "numpy_runtime.py").write_text("def used(x):\n    return x\n\n\n"
                                               "def unused():\n    pass\n")
    assert testing.unreferenced_definitions(tmp_path) == ["model.py:dead"]
    assert testing.unreferenced_runtime_definitions([tmp_path]) == ["numpy_runtime.py:unused"]
