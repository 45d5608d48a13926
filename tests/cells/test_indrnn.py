"""IndRNN's cell module: spec, parameter table, initialiser, and recurrent_max, the bound on
u_h that every backend's train runtime applies (clip |w| to a parameter's bound after each
optimizer update)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import cells, weights
from seqspec.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]

SPEC = """
seqspec: 1
name: indrnn_small
model:
  scheme: many_to_one
  input: {kind: features, size: 2}
  layers:
    - {cell: indrnn, hidden_size: 5, recurrent_max: 0.5, bidirectional: true}
    - {cell: indrnn, hidden_size: 3, activation: tanh, bias: false}
  pooling: last
  head: {kind: regression, outputs: 1}
"""


def _lower(text: str, tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return seqspec.lower_file(path)


def test_the_cell_module_describes_indrnn():
    module = cells.get("indrnn")
    assert module.GATES == ("h",) and module.STATES == ("h",)
    assert frozenset({"indrnn"}) == module.FEATURES
    assert "Li" in module.CITATION and "u_h" in module.EQUATIONS


def test_parameters_settings_and_initialiser(tmp_path):
    model = _lower(SPEC, tmp_path)
    first, second = model.encoder.layers
    assert first.settings == cells.indrnn.Settings(activation="relu", recurrent_max=0.5)
    assert second.settings == cells.indrnn.Settings(activation="tanh", recurrent_max=None)
    shapes = {p.name: p.shape for p in model.encoder.params}
    fw = "encoder.layers.0.forward"
    assert shapes[f"{fw}.Wx_h"] == (5, 2) and shapes[f"{fw}.u_h"] == (5,)
    assert shapes[f"{fw}.b_h"] == (5,)
    assert "encoder.layers.1.forward.b_h" not in shapes  # bias: false
    assert "indrnn" in model.features
    w = weights.init_weights(model, seed=0)
    for d in first.directions:  # U(0, min(1, recurrent_max))
        u = w[f"{d.prefix}.u_h"]
        assert np.all((u >= 0) & (u <= 0.5)) and np.ptp(u) > 0
    u = w["encoder.layers.1.forward.u_h"]  # no bound: U(0, 1)
    assert np.all((u >= 0) & (u <= 1)) and np.ptp(u) > 0
    bounds = {p.name: (p.init, p.scale) for p in model.encoder.params if p.name.endswith("u_h")}
    assert bounds == {f"{fw}.u_h": ("positive_uniform", 0.5),
                      "encoder.layers.0.backward.u_h": ("positive_uniform", 0.5),
                      "encoder.layers.1.forward.u_h": ("positive_uniform", 1.0)}


@pytest.mark.parametrize("bad, words", [
    ("recurrent_max: -1", "recurrent_max"),
    ("activation: sigmoid", "activation"),
])
def test_bad_settings_are_one_line_errors(bad, words, tmp_path):
    text = SPEC.replace("recurrent_max: 0.5", bad)
    with pytest.raises(SpecError) as info:
        _lower(text, tmp_path)
    assert words in str(info.value)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "seqspec", "validate", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert words in proc.stderr + proc.stdout




def test_the_bound_is_the_parameter_tables_7th_item(tmp_path):
    """ir.Param.bound: u_h of layer 0 only; model.py's PARAMETERS carries it there alone."""
    model = _lower(SPEC, tmp_path)
    bounds = {p.name: p.bound for p in model.params if p.bound is not None}
    assert bounds == {"encoder.layers.0.forward.u_h": 0.5, "encoder.layers.0.backward.u_h": 0.5}
    code = tmp_path / "code"
    seqspec.compile_spec(tmp_path / "spec.yaml", "numpy", code)
    text = (code / "model.py").read_text(encoding="utf-8")
    assert '"encoder.layers.0.forward.u_h": ((5,), "positive_uniform", 0.5, 0.0, 5, 5, 0.5)' in text
    assert '"encoder.layers.1.forward.u_h": ((3,), "positive_uniform", 1.0, 0.0, 3, 3),' in text


def test_numpy_train_runtime_clips_bounded_weights_after_each_update(tmp_path):
    """The NumPy train runtime's update(): a big SGD step, then |u_h| <= recurrent_max where the
    table gives a bound, and nothing else clipped."""
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    code = tmp_path / "code"
    seqspec.compile_spec(path, "numpy", code)
    sys.path.insert(0, str(code))
    try:
        import model as model_py  # the compiled folder's model.py
        import numpy_train_runtime as runtime
    finally:
        sys.path.remove(str(code))
        for name in ("model", "numpy_runtime", "numpy_train_runtime"):
            sys.modules.pop(name, None)
    w = {k: v.copy() for k, v in model_py.init_weights(0).items()}
    model = model_py.Model(w, dtype="float64")
    bounds = {k: e[6] for k, e in model_py.PARAMETERS.items() if len(e) > 6}
    grads = {k: -np.ones_like(v) for k, v in w.items()}  # SGD pushes every weight up by lr
    runtime.update(model, w, runtime.Optimizer("sgd", 10.0, w), grads, 0.0, bounds)
    assert np.all(w["encoder.layers.0.forward.u_h"] == 0.5)  # clipped to the bound
    assert np.all(w["encoder.layers.0.backward.u_h"] == 0.5)
    assert np.all(w["encoder.layers.1.forward.u_h"] > 9)  # no bound on layer 1
    assert np.all(w["encoder.layers.0.forward.Wx_h"] > 9)  # nor on anything else
