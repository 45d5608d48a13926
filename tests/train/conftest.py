"""Fixtures for the generated training scripts: tiny specs with tiny data, compiled per backend.

Each case is a spec file next to its data file (so the compiled ``train.py`` finds the data
through the default path seqspec wrote into it) and a small helper that runs ``train.py`` in
a subprocess, the way a user would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import seqspec

TRAINING = ("training: {{optimizer: adam, learning_rate: {lr}, epochs: {epochs}, "
            "batch_size: {batch}{extra}}}")

#: name -> (spec text without its training line, data file name, training settings)
SPECS: dict[str, tuple[str, str, dict[str, object]]] = {
    "many_to_many": (
        """\
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 12, encoding: embedding, embedding_dim: 8}
  layers: [{cell: lstm, hidden_size: 16}, {cell: gru, hidden_size: 16}]
  dropout: 0.1
  head: {kind: softmax, classes: 12}
data: {source: text.txt, format: text, level: char, sequence_length: 10, split: {validation: 0.1}}
""",
        "text.txt",
        {"lr": 0.03, "epochs": 4, "batch": 8,
         "extra": ", clip_norm: 5.0, tbptt: 5, checkpoint_every: 4"},
    ),
    "many_to_one": (
        """\
model:
  scheme: many_to_one
  input: {kind: features, size: 2, variable_length: true}
  layers: [{cell: gru, hidden_size: 8}]
  pooling: last
  head: {kind: softmax, classes: 2}
data: {source: data.npz, format: npz, split: {validation: 0.2}}
""",
        "data.npz",
        {"lr": 0.05, "epochs": 4, "batch": 16, "extra": ", checkpoint_every: 4"},
    ),
    "one_to_many": (
        """\
model:
  scheme: one_to_many
  input: {kind: vector, size: 3}
  bridge: {kind: dense}
  decoder:
    input: {kind: tokens, vocab_size: 5, encoding: embedding, embedding_dim: 4}
    layers: [{cell: gru, hidden_size: 8}]
  head: {kind: softmax, classes: 5}
  max_length: 4
  start_token: 0
data: {source: data.npz, format: npz, split: {validation: 0.2}}
""",
        "data.npz",
        {"lr": 0.05, "epochs": 4, "batch": 12, "extra": ""},
    ),
    "seq2seq": (
        """\
model:
  scheme: seq2seq
  encoder:
    input:
      {kind: tokens, vocab_size: 6, encoding: embedding, embedding_dim: 4, variable_length: true}
    layers: [{cell: gru, hidden_size: 10}]
  bridge: {kind: copy}
  decoder:
    input: {kind: tokens, vocab_size: 6, encoding: embedding, embedding_dim: 4}
    layers: [{cell: gru, hidden_size: 10}]
  head: {kind: softmax, classes: 6}
  max_length: 4
  start_token: 0
data: {source: data.npz, format: npz, split: {validation: 0.2}}
""",
        "data.npz",
        {"lr": 0.05, "epochs": 4, "batch": 12, "extra": ""},
    ),
    "ar_linear": (
        """\
model: {scheme: ar_linear, order: 3}
data: {source: series.csv, format: csv, column: value, window: 3, split: {validation: 0.2}}
""",
        "series.csv",
        {"lr": 0.05, "epochs": 4, "batch": 16, "extra": ""},
    ),
    "ar_npz": (
        """\
model: {scheme: ar_linear, order: 3}
data: {source: data.npz, format: npz, split: {validation: 0.2}}
""",
        "data.npz",
        {"lr": 0.05, "epochs": 4, "batch": 16, "extra": ""},
    ),
    "ar_mlp": (
        """\
