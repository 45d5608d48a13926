"""predict.py on a CSV series uses the training run's scaling (scaler.json), and Ctrl-C.

train.py standardises a series with its training part's mean and std and writes them to
scaler.json next to weights.npz. predict.py must standardise a NEW file with those, not with
the new file's own statistics, and report outputs (and --evaluate's RMSE) in the data's units.
A model is trained 2 steps with torch; every backend's predict.py is then checked against the
outputs computed here by hand from the NumPy model.py and scaler.json.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import cli

from .test_script import BACKENDS, predict_py, run

WINDOW = 6
FORECASTER = f"""seqspec: 1
name: forecaster
model:
  scheme: many_to_one
  input: {{kind: features, size: 1}}
  layers: [{{cell: gru, hidden_size: 5}}]
  head: {{kind: regression, outputs: 1}}
data:
  source: series.csv
  format: csv
  column: value
  window: {WINDOW}
  split: {{validation: 0.2, test: 0.2}}
training: {{optimizer: adam, learning_rate: 0.05, epochs: 1, batch_size: 8}}
"""


def write_series(path: Path, values: np.ndarray) -> Path:
    path.write_text("value\n" + "".join(f"{float(v)!r}\n" for v in values), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    """(folder with every backend's compiled scripts, weights.npz, a new series, its values)."""
    folder = tmp_path_factory.mktemp("forecaster")
    spec = folder / "forecaster.yaml"
    spec.write_text(FORECASTER, encoding="utf-8")
    steps = np.arange(60)
    write_series(folder / "series.csv", np.sin(0.4 * steps) * 50 + 100)
    # a new file on another scale: its own mean and std are far from the training ones
    values = np.cos(0.3 * steps) * 400 - 900
    new = write_series(folder / "new.csv", values)
    for backend in BACKENDS:
        seqspec.compile_spec(spec, backend, folder / backend)
    proc = run(folder / "torch" / "train.py", "--max-steps", "2", "--out", folder / "run",
               "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder, folder / "run" / "weights.npz", new, values


def last_line(proc) -> str:
    """The message a failed run ends with (TensorFlow may log lines of its own before it)."""
    return proc.stderr.strip().splitlines()[-1]


def by_hand(folder: Path, weights: Path, values: np.ndarray) -> np.ndarray:
    """The outputs predict.py must give: windows standardised with scaler.json, the NumPy
    model's outputs, back in the data's units."""
    scaler = json.loads((weights.parent / "scaler.json").read_text(encoding="utf-8"))
    path = folder / "numpy" / "model.py"
    spec = importlib.util.spec_from_file_location("forecaster_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    model = module.Model(dtype="float64")
    model.load_npz(str(weights))
    z = (values - scaler["mean"]) / scaler["std"]
    positions = np.arange(len(values) - WINDOW)[:, None] + np.arange(WINDOW)[None, :]
    outputs = model.predict(x=z[positions][:, :, None])
    return np.asarray(outputs) * scaler["std"] + scaler["mean"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_series_is_scaled_as_in_training(forecaster, backend, tmp_path):
    folder, weights, new, values = forecaster
    out = tmp_path / "out.npz"
    proc = predict_py(folder, backend, "--weights", weights, "--data", new, "-o", out,
                      "--dtype", "float64")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as f:
        found = f["outputs"]
    expected = by_hand(folder, weights, values)
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-9)
    # the file's own statistics would give other numbers: the two scales really differ
    scaler = json.loads((weights.parent / "scaler.json").read_text(encoding="utf-8"))
    assert abs(scaler["mean"] - values.mean()) > 100

    # --evaluate on the new file: the test windows' RMSE in the data's units, training scale
    proc = predict_py(folder, backend, "--weights", weights, "--data", new, "--evaluate",
                      "--format", "json", "--dtype", "float64")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(proc.stdout.splitlines()[-1])
    n = len(values) - WINDOW
    n_test = int(n * 0.2)
    targets = values[WINDOW:][-n_test:, None]
    rmse = float(np.sqrt(np.mean((expected[-n_test:] - targets) ** 2)))
    assert metrics["test_rmse"] == pytest.approx(rmse, rel=1e-6)


def test_evaluate_on_the_training_file_equals_final_json(forecaster):
    folder, weights, _, _ = forecaster
    final = json.loads((weights.parent / "final.json").read_text(encoding="utf-8"))
    expected = {k: v for k, v in final.items() if k.startswith(("val_", "test_"))}
    for backend in BACKENDS:
        proc = predict_py(folder, backend, "--weights", weights, "--evaluate", "--format",
                          "json", "--dtype", "float64", "--batch-size", "8")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout.splitlines()[-1]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_scaler_is_one_line(forecaster, backend, tmp_path):
    """Without scaler.json predict.py refuses to run: it never guesses a scale."""
    folder, weights, new, _ = forecaster
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")  # without its scaler.json
    out = tmp_path / "out.npz"
    proc = predict_py(folder, backend, "--weights", lone / "weights.npz", "--data", new,
                      "-o", out)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert last_line(proc) == (
        f"no scaler {str(lone / 'scaler.json')!r}: train.py writes scaler.json next to "
        "weights.npz (pass --scaler FILE)"
    )
    assert not out.exists()


def test_a_bad_scaler_is_one_line_and_scaler_names_another(forecaster, tmp_path):
    """The reading is predict.py's shared code: once, with NumPy."""
    folder, weights, new, values = forecaster
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")
    (tmp_path / "flat.json").write_text('{"mean": 1.0, "std": 0.0}', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"mean": 1.0', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    for name, message in (("flat.json", "mean must be finite and std finite and positive"),
                          ("broken.json", "not a scaler.json of train.py"),
                          ("list.json", "not a scaler.json of train.py")):
        proc = predict_py(folder, "numpy", "--weights", lone / "weights.npz", "--data", new,
                          "--evaluate", "--scaler", tmp_path / name)
        assert proc.returncode == 1
        line = last_line(proc)
        assert "Traceback" not in proc.stderr and line.startswith(f"{tmp_path / name}: {message}")
    out = tmp_path / "out.npz"
    proc = predict_py(folder, "numpy", "--weights", lone / "weights.npz", "--data", new,
                      "-o", out, "--scaler", weights.parent / "scaler.json", "--dtype", "float64")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as f:
        np.testing.assert_allclose(f["outputs"], by_hand(folder, weights, values), rtol=1e-9)


def test_seqspec_predict_and_evaluate_use_the_scaler(forecaster, tmp_path, capfd):
    folder, weights, new, values = forecaster
    spec = str(folder / "forecaster.yaml")
    out = tmp_path / "cli.npz"
    code = cli.main(["predict", spec, "-b", "numpy", "--weights", str(weights), "--data",
                     str(new), "-o", str(out), "--dtype", "float64"])
    assert code == 0, capfd.readouterr().err
    with np.load(out) as f:
        np.testing.assert_allclose(f["outputs"], by_hand(folder, weights, values), rtol=1e-9)
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")
    capfd.readouterr()
    code = cli.main(["evaluate", spec, "-b", "numpy", "--weights", str(lone / "weights.npz")])
    assert code == 1
    assert capfd.readouterr().err.strip().startswith(f"no scaler {str(lone / 'scaler.json')!r}")
    code = cli.main(["evaluate", spec, "-b", "numpy", "--weights", str(lone / "weights.npz"),
                     "--scaler", str(weights.parent / "scaler.json"), "--format", "json"])
    assert code == 0
    assert "test_rmse" in json.loads(capfd.readouterr().out.splitlines()[-1])


INTERRUPT = """\
import sys
sys.path.insert(0, sys.argv[1])
import predict
runtime = sys.modules[predict.run_predict.__module__]  # the train runtime predict.py runs
def interrupted(*args):
    raise KeyboardInterrupt  # what Ctrl-C raises, here in the middle of a prediction
runtime.predict = interrupted
predict.main(sys.argv[2:])
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_in_predict_py_is_one_line_and_exit_130(forecaster, backend, tmp_path):
    folder, weights, new, _ = forecaster
    out = tmp_path / "out.npz"
    proc = run("-c", INTERRUPT, folder / backend, "--weights", weights, "--data", new,
               "-o", out)
    assert proc.returncode == 130, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert last_line(proc) == f"interrupted; -o {out} is left as it was"
    assert not list(tmp_path.iterdir())  # no output, no temporary
