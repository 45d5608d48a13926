"""train.py under faults: nothing lost, nothing silently wrong, no traceback (issue 14).

Every fault class is tried in every backend. Most cases run through ``run_cases`` (conftest's
``run_jobs``): one Python process per backend imports the compiled ``train.py`` and calls its
``main(argv)`` once per case, recording the ``SystemExit`` message (what the user would read on
stderr, exit status 1) or the traceback of anything else. That keeps TensorFlow to one start
per test while every case still runs the real script. Faults that need a process of their own
(a full disk, exit statuses) run ``train.py`` as a user would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]
#: for the tests that start several TensorFlow processes (~10 s each): those run with -m slow
RUNS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]
ALL = ("numpy", "torch", "tensorflow")

def run_cases(train_tools, folder: Path, cases: dict[str, list[str]], tmp: Path,
              env: dict[str, str] | None = None):
    """The shared run_jobs (tests/train/conftest.py) for the cases of one train.py:
    {case: ["exit", message, stdout] | ["ok", stdout] | ["crash", traceback]}."""
    return train_tools["run_jobs"]([(folder, cases)], tmp, env)


def refused(result) -> str:
    """The one line a refused case printed; fails on a traceback or a silent acceptance."""
    assert result[0] != "crash", result[1]
    assert result[0] == "exit", f"accepted silently: {result}"
    message = result[1]
    assert message not in ("0", "None") and "\n" not in message and "Traceback" not in message
    return message


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder (by relative path): a byte-exact snapshot."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
    }


def finite_on_disk(out: Path) -> None:
    """Every array of every .npz a run left is finite."""
    for name in ("checkpoint.npz", "weights.npz"):
        if (out / name).exists():
            with np.load(out / name) as f:
                for key in f.files:
                    if f[key].dtype.kind == "f":
                        assert np.isfinite(f[key]).all(), f"{name}:{key}"


def checkpoint_step(out: Path) -> int:
    with np.load(out / "checkpoint.npz") as f:
        return json.loads(str(f["meta"]))["step"]


def importorskip(backend: str) -> None:
    pytest.importorskip(backend)


# --------------------------------------------------------------------------- 1. flags
BAD_FLAGS = {
    "negative clip norm": ["--clip-norm", "-1"],
    "zero batch size": ["--batch-size", "0"],
    "zero epochs": ["--epochs", "0"],
    "zero checkpoint interval": ["--checkpoint-every", "0"],
    "negative max steps": ["--max-steps", "-3"],
    "infinite lr": ["--lr", "inf"],
    "nan lr": ["--lr", "nan"],
    "zero lr": ["--lr", "0"],
    "lr beyond float32": ["--lr", "1e300"],
    "negative seed": ["--seed", "-1"],
    "huge seed": ["--seed", str(2**40)],
    "negative divergence": ["--divergence", "-2"],
    "empty out": ["--out", ""],
    "resume and overwrite": ["--resume", "--overwrite"],
    "negative tbptt": ["--tbptt", "-1"],
    "negative temperature": ["--temperature", "-1", "--sample", "3"],
    "negative patience": ["--patience", "-1"],
    "nan min delta": ["--min-delta", "nan"],
    "negative min delta": ["--min-delta", "-0.5"],
    "negative weight decay": ["--weight-decay", "-0.1"],
    "nan weight decay": ["--weight-decay", "nan"],
    "lr decay above 1": ["--lr-decay", "1.5"],
    "nan lr decay": ["--lr-decay", "nan"],
    "negative warmup": ["--warmup-steps", "-1"],
    "zero decay epochs": ["--lr-decay-epochs", "0"],
}


@pytest.fixture(scope="module")
def flag_messages(compiled_case, train_tools, tmp_path_factory):
    """{backend: {case: result}} for every bad flag, on the language model (it has them all)."""
    tmp = tmp_path_factory.mktemp("flags")
    results = {}
    for backend in ALL:
        try:
            __import__(backend)
        except ImportError:
            continue
        folder = compiled_case("many_to_many", backend)
        cases = {k: [*v, "--out", str(tmp / backend)] if "--out" not in v else v
                 for k, v in BAD_FLAGS.items()}
        results[backend] = run_cases(train_tools, folder, cases, tmp)
        results[backend]["wrote nothing"] = not (tmp / backend).exists()
    return results


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_bad_flag_is_one_line(backend, flag_messages):
    importorskip(backend)
    for case in BAD_FLAGS:
        message = refused(flag_messages[backend][case])
        assert BAD_FLAGS[case][0].lstrip("-") in message, (case, message)
    assert flag_messages[backend]["wrote nothing"]


def test_flag_messages_are_the_same_in_every_backend(flag_messages):
    if len(flag_messages) < 2:
        pytest.skip("one backend installed")
    first, *others = flag_messages.values()
    for other in others:
        assert {k: other[k][1] for k in BAD_FLAGS} == {k: first[k][1] for k in BAD_FLAGS}


# --------------------------------------------------------------------------- 2. data files
def bad_data(tmp: Path) -> dict[str, tuple[str, list[str], str]]:
    """case -> (spec case, extra argv, words the message must hold); writes the files."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(20, 6, 2))
    y = rng.integers(0, 2, size=20)
    files = {
        "counts.npz": dict(x=x, y=y[:15]),
        "width.npz": dict(x=x[:, :, :1], y=y),
        "nan.npz": dict(x=np.where(x > 0.9, np.nan, x), y=y),
        "labels.npz": dict(x=x, y=y + 5),
        "lengths.npz": dict(x=x, y=y, lengths=np.full(20, 9)),
        "names.npz": dict(inputs=x, y=y),
        "tokens.npz": dict(x=np.full((30, 4), -1), y=np.ones((30, 4), np.int64),
                           x_lengths=np.full(30, 4), y_lengths=np.full(30, 4)),
        "big_tokens.npz": dict(x=np.full((30, 4), 6), y=np.ones((30, 4), np.int64)),
        "target_width.npz": dict(windows=rng.normal(size=(30, 3)), y=rng.normal(size=(30, 2))),
        "objects.npz": dict(x=np.array([{"a": 1}] * 20, dtype=object), y=y),
    }
    for name, arrays in files.items():
        if name == "objects.npz":
            np.savez(tmp / name, **arrays)  # pickled objects, which train.py must not load
        else:
            np.savez(tmp / name, **arrays)
    (tmp / "garbage.npz").write_bytes(b"\x80\x04\x95 not a zip at all" * 10)
    (tmp / "latin1.txt").write_bytes("caf\xe9 au lait ".encode("latin-1") * 50)
    (tmp / "folder.npz").mkdir()
    (tmp / "nan.csv").write_text("value\n1\n2\nnan\n3\n", encoding="utf-8")
    (tmp / "nul.csv").write_bytes(b"value\n1\n2\x00\n3\n")
    d = str(tmp)
    return {
        "sample counts": ("many_to_one", ["--data", f"{d}/counts.npz"], "'y' has 15 samples"),
        "feature width": ("many_to_one", ["--data", f"{d}/width.npz"], "'x' has shape"),
        "non-finite values": ("many_to_one", ["--data", f"{d}/nan.npz"], "'x' holds NaN"),
        "label range": ("many_to_one", ["--data", f"{d}/labels.npz"], "'y' holds ids"),
        "lengths range": ("many_to_one", ["--data", f"{d}/lengths.npz"], "'lengths'"),
        "missing array": ("many_to_one", ["--data", f"{d}/names.npz"], "no array named x"),
        "negative token ids": ("seq2seq", ["--data", f"{d}/tokens.npz"], "'x' holds ids from -1"),
        "token ids too big": ("seq2seq", ["--data", f"{d}/big_tokens.npz"], "outside [0, 6)"),
        "target width": ("ar_npz", ["--data", f"{d}/target_width.npz"], "'y' has shape (30, 2)"),
        "pickled objects": ("many_to_one", ["--data", f"{d}/objects.npz"], "Python objects"),
        "garbage npz": ("many_to_one", ["--data", f"{d}/garbage.npz"], "not an .npz file"),
        "folder as data": ("many_to_one", ["--data", f"{d}/folder.npz"], "a folder"),
        "missing file": ("many_to_one", ["--data", f"{d}/none.npz"], "no data file"),
        "not utf-8": ("many_to_many", ["--data", f"{d}/latin1.txt"], "not UTF-8 text"),
        "nan in csv": ("ar_linear", ["--data", f"{d}/nan.csv"], ":4: 'nan'"),
        "nul in csv": ("ar_linear", ["--data", f"{d}/nul.csv"], "nul.csv:3:"),
    }


