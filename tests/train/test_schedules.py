"""Learning-rate schedules (training.schedule, warmup_steps, lr_decay, lr_decay_epochs) in every
backend: the rate each epoch's record carries is the documented formula's, the same everywhere."""

from __future__ import annotations

import math

import pytest

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]
LR = 0.03  # the many_to_many case's learning_rate
EPOCHS = 6
COMMON = ["--epochs", str(EPOCHS), "--dtype", "float64"]


def expected_step(record):
    """--schedule step --lr-decay 0.5 --lr-decay-epochs 2, at the epoch's last step."""
    return LR * 0.5 ** ((record["epoch"] - 1) // 2)


def expected_cosine(record, total, warmup=3):
    """--schedule cosine --warmup-steps 3, at the epoch's last step (steps count from 0)."""
    step = record["step"] - 1
    span = total - warmup
    lr = LR * 0.5 * (1 + math.cos(math.pi * min(max(step - warmup, 0), span) / span))
    return lr * (step + 1) / warmup if step < warmup else lr


def expected_plateau(records, min_delta=0.1):
    """--schedule plateau --lr-decay 0.5 --lr-decay-epochs 1: halved after every epoch that does
    not beat the best val_loss by more than min_delta (the next epoch runs at the new rate)."""
    rates, lr, best = [], LR, None
    for r in records:
        rates.append(lr)
        if best is None or r["val_loss"] < best - min_delta:
            best = r["val_loss"]
        else:
            lr *= 0.5
    return rates


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_schedule_follows_its_formula(backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("many_to_many", backend)
    runs = {
        "step": ["--schedule", "step", "--lr-decay", "0.5", "--lr-decay-epochs", "2"],
        "cosine": ["--schedule", "cosine", "--warmup-steps", "3"],
        "plateau": ["--schedule", "plateau", "--lr-decay", "0.5", "--lr-decay-epochs", "1",
                    "--min-delta", "0.1"],
    }
    records = {}
    for name, args in runs.items():
        out = tmp_path / name
        proc = train_tools["run"](folder, "--out", str(out), *COMMON, *args)
        assert proc.returncode == 0, proc.stderr[-3000:]
        records[name] = train_tools["metrics"](out)
        assert len(records[name]) == EPOCHS
    total = records["cosine"][-1]["step"]
    for r in records["step"]:
        assert r["lr"] == pytest.approx(expected_step(r), rel=1e-12)
    for r in records["cosine"]:
        assert r["lr"] == pytest.approx(expected_cosine(r, total), rel=1e-12)
    rates = expected_plateau(records["plateau"])
    assert [r["lr"] for r in records["plateau"]] == pytest.approx(rates, rel=1e-12)
    assert min(rates) < LR  # the plateau was reached: the schedule was exercised
    # the rate changes the training: the schedules' losses differ from one another
    assert len({r[-1]["train_loss"] for r in records.values()}) == 3


def test_a_plateau_schedule_needs_the_monitor_like_early_stopping(tmp_path, train_tools):
    import seqspec

    root = tmp_path / "case"
    spec = train_tools["write_case"]("many_to_one", root)
    text = spec.read_text(encoding="utf-8").replace("validation: 0.2", "validation: 0.0")
    spec.write_text(text, encoding="utf-8")
    folder = seqspec.compile_spec(spec, "numpy", root / "numpy")[0].parent
    proc = train_tools["run"](folder, "--out", str(tmp_path / "out"), "--schedule", "plateau")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("--monitor val_loss: the data leaves no validation split; "
                                   "monitor train_loss or keep some")
