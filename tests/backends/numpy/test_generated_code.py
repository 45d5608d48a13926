"""The generated file itself: golden bytes, determinism, lint, and that it stands alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from seqspec import testing, weights

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
ALLOWED_IMPORTS = {"__future__", "dataclasses", "math", "os", "numpy", "numpy_runtime"}


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