@pytest.fixture(scope="module")
def data_messages(compiled_case, train_tools, tmp_path_factory):
    """{backend: {case: (result, expected words, out folder)}} for every bad data file."""
    tmp = tmp_path_factory.mktemp("data")
    cases = bad_data(tmp)
    results = {}
    for backend in ALL:
        try:
            __import__(backend)
        except ImportError:
            continue
        jobs = [
            (compiled_case(spec, backend), {k: [*argv, "--out", str(tmp / backend / k)]
                                            for k, (s, argv, _) in cases.items() if s == spec})
            for spec in sorted({spec for spec, _, _ in cases.values()})
        ]
        found = train_tools["run_jobs"](jobs, tmp)
        results[backend] = {k: (r, cases[k][2], tmp / backend / k) for k, r in found.items()}
    return results


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_bad_data_file_is_one_line_naming_file_and_array(backend, data_messages):
    importorskip(backend)
    for case, (result, words, out) in data_messages[backend].items():
        message = refused(result)
        assert words in message, (case, message)
        assert not out.exists(), case  # nothing written, not even the folder


def test_data_messages_are_the_same_in_every_backend(data_messages):
    if len(data_messages) < 2:
        pytest.skip("one backend installed")
    first, *others = data_messages.values()
    for other in others:
        assert {k: v[0][1] for k, v in other.items()} == {k: v[0][1] for k, v in first.items()}


