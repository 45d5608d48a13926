"""What a run shows and how it uses the machine, in every backend: --log-every step records in
metrics.jsonl (and a resume that keeps them consistent), --tensorboard scalars read back from
the event files, curves.png for a run shorter than an epoch, --threads, --amp, and the same
one-line refusals everywhere."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]
FRAMEWORKS = [  # the backends whose framework does mixed precision
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=[pytest.mark.tensorflow, pytest.mark.slow]),
]
CASE = "many_to_one"  # 77 training samples, batch 16: 5 steps an epoch
NO_TENSORBOARD = "--tensorboard needs the tensorboard package: pip install tensorboard"


def without_wall(records):
    """The records without their wall seconds (the only value that differs between runs)."""
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in records]


def steps_of(records):
    return [r for r in records if r.get("kind") == "step"]


def epochs_of(records):
    return [r for r in records if r.get("kind") != "step"]


def png_text(path: Path) -> dict[str, str]:
    """The tEXt chunks of a PNG (keyword -> text)."""
    data, texts, at = path.read_bytes(), {}, 8
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        body = data[at + 8:at + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            texts[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        at += 12 + length
    return texts


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value)] of every scalar in the event files under folder."""
    tf = pytest.importorskip("tensorflow")
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for v in event.summary.value:
                if v.HasField("simple_value"):  # torch's SummaryWriter, the NumPy writer
                    value = v.simple_value
                else:  # tf.summary.write: a tensor
                    value = float(tf.make_ndarray(v.tensor))
                scalars.setdefault(v.tag, []).append((event.step, value))
    return scalars