model: {scheme: ar_mlp, order: 4, hidden: [8]}
data: {source: series.csv, format: csv, column: value, window: 4, split: {validation: 0.2}}
""",
        "series.csv",
        {"lr": 0.02, "epochs": 4, "batch": 16, "extra": ""},
    ),
}


def write_data(name: str, path: Path) -> None:
    """A tiny data set for a case, learnable in a few steps."""
    rng = np.random.default_rng(0)
    if name == "many_to_many":
        path.write_text("the cat sat on the mat. " * 16, encoding="utf-8")
    elif name == "many_to_one":
        n, steps = 96, 6
        x = rng.uniform(-1, 1, size=(n, steps, 2))
        lengths = rng.integers(2, steps + 1, size=n)
        for b, k in enumerate(lengths):
            x[b, k:] = 0.0
        y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
        np.savez(path, x=x, y=y, lengths=lengths)
    elif name == "one_to_many":
        n = 60
        c = rng.integers(0, 3, size=n)
        features = np.eye(3)[c]
        y = np.stack([c + 1, c + 2, c + 1, (c + 2) % 5], axis=1)
        np.savez(path, features=features, y=y)
    elif name == "seq2seq":
        n = 60
        x = rng.integers(1, 6, size=(n, 4))
        x_lengths = rng.integers(2, 5, size=n)
        y = np.where(np.arange(4)[None, :] < x_lengths[:, None], x, 0)
        np.savez(path, x=x, y=y, x_lengths=x_lengths, y_lengths=x_lengths)
    elif name == "ar_npz":
        windows = rng.normal(size=(80, 3))
        np.savez(path, windows=windows, y=windows @ np.array([[0.5], [-0.2], [0.1]]))
    else:
        t = np.arange(160)
        values = np.sin(0.3 * t) + 0.05 * rng.normal(size=t.size)
        lines = ["time,value"] + [f"{i},{float(v)!r}" for i, v in zip(t, values, strict=True)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_case(name: str, folder: Path, **training: object) -> Path:
    """Write case `name`'s spec and data into `folder`; return the spec's path."""
    body, data_file, settings = SPECS[name]
    settings = {**settings, **training}
    spec = f"seqspec: 1\nname: tiny_{name}\n{body}{TRAINING.format(**settings)}\n"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spec.yaml").write_text(spec, encoding="utf-8")
    write_data(name, folder / data_file)
    return folder / "spec.yaml"


@pytest.fixture(scope="session")
def compiled_case(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """compiled_case(name, backend) -> the folder holding model.py and train.py (cached)."""
    cache: dict[tuple[str, str], Path] = {}

    def make(name: str, backend: str) -> Path:
        if (name, backend) not in cache:
            root = tmp_path_factory.mktemp(f"{name}-{backend}")
            spec = write_case(name, root)
            seqspec.compile_spec(spec, backend, root / "model")
            cache[name, backend] = root / "model"
        return cache[name, backend]

    return make


#: Tiny models run fastest on one thread (and two cores shared by two processes do not thrash).
QUIET_SINGLE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def run_train(folder: Path, *args: str, timeout: float = 180,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run folder/train.py with `args` (no progress bar); return the finished process."""
    full_env = {**os.environ, **QUIET_SINGLE_THREAD, **(env or {})}
    return subprocess.run(
        [sys.executable, str(folder / "train.py"), "--no-progress", *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, cwd=folder,
    )


def read_metrics(out: Path) -> list[dict[str, float]]:
    """The records of out/metrics.jsonl."""
    with open(out / "metrics.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def free_port() -> int:
    """A TCP port nothing listens on now (for a rendezvous between training processes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_torchrun(folder: Path, out: Path, args: list[str],
                 nproc: int = 2) -> subprocess.CompletedProcess[str]:
    """folder/train.py under torchrun (``python -m torch.distributed.run``: the same interpreter,
    whatever is on PATH) with nproc processes; the finished launcher."""
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
           f"--master_port={free_port()}", str(folder / "train.py"),
           "--no-progress", "--out", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **QUIET_SINGLE_THREAD}, cwd=folder)


def run_tf_workers(folder: Path, root: Path, args: list[str]) -> list[tuple[int, str, str]]:
    """folder/train.py as two TF_CONFIG workers on this machine (MultiWorkerMirroredStrategy),
    worker k writing to root/worker<k>: [(return code, stdout, stderr)] per worker."""
    cluster = {"worker": [f"localhost:{free_port()}" for _ in range(2)]}
    procs = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, **QUIET_SINGLE_THREAD, "TF_CONFIG": json.dumps(config)}
        procs.append(subprocess.Popen(
            [sys.executable, str(folder / "train.py"), "--no-progress",
             "--out", str(root / f"worker{index}"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder))
    outputs = [p.communicate(timeout=600) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


#: Runs each case's train.main(argv) in one Python process per call (a start per case would cost
#: seconds in TensorFlow): {case: ["ok", stdout] | ["exit", message, stdout] | ["crash", trace]}.
DRIVER = """\
import contextlib, io, json, sys, traceback
jobs, report = json.loads(sys.argv[1]), sys.argv[2]
results = {}
for folder, cases in jobs:  # each folder's train.py and model.py, imported afresh
    for name in ("train", "model"):
        sys.modules.pop(name, None)
    sys.path.insert(0, folder)
    import train
    sys.path.remove(folder)
    for name, argv in cases.items():
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                train.main(["--no-progress", *argv])
            results[name] = ["ok", out.getvalue()]
        except SystemExit as e:
            results[name] = ["exit", str(e.code), out.getvalue()]
        except BaseException:
            results[name] = ["crash", traceback.format_exc()]
with open(report, "w", encoding="utf-8") as fh:
    json.dump(results, fh)
"""


def run_jobs(jobs: list[tuple[Path, dict[str, list[str]]]], tmp: Path,
             env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """DRIVER's results for the main(argv) of each case of each (folder, cases) job, all in one
    process (env: added to QUIET_SINGLE_THREAD)."""
    report = tmp / f"report-{len(list(tmp.glob('report-*')))}.json"
    jobs_text = json.dumps([[str(folder), cases] for folder, cases in jobs])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, jobs_text, str(report)], capture_output=True, text=True,
        timeout=600, cwd=tmp, env={**os.environ, **QUIET_SINGLE_THREAD, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(report.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def train_tools() -> dict[str, Callable[..., object]]:
    """Helpers for the tests: run_train, read_metrics, write_case, the multi-process launchers
    (torchrun, tf_workers) and run_jobs (many train.main calls in one process)."""
    return {"run": run_train, "metrics": read_metrics, "write_case": write_case,
            "env": QUIET_SINGLE_THREAD, "torchrun": run_torchrun, "tf_workers": run_tf_workers,
            "run_jobs": run_jobs}
