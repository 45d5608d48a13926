"""Behaviour of a training run: seeds, --max-steps, divergence, sampling, missing data."""

from __future__ import annotations

import json

import numpy as np
import pytest

BACKENDS = [
    pytest.param("numpy"),
    pytest.param("torch", marks=pytest.mark.torch),
    # ~10 s per TensorFlow start: its seeding is checked in test_distributed (two equal runs)
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]


def checkpoint_step(out):
    with np.load(out / "checkpoint.npz") as f:
        return json.loads(str(f["meta"]))["step"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_losses(backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("many_to_one", backend)
    runs = {}
    seeds = (("a", "3"), ("b", "3"), ("c", "4")) if backend == "numpy" else (("a", "3"), ("b", "3"))
    for name, seed in seeds:
        proc = train_tools["run"](folder, "--out", str(tmp_path / name), "--seed", seed,
                                  "--epochs", "2")
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[name] = train_tools["metrics"](tmp_path / name)
    assert runs["a"] == runs["b"]  # bit for bit: every loss and metric
    if "c" in runs:
        assert runs["a"][0]["train_loss"] != runs["c"][0]["train_loss"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_diverging_loss_stops_and_keeps_the_last_checkpoint(backend, compiled_case, train_tools,
                                                          tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case("ar_linear", backend)
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out), "--optimizer", "sgd", "--lr", "1e30",
                              "--checkpoint-every", "1")
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()[-1]
    # float64 (NumPy's master weights) sees the loss explode; float32 sees it overflow
    assert "the run is diverging" in message or "the loss is inf" in message, message
    assert "Traceback" not in proc.stderr and proc.returncode == 1
    step = int(message.split(":")[0].removeprefix("step "))
    assert step >= 2
    # the checkpoint of the step before is intact, and nothing after it was written
    assert checkpoint_step(out) == step - 1
    assert f"the checkpoint of step {step - 1} is kept" in message
    with np.load(out / "weights.npz") as f:
        assert len(f.files) == 2  # ar.phi, ar.c


def test_max_steps_then_resume_to_the_end(compiled_case, train_tools, tmp_path):
    folder = compiled_case("seq2seq", "numpy")
    short, full = tmp_path / "short", tmp_path / "full"
    proc = train_tools["run"](folder, "--out", str(short), "--max-steps", "6")
    assert proc.returncode == 0, proc.stderr
    assert checkpoint_step(short) == 6
    assert "done: 6 steps, 1 epochs" in proc.stdout  # 4 steps per epoch: one epoch done
    proc = train_tools["run"](folder, "--out", str(short), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert train_tools["run"](folder, "--out", str(full)).returncode == 0
    assert train_tools["metrics"](short) == train_tools["metrics"](full)


def test_sample_from_the_trained_language_model(compiled_case, train_tools, tmp_path):
    folder = compiled_case("many_to_many", "numpy")
    out = tmp_path / "run"
    assert train_tools["run"](folder, "--out", str(out), "--epochs", "3").returncode == 0
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["tokens"][0] == "<unk>" and set("the cat") <= set(vocab["tokens"])
    texts = []
    for extra in (["--temperature", "0"], ["--temperature", "0"], ["--top-k", "3"], []):
        proc = train_tools["run"](folder, "--out", str(out), "--sample", "40", "--prime", "the ",
                                  *extra)
        assert proc.returncode == 0, proc.stderr
        texts.append(proc.stdout.rstrip("\n"))
    assert texts[0] == texts[1]  # argmax is deterministic
    for text in texts:
        plain = text.replace("<unk>", "?")  # the untrained id 0 may come out
        assert plain.startswith("the ") and len(plain) == 44, text
        assert set(plain) <= set(vocab["tokens"]) | {"?"}


def test_missing_data_file_is_a_clear_error(compiled_case, train_tools, tmp_path):
    folder = compiled_case("many_to_one", "numpy")
    proc = train_tools["run"](folder, "--out", str(tmp_path), "--data", str(tmp_path / "no.npz"))
    assert proc.returncode != 0
    assert "no data file" in proc.stderr and "no.npz" in proc.stderr
