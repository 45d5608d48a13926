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


@pytest.fixture(scope="module")
def no_validation_split(tmp_path_factory, train_tools):
    """A many_to_one case whose data leaves no validation split, compiled for every backend."""
    root = tmp_path_factory.mktemp("no-val")
    spec = train_tools["write_case"]("many_to_one", root)
    text = spec.read_text(encoding="utf-8")
    assert "validation: 0.2" in text
    spec.write_text(text.replace("validation: 0.2", "validation: 0.0"), encoding="utf-8")
    return {b: seqspec.compile_spec(spec, b, root / b)[0].parent for b in
            ("numpy", "torch", "tensorflow")}


def test_a_val_monitor_without_a_validation_split_is_one_line_in_every_backend(
        no_validation_split, train_tools, tmp_path):
    lines = {}
    for backend, folder in no_validation_split.items():
        pytest.importorskip(backend)
        out = tmp_path / backend
        proc = train_tools["run"](folder, "--out", str(out), "--patience", "2")
        assert proc.returncode == 1, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        lines[backend] = proc.stderr.strip().splitlines()[-1]  # after TensorFlow's start-up log
        assert not (out / "checkpoint.npz").exists()
        # train_loss needs no split, and without a user of the monitor nothing is refused
        for args in (["--monitor", "train_loss", "--patience", "2"], []):
            proc = train_tools["run"](folder, "--out", str(out), "--overwrite", "--epochs", "1",
                                      *args)
            assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(lines.values()) == {"--monitor val_loss: the data leaves no validation split; "
                                   "monitor train_loss or keep some"}
