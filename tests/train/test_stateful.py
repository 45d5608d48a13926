"""training.stateful: the text is read in batch_size streams, and the final state of a row
starts the same batch row's next chunk (char-rnn); resumed runs carry it on exactly."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.errors import SpecError

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]
TEXT = "the cat sat on the mat. a dog ran to the log! " * 12  # 564 characters

# No dropout: a manual forward pass must give the very states the training step carried.
SPEC = """\
seqspec: 1
name: tiny_stateful_lm
model:
  scheme: many_to_many
  input: {{kind: tokens, vocab_size: 16, encoding: embedding, embedding_dim: 6}}
  layers: [{{cell: lstm, hidden_size: 7}}, {{cell: gru, hidden_size: 5}}]
  head: {{kind: softmax, classes: 16}}
training: {{optimizer: momentum, learning_rate: 0.1, epochs: 3, batch_size: 4, \
checkpoint_every: 3{training}}}
data: {{source: text.txt, format: text, sequence_length: 10, split: {{validation: 0.2{split}}}}}
"""
ENV = {"OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1"}

# Runs in the compiled folder: three training steps through the runtime's own Trainer, saving
# the canonical weights before each step, the batch's rows, its loss and the carried state.
PROBE = """
import sys
import numpy as np
import train

runtime = sys.modules[train.run_train.__module__]
task = train.TASK
args = runtime.parse_args(task, ["--out", sys.argv[1], "--dtype", "float64"])
trainer = runtime.Trainer(args, task, train.model)
trainer.begin()
data = runtime.load_data(args, task)
batches = runtime.train_batches(data.size(data.train), args, task, 0, 1)
meta = {"step": 0, "epoch": 0, "batch": 0, "loss_sum": 0.0, "loss_terms": 0}
saved = {"x": data.train["x"], "y": data.train["y"]}
for k in range(3):
    idx = batches[k]
    saved.update({f"w{k}/{n}": np.array(w) for n, w in trainer.arrays()["weights"].items()})
    saved[f"idx{k}"] = idx
    terms = runtime.loss_terms(data.train, idx, task)
    saved[f"loss{k}"] = trainer.step(data.train, idx, terms, meta)
    meta["step"] += 1
    saved.update({f"state{k}/{n}": np.array(s) for n, s in trainer.carried.items()})
np.savez(sys.argv[2], **saved)
"""


def write_spec(folder: Path, training: str = ", stateful: true", split: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "text.txt").write_text(TEXT, encoding="utf-8")
    spec = folder / "spec.yaml"
    spec.write_text(SPEC.format(training=training, split=split), encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """compiled(backend) -> the folder of the stateful spec compiled for it (cached)."""
    cache = {}

    def make(backend: str) -> Path:
        if backend not in cache:
            root = tmp_path_factory.mktemp(f"stateful-{backend}")
            seqspec.compile_spec(write_spec(root), backend, root / "model")
            cache[backend] = root / "model"
        return cache[backend]

    return make


@pytest.fixture(scope="module")
def probed(compiled, tmp_path_factory):
    """probed(backend) -> the arrays PROBE saved for that backend (cached)."""
    cache = {}

    def make(backend: str) -> dict:
        if backend not in cache:
            folder = compiled(backend)
            out = tmp_path_factory.mktemp(f"probe-{backend}")
            proc = subprocess.run(
                [sys.executable, "-c", PROBE, str(out / "run"), str(out / "probe.npz")],
                cwd=folder, capture_output=True, text=True, timeout=300,
                env={**os.environ, **ENV},
            )
            assert proc.returncode == 0, proc.stderr[-3000:]
            with np.load(out / "probe.npz") as f:
                cache[backend] = {k: f[k] for k in f.files}
        return cache[backend]

    return make


@pytest.fixture(scope="module")
def reference(compiled):
    """The NumPy model.py of the same spec: the reference forward pass for every backend."""
    folder = compiled("numpy")
    spec = importlib.util.spec_from_file_location("stateful_reference_model", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))  # model.py imports numpy_runtime from its folder
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def group(arrays: dict, prefix: str) -> dict:
    return {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix + "/")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_carried_state_is_the_previous_chunks_final_state(backend, reference, probed):
    pytest.importorskip({"tensorflow": "tensorflow"}.get(backend, backend))
    got = probed(backend)
    x, y = got["x"], got["y"]
    idx0, idx1, idx2 = got["idx0"], got["idx1"], got["idx2"]
    # batch k + 1's row b is the text that follows batch k's row b: its first input is the
    # target of that row's last step
    np.testing.assert_array_equal(x[idx1][:, 0], y[idx0][:, -1])
    np.testing.assert_array_equal(x[idx2][:, 0], y[idx1][:, -1])
    assert len(idx0) == 4 and len(set(idx0.tolist())) == 4

    # the manual two-chunk forward: chunk 1 from zeros with the weights before step 1, chunk 2
    # from chunk 1's final states with the weights before step 2 (one update per row: no tbptt)
    module = reference
    first = module.Model(weights=group(got, "w0"), dtype="float64")
    _, states0 = first.forward(x=x[idx0], training=False)
    second = module.Model(weights=group(got, "w1"), dtype="float64")
    _, states1 = second.forward(x=x[idx1], initial_state=states0, training=False)
    carried0, carried1 = group(got, "state0"), group(got, "state1")
    assert sorted(carried0) == sorted(states0)
    for name in states0:
        np.testing.assert_allclose(carried0[name], states0[name], rtol=0, atol=1e-12,
                                   err_msg=name)
        np.testing.assert_allclose(carried1[name], states1[name], rtol=0, atol=1e-12,
                                   err_msg=name)
    # and not what the second chunk gives from zeros: the state did carry
    _, fresh = second.forward(x=x[idx1], training=False)
    assert max(np.abs(carried1[k] - fresh[k]).max() for k in fresh) > 1e-3


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_float64_losses_match_numpy_for_three_steps(backend, probed):
    pytest.importorskip({"tensorflow": "tensorflow"}.get(backend, backend))
    reference, got = probed("numpy"), probed(backend)
    for k in range(3):
        assert got[f"loss{k}"] == pytest.approx(float(reference[f"loss{k}"]), rel=1e-9, abs=0)
        for name, value in group(reference, f"state{k}").items():
            # Keras' momentum rounds differently from PyTorch's formula: ~1e-10 after a step
            np.testing.assert_allclose(got[f"state{k}/{name}"], value, rtol=0, atol=1e-8)


def run_train(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(folder / "train.py"), "--no-progress", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **ENV}, cwd=folder,
    )


def kill_mid_epoch(folder: Path, out: Path, args: list[str]) -> dict:
    """Start train.py, SIGKILL it once a checkpoint inside an epoch (a carried state in it)
    exists; return that checkpoint's meta."""
    proc = subprocess.Popen(
        [sys.executable, str(folder / "train.py"), "--no-progress", "--out", str(out), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **ENV}, cwd=folder,
    )
    checkpoint = out / "checkpoint.npz"
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    try:
        while True:
            assert proc.poll() is None, f"train.py ended first: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no checkpoint inside an epoch after 120 s"
            if checkpoint.exists():  # written atomically
                with np.load(checkpoint) as f:
                    meta, files = json.loads(str(f["meta"])), f.files
                if meta["batch"] > 0:
                    break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert any(name.startswith("state/") for name in files)  # the carried state is saved
    return meta


