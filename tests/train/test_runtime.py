"""The training runtime: one file per backend, the same bytes for every spec, and
``--single-file`` inlining it into train.py and predict.py with the same behaviour."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqspec.api import compile_spec
from seqspec.render import inline_runtime

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BACKENDS = ("numpy", "torch", "tensorflow")


@pytest.mark.parametrize("backend", BACKENDS)
def test_runtime_is_byte_identical_for_every_example(backend, tmp_path):
    texts = {}
    for spec in EXAMPLES:
        out = tmp_path / spec.stem
        compile_spec(spec, backend, out)
        runtime = out / f"{backend}_train_runtime.py"
        if runtime.exists():
            texts[spec.stem] = runtime.read_bytes()
    assert len(texts) >= len(EXAMPLES) - 2, sorted(texts)
    assert len(set(texts.values())) == 1, sorted(texts)


def test_inline_runtime_takes_what_is_reached_transitively():
    runtime = (
        '"""doc"""\n\nimport json\nimport os\n\nLIMIT = 3\n\n\n'
        "def helper(x):\n    return json.dumps(x)\n\n\n"
        "def used(x):\n    return helper(x)[:LIMIT]\n\n\n"
        "def unused():\n    return os.getcwd()\n"
    )
    module = '"""mod"""\n\nimport sys\n\nfrom rt import used\n\nRESULT = used(["m"]), sys.maxsize\n'
    text = inline_runtime(module, runtime, "rt")
    tree = ast.parse(text)
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert names == {"helper", "used"}
    assert "import os" not in text and "import json" in text and "from rt" not in text
    assert "LIMIT = 3" in text
    namespace: dict[str, object] = {}
    exec(compile(text, "m", "exec"), namespace)
    assert namespace["RESULT"][0] == '["m'


def test_inline_runtime_refuses_a_clash():
    with pytest.raises(ValueError, match="both define used"):
        inline_runtime("from rt import used\n\n\ndef used():\n    pass\n",
                       "def used():\n    pass\n", "rt")


def test_inline_runtime_keeps_future_imports_first():
    """A model.py with ``from __future__`` (NumPy's, torch's) stays valid Python once inlined:
    the future import comes first, before the imports the runtime brings."""
    runtime = "import os\n\n# ---- a section\n\n\ndef used():\n    return os.sep\n"
    module = '"""mod"""\n\nfrom __future__ import annotations\n\nimport sys\nfrom rt import used\n'
    text = inline_runtime(module, runtime, "rt")
    imports = text.split('"""\n\n', 1)[1]
    assert imports.startswith("from __future__ import annotations\n\nimport os\nimport sys\n\n#")
    compile(text, "m", "exec")  # a future import anywhere else is a SyntaxError


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_file_model_imports_without_its_runtime(backend, tmp_path):
    """--single-file's model.py runs alone: no runtime module beside it, the same weights."""
    pytest.importorskip({"numpy": "numpy", "torch": "torch", "tensorflow": "keras"}[backend])
    out = tmp_path / "single"
    compile_spec(ROOT / "examples" / "elman_lm.yaml", backend, out, single_file=True)
    assert not (out / f"{backend}_runtime.py").exists()
    script = "import model; print(sorted(model.init_weights(0)), model.SPEC_NAME)"
    result = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("] ")[1].strip() == "elman_lm"


def test_single_file_trains_to_the_same_weights_and_metrics(tmp_path):
    spec = ROOT / "examples" / "char_lstm.yaml"
    rng = np.random.default_rng(0)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(rng.choice(list("abcde fgh\n"), 3000)))
    weights, metrics = [], []
    for single in (False, True):
        out = tmp_path / ("single" if single else "split")
        compile_spec(spec, "numpy", out, single_file=single)
        assert (out / "numpy_train_runtime.py").exists() != single
        run = [sys.executable, "train.py", "--data", str(corpus), "--max-steps", "2",
               "--out", str(out / "run"), "--no-progress", "--epochs", "1"]
        done = subprocess.run(run, cwd=out, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        with np.load(out / "run" / "weights.npz") as f:
            weights.append({k: f[k] for k in f.files})
        ask = [sys.executable, "predict.py", "--weights", str(out / "run" / "weights.npz"),
               "--data", str(corpus), "--evaluate", "--format", "json"]
        done = subprocess.run(ask, cwd=out, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        metrics.append(done.stdout)
    assert metrics[0] == metrics[1] and "val_bpc" in metrics[0]
    assert weights[0].keys() == weights[1].keys()
    assert all(np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])