@pytest.mark.parametrize("backend", BACKENDS)
def test_log_every_adds_step_records_and_keeps_the_epoch_records(backend, compiled_case,
                                                                  train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    run = train_tools["run"]
    common = ["--epochs", "2", "--dtype", "float64"]
    logged = run(folder, "--out", str(tmp_path / "logged"), *common, "--log-every", "2")
    plain = run(folder, "--out", str(tmp_path / "plain"), *common)
    assert logged.returncode == 0 and plain.returncode == 0, logged.stderr[-3000:]
    records = train_tools["metrics"](tmp_path / "logged")
    steps = steps_of(records)
    assert [r["step"] for r in steps] == [2, 4, 6, 8, 10]
    assert [r["epoch"] for r in steps] == [1, 1, 2, 2, 2]  # the epoch each step belongs to
    for r in steps:
        assert sorted(r) == ["epoch", "kind", "loss", "lr", "step", "wall_s"]
        assert r["lr"] == 0.05 and 0 < r["loss"] < 5
    walls = [r["wall_s"] for r in steps]
    assert walls == sorted(walls) and walls[0] >= 0
    # the epoch records are what a run without --log-every writes
    assert epochs_of(records) == train_tools["metrics"](tmp_path / "plain")
    assert [r["epoch"] for r in epochs_of(records)] == [1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_resume_keeps_the_step_records_consistent(backend, compiled_case, train_tools,
                                                  tmp_path):
    """A run killed after logging steps past its last checkpoint logs them again on --resume:
    the file ends as an uninterrupted run's, every step once, and the weights bit-exact."""
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    run, flags = train_tools["run"], ["--epochs", "3", "--log-every", "1", "--dtype", "float64"]
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert run(folder, "--out", str(clean), *flags).returncode == 0
    first = run(folder, "--out", str(killed), *flags, "--max-steps", "7")
    assert first.returncode == 0, first.stderr[-3000:]
    # what a kill after step 9 (checkpoint at step 7) leaves: two more steps, half a line
    extra = [{"kind": "step", "step": s, "epoch": 2, "wall_s": 9.0, "lr": 0.05, "loss": 1.0}
             for s in (8, 9)]
    with open(killed / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in extra) + '{"kind": "st')
    resumed = run(folder, "--out", str(killed), *flags, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "at step 7" in resumed.stdout
    ends, again = train_tools["metrics"](clean), train_tools["metrics"](killed)
    assert without_wall(again) == without_wall(ends)
    assert [r["step"] for r in steps_of(again)] == list(range(1, 16))
    walls = [r["wall_s"] for r in steps_of(again)]
    assert walls == sorted(walls)  # the clock resumes from the checkpoint's
    with np.load(clean / "weights.npz") as a, np.load(killed / "weights.npz") as b:
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_shorter_than_an_epoch_gets_a_titled_curve(backend, compiled_case, train_tools,
                                                         tmp_path):
    pytest.importorskip(backend)
    pytest.importorskip("matplotlib")
    folder = compiled_case(CASE, backend)
    for name, extra in (("bare", []), ("logged", ["--log-every", "1"])):
        out = tmp_path / name
        proc = train_tools["run"](folder, "--out", str(out), "--max-steps", "3", *extra)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not epochs_of(train_tools["metrics"](out))  # no epoch has ended
        assert f"curves: {out / 'curves.png'}" in proc.stdout
        assert png_text(out / "curves.png")["Title"] == f"tiny_{CASE}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_tensorboard_scalars_match_the_metrics(backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    if backend != "tensorflow":  # TensorFlow writes with tf.summary; the others need the package
        pytest.importorskip("tensorboard")
    folder = compiled_case(CASE, backend)
    out, board = tmp_path / "run", tmp_path / "board"
    proc = train_tools["run"](folder, "--out", str(out), "--epochs", "2", "--log-every", "2",
                              "--tensorboard", str(board), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = train_tools["metrics"](out)
    scalars = read_scalars(board)
    steps = steps_of(records)
    assert [s for s, _ in scalars["step/loss"]] == [r["step"] for r in steps]
    for (_, value), r in zip(scalars["step/loss"], steps, strict=True):
        assert value == pytest.approx(r["loss"], rel=1e-6)
    assert [v for _, v in scalars["step/lr"]] == pytest.approx([0.05] * len(steps))
    for r in epochs_of(records):
        for name in ("train_loss", "val_loss", "val_accuracy", "lr"):
            assert (r["step"], pytest.approx(r[name], rel=1e-6)) in scalars[f"epoch/{name}"]


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_tensorboard_without_its_package_is_one_line_before_training(backend, compiled_case,
                                                                     train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    hidden = tmp_path / "hidden" / "tensorboard"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
    path = os.pathsep.join([str(hidden.parent), os.environ.get("PYTHONPATH", "")])
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out), "--tensorboard", str(tmp_path / "b"),
                              env={"PYTHONPATH": path})
    assert proc.returncode == 1
    assert proc.stderr.strip() == NO_TENSORBOARD
    assert not out.exists() and not (tmp_path / "b").exists()  # nothing started


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threads", "0"], "--threads must be 1 or more, not 0"),
        (["--log-every", "-1"], "--log-every must be 0 or more, not -1"),
        (["--amp", "--dtype", "float64"],
         "--amp keeps float32 master weights: it cannot run with --dtype float64"),
    ],
)
def test_bad_controls_are_one_line(backend, flags, message, compiled_case, train_tools,
                                   tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    proc = train_tools["run"](folder, "--out", str(tmp_path / "run"), *flags)
    assert proc.returncode == 1 and proc.stderr.strip() == message


def test_numpy_refuses_amp(compiled_case, train_tools, tmp_path):
    folder = compiled_case(CASE, "numpy")
    proc = train_tools["run"](folder, "--out", str(tmp_path / "run"), "--amp")
    assert proc.returncode == 1
    message = "--amp: NumPy has no mixed precision (float32 is the default --dtype)"
    assert proc.stderr.strip() == message


THREADS = {  # a script that sets --threads 2 as the runtime does and prints what took
    "numpy": "from threadpoolctl import threadpool_info\n"
             "print(sorted({p['num_threads'] for p in threadpool_info()}))",
    "torch": "import torch\nprint([torch.get_num_threads(), torch.get_num_interop_threads()])",
    "tensorflow": "import tensorflow as tf\nt = tf.config.threading\n"
                  "print([t.get_intra_op_parallelism_threads(), "
                  "t.get_inter_op_parallelism_threads()])",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_sets_the_frameworks_pools(backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(backend)
    if backend == "numpy":
        pytest.importorskip("threadpoolctl")
    folder = compiled_case(CASE, backend)
    code = f"import {backend}_train_runtime as r\nr.set_threads(2)\n{THREADS[backend]}\n"
    env = {**os.environ, **train_tools["env"]}
    proc = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last in ("[2]", "[2, 2]"), proc.stdout
    run = train_tools["run"](folder, "--out", str(tmp_path / "run"), "--threads", "1",
                             "--max-steps", "2")
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("backend", FRAMEWORKS)
def test_amp_trains_in_mixed_precision_over_float32_weights(backend, compiled_case,
                                                            train_tools, tmp_path):
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    run, flags = train_tools["run"], ["--max-steps", "4", "--log-every", "1"]
    mixed = run(folder, "--out", str(tmp_path / "amp"), *flags, "--amp")
    full = run(folder, "--out", str(tmp_path / "fp32"), *flags)
    assert mixed.returncode == 0 and full.returncode == 0, mixed.stderr[-3000:]
    expected = {"torch": "--amp: bfloat16 autocast on cpu, float32 master weights",
                "tensorflow": "--amp: Keras mixed_bfloat16 policy, float32 master weights"}
    assert expected[backend] in mixed.stdout
    losses = [[r["loss"] for r in train_tools["metrics"](tmp_path / name)]
              for name in ("amp", "fp32")]
    assert losses[0] != losses[1]  # the products ran in bfloat16...
    assert losses[0] == pytest.approx(losses[1], rel=0.05)  # ...and still train the same model
    with np.load(tmp_path / "amp" / "checkpoint.npz") as f:
        masters = [f[k] for k in f.files if k.startswith("module/")]
    assert masters and all(m.dtype == np.float32 for m in masters if m.dtype.kind == "f")


@pytest.mark.parametrize("backend", BACKENDS)
def test_help_shows_the_defaults_of_the_new_flags(backend, compiled_case):
    pytest.importorskip(backend)
    folder = compiled_case(CASE, backend)
    proc = subprocess.run([sys.executable, "train.py", "--help"], cwd=folder, timeout=180,
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for option, default in (("--log-every N", "0"), ("--tensorboard DIR", "None"),
                            ("--threads N", "None"), ("--amp", "False")):
        help_text = text.split(f"{option} ", 1)[1].split(" --", 1)[0]
        assert help_text.endswith(f"(default: {default})"), (option, help_text)