RESUME = ["--epochs", "12", "--checkpoint-every", "2", "--dtype", "float64"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_then_resume_is_bit_exact(backend, compiled, tmp_path):
    pytest.importorskip({"tensorflow": "tensorflow"}.get(backend, backend))
    folder = compiled(backend)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    meta = kill_mid_epoch(folder, killed, RESUME)
    resumed = run_train(folder, "--out", str(killed), "--resume", *RESUME)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"at step {meta['step']}" in resumed.stdout
    full = run_train(folder, "--out", str(clean), *RESUME)
    assert full.returncode == 0, full.stderr[-3000:]
    for name in ("metrics.jsonl", "final.json"):
        assert (killed / name).read_text() == (clean / name).read_text()
    with np.load(killed / "weights.npz") as a, np.load(clean / "weights.npz") as b:
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_validation_reads_the_held_out_text_continuously(compiled, reference, tmp_path):
    """The stateful model's val_loss is that of a continuous reading: it differs from the same
    weights scored row by row from zeros, and equals a manual stateful reading."""
    folder = compiled("numpy")
    out = tmp_path / "run"
    done = run_train(folder, "--out", str(out), "--epochs", "1", "--dtype", "float64")
    assert done.returncode == 0, done.stderr[-3000:]
    final = json.loads((out / "final.json").read_text())
    module = reference
    with np.load(out / "weights.npz") as f:
        model = module.Model(weights={k: f[k] for k in f.files}, dtype="float64")
    ids = {ch: i for i, ch in enumerate(json.loads((out / "vocab.json").read_text())["tokens"])}
    held = TEXT[len(TEXT) - int(len(TEXT) * 0.2):]
    stream = np.array([ids.get(ch, 0) for ch in held])
    rows = (len(stream) - 1) // 10
    x, y = stream[: rows * 10].reshape(rows, 10), stream[1 : rows * 10 + 1].reshape(rows, 10)
    runs = np.array_split(np.arange(rows), 4)  # batch_size streams, the longer first

    def nll(outputs, targets):
        logp = outputs - np.log(np.exp(outputs).sum(-1, keepdims=True))
        return -np.take_along_axis(logp, targets[..., None], -1).sum()

    total, state, zeros = 0.0, None, 0.0
    for k in range(len(runs[0])):
        idx = np.array([run[k] for run in runs if k < len(run)])
        state = None if state is None else {n: s[: len(idx)] for n, s in state.items()}
        outputs, state = model.forward(x=x[idx], initial_state=state, training=False)
        total += nll(outputs, y[idx])
        zeros += nll(model.forward(x=x[idx], training=False)[0], y[idx])
    assert final["val_loss"] == pytest.approx(total / y.size, rel=1e-12)
    assert abs(final["val_loss"] - zeros / y.size) > 1e-6

    # predict.py --evaluate reads the held-out text the same way: the same numbers
    proc = subprocess.run(
        [sys.executable, str(folder / "predict.py"), "--weights", str(out / "weights.npz"),
         "--evaluate", "--format", "json", "--dtype", "float64"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **ENV}, cwd=folder,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == {k: v for k, v in final.items() if k.startswith("val_")}


@pytest.mark.parametrize(("split", "refused"), [(", shuffle: true", True),
                                               (", shuffle: false", False), ("", False)])
def test_an_explicit_shuffle_is_refused_at_its_key(tmp_path, split, refused):
    spec = write_spec(tmp_path, split=split)
    if not refused:
        assert seqspec.load(spec).training.stateful
        return
    with pytest.raises(SpecError) as info:
        seqspec.load(spec)
    assert "data.split.shuffle" in str(info.value)
    assert "reads the text in order" in str(info.value)


def test_stateful_needs_a_language_model_that_carries_its_state(tmp_path):
    spec = write_spec(tmp_path)
    text = spec.read_text().replace("{cell: gru, hidden_size: 5}",
                                    "{cell: gru, hidden_size: 5, bidirectional: true}")
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        seqspec.load(spec)
    assert "training.stateful" in str(info.value)
    assert "no bidirectional layer" in str(info.value)
