"""Early stopping and the best weights (training.monitor, mode, patience, min_delta,
restore_best), in every backend: the same epochs judged the same way, the same messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

import seqspec
from seqspec.errors import SpecError

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]
# min_delta 0.05: the tiny LM's validation loss soon improves by less, so patience runs out
STOP = ["--epochs", "20", "--dtype", "float64", "--patience", "2", "--min-delta", "0.05"]


def judged(records, min_delta):
    """(best epoch, stop epoch) that the rules give for these records (mode min)."""
    best, best_epoch, waited = None, 0, 0
    for r in records:
        if best is None or r["val_loss"] < best - min_delta:
            best, best_epoch, waited = r["val_loss"], r["epoch"], 0
        else:
            waited += 1
        if waited >= 2:
            return best_epoch, r["epoch"]
    return best_epoch, None


@pytest.mark.parametrize("backend", BACKENDS)
def test_patience_stops_and_restore_best_ships_the_best_epoch(backend, compiled_case,
                                                              train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("many_to_many", backend)
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out), *STOP, "--restore-best")
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = train_tools["metrics"](out)
    best_epoch, stop_epoch = judged(records, 0.05)
    assert stop_epoch is not None and stop_epoch < 20, records
    assert records[-1]["epoch"] == stop_epoch  # no epoch after the stop
    best = records[best_epoch - 1]["val_loss"]
    assert (f"early stop: val_loss has not improved for 2 epochs (best {best:.4g}, "
            f"epoch {best_epoch})") in proc.stdout
    assert f"weights.npz: the weights of epoch {best_epoch}, the best" in proc.stdout
    with np.load(out / "best.npz") as b, np.load(out / "weights.npz") as w:
        assert sorted(b.files) == sorted(w.files)
        for k in b.files:
            np.testing.assert_array_equal(b[k], w[k], err_msg=k)
    final = json.loads((out / "final.json").read_text(encoding="utf-8"))
    assert final["val_loss"] == pytest.approx(best, rel=1e-9)  # judged on the best weights


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_restore_best_the_last_weights_ship_and_best_npz_is_kept(
        backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("many_to_many", backend)
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out), *STOP, "--no-restore-best")
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = train_tools["metrics"](out)
    best_epoch, stop_epoch = judged(records, 0.05)
    assert best_epoch < stop_epoch == records[-1]["epoch"]
    with np.load(out / "best.npz") as b, np.load(out / "weights.npz") as w:
        assert any(not np.array_equal(b[k], w[k]) for k in b.files)
    final = json.loads((out / "final.json").read_text(encoding="utf-8"))
    assert final["val_loss"] == pytest.approx(records[-1]["val_loss"], rel=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mode_max_on_a_loss_keeps_the_first_epoch(backend, compiled_case, train_tools, tmp_path):
    """--mode max judges larger as better: on a falling loss, epoch 1 stays the best."""
    pytest.importorskip(backend)
    folder = compiled_case("many_to_many", backend)
    out = tmp_path / "run"
    args = ["--epochs", "4", "--dtype", "float64", "--mode", "max", "--restore-best"]
    proc = train_tools["run"](folder, "--out", str(out), *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "weights.npz: the weights of epoch 1, the best" in proc.stdout
    records = train_tools["metrics"](out)
    assert len(records) == 4 and records[-1]["val_loss"] < records[0]["val_loss"]


def test_a_monitor_the_model_does_not_record_is_refused_at_its_key(tmp_path, train_tools):
    spec = train_tools["write_case"]("many_to_many", tmp_path / "case",
                                     extra=", monitor: val_rmse")
    with pytest.raises(SpecError) as info:
        seqspec.compile_spec(spec, "numpy", tmp_path / "out")
    message = str(info.value)
    assert "training.monitor" in message and "val_rmse" in message and "val_bpc" in message
