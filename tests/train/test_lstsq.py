"""``--optimizer lstsq`` (``training.optimizer: lstsq``): the exact least-squares AR fit.

Every backend's script must leave the weights ``np.linalg.lstsq`` finds on the training
windows, computed here independently from the CSV file and the documented split (time order,
standardised with the training part's mean and std).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import seqspec

BACKENDS = [
    pytest.param("numpy"),
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]
ORDER, VALIDATION = 3, 0.2  # the ar_linear case of conftest.py


def expected_fit(csv_path):
    """(phi, c, mean, std, validation RMSE in the data's units) from the CSV, by np.linalg.lstsq."""
    values = np.loadtxt(csv_path, delimiter=",", skiprows=1)[:, 1]
    n = len(values) - ORDER
    n_train = n - int(n * VALIDATION)
    seen = values[: n_train + ORDER]
    mean, std = seen.mean(), seen.std()
    z = (values - mean) / std
    windows = np.stack([z[t - ORDER : t] for t in range(ORDER, len(z))])  # oldest first
    design = np.column_stack([windows[:, ::-1], np.ones(n)])  # phi_1 weighs the newest value
    solution, *_ = np.linalg.lstsq(design[:n_train], z[ORDER:][:n_train], rcond=None)
    residuals = (design[n_train:] @ solution - z[ORDER:][n_train:]) * std
    return solution[:ORDER], solution[ORDER], mean, std, float(np.sqrt(np.mean(residuals**2)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstsq_leaves_the_least_squares_weights(backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("ar_linear", backend)
    out = tmp_path / "run"
    proc = train_tools["run"](
        folder, "--out", str(out), "--optimizer", "lstsq", "--dtype", "float64"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    phi, c, mean, std, val_rmse = expected_fit(folder.parent / "series.csv")
    with np.load(out / "weights.npz") as w:
        np.testing.assert_allclose(w["ar.phi"], phi, rtol=0, atol=1e-10)
        np.testing.assert_allclose(w["ar.c"], [c], rtol=0, atol=1e-10)
    scaler = json.loads((out / "scaler.json").read_text(encoding="utf-8"))
    assert scaler["mean"] == pytest.approx(mean, abs=1e-12)
    assert scaler["std"] == pytest.approx(std, abs=1e-12)
    final = json.loads((out / "final.json").read_text(encoding="utf-8"))
    assert final["step"] == 0 and final["epoch"] == 1
    assert final["val_rmse"] == pytest.approx(val_rmse, rel=1e-9)
    records = train_tools["metrics"](out)
    assert len(records) == 1 and records[0]["val_rmse"] == pytest.approx(val_rmse, rel=1e-9)
    assert not (out / "checkpoint.npz").exists()  # nothing to resume: a solve, not a run
    assert "least squares: " in proc.stdout and "done: 0 steps, 1 epochs" in proc.stdout


def test_lstsq_beats_every_gradient_run_on_the_training_loss(compiled_case, train_tools, tmp_path):
    """The least-squares weights minimise the training MSE: Adam ends above it, never below."""
    folder = compiled_case("ar_linear", "numpy")
    exact = train_tools["run"](
        folder, "--out", str(tmp_path / "exact"), "--optimizer", "lstsq", "--dtype", "float64"
    )
    adam = train_tools["run"](folder, "--out", str(tmp_path / "adam"), "--dtype", "float64")
    assert exact.returncode == 0 and adam.returncode == 0, (exact.stderr, adam.stderr)
    best = train_tools["metrics"](tmp_path / "exact")[0]["train_loss"]
    adam_weights = dict(np.load(tmp_path / "adam" / "weights.npz"))
    exact_weights = dict(np.load(tmp_path / "exact" / "weights.npz"))
    assert not np.allclose(adam_weights["ar.phi"], exact_weights["ar.phi"])
    # the training MSE of Adam's final weights, by the same formula as the solve's
    values = np.loadtxt(folder.parent / "series.csv", delimiter=",", skiprows=1)[:, 1]
    scaler = json.loads((tmp_path / "exact" / "scaler.json").read_text(encoding="utf-8"))
    z = (values - scaler["mean"]) / scaler["std"]
    n = len(z) - ORDER
    n_train = n - int(n * VALIDATION)
    windows = np.stack([z[t - ORDER : t] for t in range(ORDER, ORDER + n_train)])
    predicted = windows[:, ::-1] @ adam_weights["ar.phi"] + adam_weights["ar.c"][0]
    adam_loss = float(np.mean((predicted - z[ORDER : ORDER + n_train]) ** 2))
    assert best <= adam_loss


def test_lstsq_resume_solves_again(compiled_case, train_tools, tmp_path):
    folder = compiled_case("ar_linear", "numpy")
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out), "--optimizer", "lstsq", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to resume" in proc.stdout and (out / "weights.npz").exists()


def test_only_linear_models_offer_lstsq(compiled_case, train_tools, tmp_path):
    """A network's script has no lstsq choice (and its spec cannot ask for one: tests/invalid)."""
    folder = compiled_case("ar_mlp", "numpy")
    proc = train_tools["run"](folder, "--out", str(tmp_path / "run"), "--optimizer", "lstsq")
    assert proc.returncode == 2 and "invalid choice: 'lstsq'" in proc.stderr


def test_a_spec_can_ask_for_lstsq(tmp_path):
    """optimizer: lstsq in the spec is the script's default."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "seqspec: 1\nname: ar\nmodel: {scheme: ar_linear, order: 2}\n"
        "training: {optimizer: lstsq}\n",
        encoding="utf-8",
    )
    seqspec.compile_spec(spec, "numpy", tmp_path / "out")
    text = (tmp_path / "out" / "train.py").read_text(encoding="utf-8")
    assert '"optimizer": "lstsq",' in text and "least_squares=True," in text
    help_text = subprocess.run([sys.executable, str(tmp_path / "out" / "train.py"), "--help"],
                               capture_output=True, text=True, timeout=120).stdout
    assert "{sgd,momentum,adam,adamw,lstsq}" in help_text and "(default: lstsq)" in help_text
