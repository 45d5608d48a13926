"""A run killed with SIGKILL and resumed ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    # the same code path; three TensorFlow starts cost ~40 s, so it runs with -m slow
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]
ARGS = ["--epochs", "20", "--checkpoint-every", "3", "--dtype", "float64"]


def kill_after_first_checkpoint(folder, out, args):
    """Start train.py, wait for its first checkpoint, SIGKILL it; return the checkpoint's step."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, str(folder / "train.py"), "--no-progress", "--out", str(out), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=folder,
    )
    checkpoint = out / "checkpoint.npz"
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    try:
        while not checkpoint.exists():
            assert proc.poll() is None, f"train.py ended first: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.002)
        time.sleep(0.05)  # let it train a few steps past the checkpoint
        assert proc.poll() is None, "train.py finished before it could be killed: make ARGS longer"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with np.load(checkpoint) as f:
        return json.loads(str(f["meta"]))["step"]


# plain SGD keeps no state: its checkpoint's optimizer group is empty and must still resume
@pytest.mark.parametrize("optimizer", [[], ["--optimizer", "sgd"]], ids=["default", "plain_sgd"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_then_resume_matches_uninterrupted(backend, optimizer, compiled_case, train_tools,
                                                   tmp_path):
    pytest.importorskip({"tensorflow": "tensorflow"}.get(backend, backend))
    folder = compiled_case("many_to_many", backend)  # a 2-layer LM with dropout and TBPTT
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    args = [*ARGS, *optimizer]
    step = kill_after_first_checkpoint(folder, killed, args)
    assert step > 0

    resumed = train_tools["run"](folder, "--out", str(killed), "--resume", *args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # it continues from the last checkpoint: only the steps after it were lost
    assert f"resumed from {killed / 'checkpoint.npz'} at step {step}" in resumed.stdout

    full = train_tools["run"](folder, "--out", str(clean), *args)
    assert full.returncode == 0, full.stderr[-3000:]
    assert train_tools["metrics"](killed) == train_tools["metrics"](clean)
    with np.load(killed / "weights.npz") as a, np.load(clean / "weights.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# early stopping, the best weights, the plateau schedule and AdamW with weight decay: all of
# their state is resumed
EARLY = ["--epochs", "20", "--checkpoint-every", "3", "--dtype", "float64", "--patience", "2",
         "--min-delta", "0.05", "--restore-best", "--schedule", "plateau", "--lr-decay", "0.5",
         "--lr-decay-epochs", "1", "--warmup-steps", "4", "--optimizer", "adamw",
         "--weight-decay", "0.01"]


def kill_when(folder, out, args, ready):
    """Start train.py, SIGKILL it as soon as it has written a checkpoint whose meta is
    ready(meta); return that meta."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, str(folder / "train.py"), "--no-progress", "--out", str(out), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=folder,
    )
    checkpoint = out / "checkpoint.npz"
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    try:
        while True:
            assert proc.poll() is None, f"train.py ended first: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no such checkpoint after 120 s"
            if checkpoint.exists():  # written atomically: never half a file
                with np.load(checkpoint) as f:
                    meta = json.loads(str(f["meta"]))
                if ready(meta):
                    break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return meta


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_with_early_stopping_and_best_weights_resumes_exactly(backend, compiled_case,
                                                                      train_tools, tmp_path):
    """The patience counter, the best value and the best weights are in the checkpoint: the
    resumed run stops at the same epoch and ships the same best weights."""
    pytest.importorskip({"tensorflow": "tensorflow"}.get(backend, backend))
    folder = compiled_case("many_to_many", backend)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    # killed while the patience counter runs: an epoch has passed without improvement
    meta = kill_when(folder, killed, EARLY, lambda meta: meta["best"]["waited"] >= 1)
    assert meta["best"]["epoch"] < meta["epoch"] and not meta.get("stopped")
    assert meta["lr_scale"] == 0.5  # the plateau schedule has decayed once

    resumed = train_tools["run"](folder, "--out", str(killed), "--resume", *EARLY)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"at step {meta['step']}" in resumed.stdout
    full = train_tools["run"](folder, "--out", str(clean), *EARLY)
    assert full.returncode == 0, full.stderr[-3000:]
    assert "early stop" in full.stdout and "early stop" in resumed.stdout
    assert train_tools["metrics"](killed) == train_tools["metrics"](clean)
    assert len(train_tools["metrics"](clean)) < 20
    for name in ("weights.npz", "best.npz"):
        with np.load(killed / name) as a, np.load(clean / name) as b:
            assert sorted(a.files) == sorted(b.files)
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name} {k}")