# --------------------------------------------------------------------------- 3. runs and resume
@pytest.fixture(scope="module")
def finished(compiled_case, train_tools, tmp_path_factory):
    """finished(backend) -> (train.py's folder, the --out of a finished 2-epoch run)."""
    cache = {}

    def make(backend):
        if backend not in cache:
            folder = compiled_case("many_to_one", backend)
            out = tmp_path_factory.mktemp(f"finished-{backend}") / "run"
            proc = train_tools["run"](folder, "--out", str(out), "--epochs", "2",
                                      "--dtype", "float64")
            assert proc.returncode == 0, proc.stderr[-3000:]
            cache[backend] = folder, out
        return cache[backend]

    return make


@pytest.mark.parametrize("backend", RUNS)
def test_second_run_into_a_finished_out_is_refused(backend, finished, train_tools):
    importorskip(backend)
    folder, out = finished(backend)
    before = digest(out)
    proc = train_tools["run"](folder, "--out", str(out), "--epochs", "1")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"--out {out} already holds files: pass --resume to continue that run, "
        "--overwrite to replace it, or another --out"
    )
    assert digest(out) == before  # every file of the first run byte-identical


def damaged_copies(out: Path, tmp: Path, other: Path) -> dict[str, Path]:
    """Copies of a finished --out, each with one fault (plus `other`: another model's run)."""
    made = {}

    def copy(name):
        made[name] = tmp / name
        shutil.copytree(out, made[name])
        return made[name]

    data = (out / "checkpoint.npz").read_bytes()
    (copy("truncated checkpoint") / "checkpoint.npz").write_bytes(data[: len(data) // 2])
    (copy("garbage checkpoint") / "checkpoint.npz").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    shutil.copy(other / "checkpoint.npz", copy("another model's checkpoint") / "checkpoint.npz")
    with np.load(out / "checkpoint.npz") as f:
        arrays = {k: f[k] for k in f.files}
    arrays["meta"] = np.array(json.dumps({"step": 3}))
    np.savez(copy("checkpoint without counters") / "checkpoint.npz", **arrays)
    arrays = {k: (np.full_like(v, np.nan) if k.startswith("weights/") else v)
              for k, v in arrays.items() if k != "meta"}
    with np.load(out / "checkpoint.npz") as f:
        arrays["meta"] = f["meta"]
    np.savez(copy("non-finite checkpoint") / "checkpoint.npz", **arrays)
    metrics = (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    (copy("damaged metrics line") / "metrics.jsonl").write_text(
        metrics[0][:10] + "\n" + "\n".join(metrics[1:]) + "\n", encoding="utf-8")
    (copy("half-written metrics line") / "metrics.jsonl").write_text(
        "\n".join(metrics) + "\n" + metrics[-1][:12], encoding="utf-8")
    # what a kill inside a checkpoint write leaves: the next run in the folder removes it
    (made["half-written metrics line"] / ".partial-checkpoint.npz.123.0").write_bytes(data[:99])
    copy("changed optimizer")
    folder = copy("no checkpoint")
    (folder / "checkpoint.npz").unlink()
    return made


RESUME_WORDS = {
    "truncated checkpoint": "not a readable checkpoint",
    "garbage checkpoint": "not a readable checkpoint",
    "another model's checkpoint": "another model's checkpoint",
    "checkpoint without counters": "no counters",
    "non-finite checkpoint": "its weights hold non-finite values",
    "damaged metrics line": "metrics.jsonl:1: not a metrics record",
    "no checkpoint": "no checkpoint.npz to resume from",
}


@pytest.mark.parametrize("backend", RUNS)
def test_resume_from_damaged_runs(backend, finished, compiled_case, train_tools, tmp_path):
    importorskip(backend)
    folder, out = finished(backend)
    other = tmp_path / "other"  # another model's finished run, in the same backend
    proc = train_tools["run"](compiled_case("seq2seq", backend), "--out", str(other),
                              "--max-steps", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    copies = damaged_copies(out, tmp_path / "copies", other)
    before = {name: digest(path) for name, path in copies.items()}
    cases = {name: ["--out", str(path), "--resume", "--epochs", "3", "--dtype", "float64"]
             for name, path in copies.items()}
    cases["changed optimizer"] += ["--optimizer", "sgd", "--lr", "0.01"]
    results = run_cases(train_tools, folder, cases, tmp_path)
    for name, words in RESUME_WORDS.items():
        message = refused(results[name])
        assert words in message, (name, message)
        assert digest(copies[name]) == before[name], name  # nothing touched
    # a half-written last line (a crash while appending) is dropped and the run goes on
    result = results["half-written metrics line"]
    assert result[0] == "ok", result
    assert "dropped a half-written last line" in result[1]
    records = train_tools["metrics"](copies["half-written metrics line"])
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert not list(copies["half-written metrics line"].glob(".partial-*"))
    # another optimizer: the weights are kept, its state starts afresh, as the docs say
    result = results["changed optimizer"]
    assert result[0] == "ok", result
    assert "--optimizer adam -> sgd" in result[1] and "starts afresh" in result[1]
    assert checkpoint_step(copies["changed optimizer"]) > checkpoint_step(out)
    finite_on_disk(copies["changed optimizer"])


@pytest.mark.parametrize("backend", RUNS)
def test_checkpoint_of_another_backend_is_refused(backend, finished, tmp_path, train_tools):
    importorskip(backend)
    folder, out = finished(backend)
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    with np.load(copy / "checkpoint.npz") as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["backend"] = "numpy" if backend != "numpy" else "torch"
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(copy / "checkpoint.npz", **arrays)
    results = run_cases(train_tools, folder, {"foreign": ["--out", str(copy), "--resume"]},
                        tmp_path)
    assert f"written by the {meta['backend']} train.py" in refused(results["foreign"])


@pytest.mark.parametrize("backend", RUNS)
def test_overwrite_replaces_the_earlier_run(backend, finished, tmp_path, train_tools):
    importorskip(backend)
    folder, out = finished(backend)
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    (copy / "notes.txt").write_text("mine", encoding="utf-8")
    proc = train_tools["run"](folder, "--out", str(copy), "--overwrite", "--max-steps", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert checkpoint_step(copy) == 2  # a fresh run, not the old one's step
    assert (copy / "notes.txt").read_text(encoding="utf-8") == "mine"  # not a file of a run


# --------------------------------------------------------------------------- 4. bad steps
@pytest.mark.parametrize("backend", RUNS)
def test_bad_steps_stop_and_keep_the_last_finite_checkpoint(backend, compiled_case, train_tools,
                                                            tmp_path):
    """A diverging loss, an overflowing gradient with a finite loss, an update that makes the
    weights infinite: each stops before anything of its step is written."""
    importorskip(backend)
    folder = compiled_case("ar_npz", backend)
    # gradients overflow float32 (2e39) while the loss (1e36) is finite
    np.savez(tmp_path / "overflow.npz", windows=np.full((40, 3), 1e21), y=np.full((40, 1), 1e18))
    runs = {name: tmp_path / name for name in ("base", "gradient", "diverge", "weights")}
    proc = train_tools["run"](folder, "--out", str(runs["base"]), "--epochs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    base_step = checkpoint_step(runs["base"])
    before = digest(runs["base"])
    cases = {
        "gradient": ["--out", str(runs["gradient"]), "--data", str(tmp_path / "overflow.npz")],
        "resumed": ["--out", str(runs["base"]), "--resume", "--epochs", "2",
                    "--data", str(tmp_path / "overflow.npz"), "--divergence", "0"],
        "diverge": ["--out", str(runs["diverge"]), "--optimizer", "sgd", "--lr", "1e20",
                    "--checkpoint-every", "1", "--dtype", "float64"],
        "weights": ["--out", str(runs["weights"]), "--optimizer", "sgd", "--lr", "1e38",
                    "--checkpoint-every", "1"],
    }
    results = run_cases(train_tools, folder, cases, tmp_path)

    message = refused(results["gradient"])  # fresh weights: the loss is finite, not its gradient
    assert message.startswith("step 1: the gradients hold non-finite values"), message
    assert "no checkpoint yet" in message
    assert not (runs["gradient"] / "checkpoint.npz").exists()
    assert not (runs["gradient"] / "weights.npz").exists()

    message = refused(results["resumed"])  # trained weights: the loss or the gradient overflows
    assert message.startswith(f"step {base_step + 1}: "), message
    assert f"the checkpoint of step {base_step} is kept" in message
    assert digest(runs["base"]) == before  # the kept checkpoint is the last finite one

    message = refused(results["diverge"])
    assert "the run is diverging" in message or "the loss is" in message, message
    step = int(message.split(":")[0].removeprefix("step "))
    assert checkpoint_step(runs["diverge"]) == step - 1
    assert f"the checkpoint of step {step - 1} is kept" in message

    message = refused(results["weights"])
    assert "non-finite" in message or "the loss is" in message or "diverging" in message
    for out in runs.values():
        finite_on_disk(out)


# --------------------------------------------------------------------------- 5. files
def limit_file_size():
    """In the child: files may not grow past 2 kB, and writing past it fails with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


@pytest.mark.parametrize("backend", RUNS)
def test_full_disk_is_one_line_and_keeps_the_previous_checkpoint(backend, finished, train_tools,
                                                                 tmp_path):
    importorskip(backend)
    folder, out = finished(backend)
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    before = (copy / "checkpoint.npz").read_bytes()
    assert len(before) > 2048  # so writing a checkpoint must fail
    proc = subprocess.run(
        [sys.executable, str(folder / "train.py"), "--no-progress", "--out", str(copy),
         "--resume", "--epochs", "3", "--dtype", "float64"],
        capture_output=True, text=True, timeout=300, cwd=folder, preexec_fn=limit_file_size,
        env={**os.environ, **train_tools["env"]},
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"cannot write {copy}") and "; any earlier " in line, line
    assert (copy / "checkpoint.npz").read_bytes() == before
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in out.iterdir())


@pytest.mark.parametrize("backend", RUNS)
def test_no_write_follows_a_planted_symlink(backend, compiled_case, train_tools, tmp_path):
    importorskip(backend)
    folder = compiled_case("many_to_one", backend)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    for name in ("checkpoint.npz.tmp", "weights.npz.tmp", "metrics.jsonl.tmp", "weights.npz",
                 ".partial-checkpoint.npz.1.0", "final.json"):
        (out / name).symlink_to(victim)
    proc = train_tools["run"](folder, "--out", str(out), "--overwrite", "--max-steps", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert victim.read_text(encoding="utf-8") == "precious"
    for name in ("weights.npz", "final.json", "checkpoint.npz", "metrics.jsonl"):
        assert not (out / name).is_symlink() and (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]


# --------------------------------------------------------------------------- 6. data source
@pytest.mark.parametrize("backend", RUNS)
def test_data_source_outside_the_spec_folder_needs_a_flag(backend, train_tools, tmp_path):
    importorskip(backend)
    import seqspec

    shared = tmp_path / "elsewhere"
    spec = train_tools["write_case"]("many_to_one", tmp_path / "project")
    shared.mkdir()
    shutil.move(tmp_path / "project" / "data.npz", shared / "data.npz")
    text = spec.read_text(encoding="utf-8").replace("source: data.npz",
                                                     "source: ../elsewhere/data.npz")
    spec.write_text(text, encoding="utf-8")
    seqspec.compile_spec(spec, backend, tmp_path / "project" / "model")
    folder = tmp_path / "project" / "model"
    results = run_cases(train_tools, folder, {
        "refused": ["--out", str(tmp_path / "a"), "--max-steps", "1"],
        "allowed": ["--out", str(tmp_path / "b"), "--max-steps", "1", "--allow-outside-data"],
    }, tmp_path)
    message = refused(results["refused"])
    assert message == ("the spec's data.source '../../elsewhere/data.npz' lies outside the "
                       "spec's folder: pass --allow-outside-data to read it, or --data PATH")
    assert not (tmp_path / "a").exists()
    assert results["allowed"][0] == "ok", results["allowed"]


def test_sample_before_training_is_one_line(compiled_case, train_tools, tmp_path):
    folder = compiled_case("many_to_many", "numpy")
    proc = train_tools["run"](folder, "--out", str(tmp_path / "none"), "--sample", "5")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"no {tmp_path / 'none'}")


@pytest.mark.torch
def test_bad_torch_device_is_one_line(compiled_case, train_tools, tmp_path):
    pytest.importorskip("torch")
    import torch

    cases = {"not a device": ["--device", "gpu", "--out", str(tmp_path / "a")]}
    if not torch.cuda.is_available():
        cases["no cuda"] = ["--device", "cuda:0", "--out", str(tmp_path / "b")]
    results = run_cases(train_tools, compiled_case("many_to_one", "torch"), cases, tmp_path)
    assert refused(results["not a device"]) == "--device 'gpu': not a device (cpu, cuda, cuda:1...)"
    if "no cuda" in results:
        assert refused(results["no cuda"]) == "--device cuda:0: no CUDA device here"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_randomly_damaged_checkpoints_never_crash(backend, finished, tmp_path, train_tools):
    """60 damaged copies of a checkpoint (cut short, bytes changed, 50 bytes zeroed): each one is
    refused in one line, or (damage where nothing is read) resumed; never a traceback."""
    importorskip(backend)
    folder, out = finished(backend)
    data = (out / "checkpoint.npz").read_bytes()
    rng = np.random.default_rng(0)
    cases = {}
    for i in range(60):
        copy = tmp_path / f"c{i}"
        shutil.copytree(out, copy)
        damaged = bytearray(data)
        if i % 3 == 0:
            damaged = damaged[: rng.integers(len(damaged))]
        elif i % 3 == 1:
            for at in rng.integers(len(damaged), size=rng.integers(1, 20)):
                damaged[at] = int(rng.integers(256))
        else:
            at = int(rng.integers(len(damaged)))
            damaged[at : at + 50] = bytes(len(damaged[at : at + 50]))
        (copy / "checkpoint.npz").write_bytes(bytes(damaged))
        cases[f"c{i}"] = ["--out", str(copy), "--resume", "--epochs", "3", "--dtype", "float64"]
    results = run_cases(train_tools, folder, cases, tmp_path)
    refusals = 0
    for name, result in results.items():
        if result[0] == "ok":
            finite_on_disk(tmp_path / name)
        else:
            assert refused(result).startswith(f"cannot resume from {tmp_path / name}")
            refusals += 1
    assert refusals >= 50  # nearly every change to the bytes of the arrays is caught


# --------------------------------------------------------------------------- 7. Ctrl-C
@pytest.mark.parametrize("backend", RUNS)
def test_ctrl_c_is_one_line_exit_130_and_keeps_the_last_checkpoint(backend, compiled_case,
                                                                   train_tools, tmp_path):
    """SIGINT (what Ctrl-C sends) in the middle of training: one line naming the step and the
    kept checkpoint, status 130, no temporary left, and a checkpoint that --resume takes."""
    importorskip(backend)
    folder = compiled_case("many_to_one", backend)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(folder / "train.py"), "--no-progress", "--out", str(out),
         "--epochs", "100000", "--checkpoint-every", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        env={**os.environ, **train_tools["env"]},
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.npz").exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint in 120 s"
            time.sleep(0.05)
        time.sleep(0.3)  # some steps further: in the middle of training, not at a checkpoint
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]
    found = re.fullmatch(r"interrupted at step (\d+); the last checkpoint \(step (\d+)\) is kept "
                         r"in (.+); --resume continues", line)
    assert found, line
    step, saved = int(found[1]), int(found[2])
    assert found[3] == str(out)
    assert step >= saved >= 3
    assert checkpoint_step(out) == saved  # the checkpoint the line names, whole
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]
    finite_on_disk(out)
    resumed = train_tools["run"](folder, "--out", str(out), "--resume", "--max-steps",
                                 str(saved + 1))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {out / 'checkpoint.npz'} at step {saved}" in resumed.stdout


INTERRUPTS = """\
import contextlib, io, json, os, signal, sys
folder, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
import train
runtime = sys.modules[train.run_train.__module__]  # <backend>_train_runtime: what train.py runs
results = {}


def interrupt(*args):
    raise KeyboardInterrupt  # what Ctrl-C raises, here while the data is read


def interrupt_while_saving(path, weights, check, save=runtime.save_weights):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between checkpoint.npz and weights.npz
    save(path, weights, check)


for case, name, patch, argv in (
    ("reading", "load_data", interrupt, ["--out", out + "-reading"]),
    ("saving", "save_weights", interrupt_while_saving, ["--out", out, "--checkpoint-every", "2"]),
):
    original = getattr(runtime, name)
    setattr(runtime, name, patch)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            train.main(["--no-progress", *argv])
        results[case] = ["ok", err.getvalue()]
    except SystemExit as e:
        results[case] = [e.code, err.getvalue()]
    setattr(runtime, name, original)
print(json.dumps(results))
"""


@pytest.mark.parametrize("backend", RUNS)
def test_ctrl_c_while_reading_or_saving(backend, compiled_case, train_tools, tmp_path):
    """Ctrl-C while the data is read: one line, nothing written. Ctrl-C between checkpoint.npz
    and weights.npz: held until both are written, so the two agree and the line names them."""
    importorskip(backend)
    folder = compiled_case("many_to_one", backend)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPTS, str(folder), str(out)], capture_output=True,
        text=True, timeout=300, cwd=folder, env={**os.environ, **train_tools["env"]},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["reading"] == [130, f"interrupted; what {out}-reading holds is kept\n"]
    assert not Path(f"{out}-reading").exists()
    code, stderr = results["saving"]
    assert code == 130 and "Traceback" not in stderr, results["saving"]
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted at step 2; the last checkpoint (step 2) is kept in {out}; --resume continues"
    )
    assert checkpoint_step(out) == 2
    with np.load(out / "checkpoint.npz") as kept, np.load(out / "weights.npz") as weights:
        for name in weights.files:  # weights.npz is the checkpoint's, written whole
            np.testing.assert_array_equal(weights[name], kept[f"weights/{name}"])
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]
