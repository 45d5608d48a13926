"""Data-parallel training: N processes (torchrun) or N devices (tf.distribute) follow one's curve.

The global batch is the same; each process or replica trains on its shard, the loss is a mean
over the whole batch, so the gradients - and every loss - agree up to float64 round-off.
"""

from __future__ import annotations

import numpy as np
import pytest

ARGS = ["--dtype", "float64", "--epochs", "2", "--batch-size", "16"]


def assert_same_run(a_dir, b_dir, metrics, rel=1e-9):
    a, b = metrics(a_dir), metrics(b_dir)
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b] == [1, 2]
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys()
        for key in ra:
            assert rb[key] == pytest.approx(ra[key], rel=rel, abs=1e-12), key
    with np.load(a_dir / "weights.npz") as wa, np.load(b_dir / "weights.npz") as wb:
        for k in wa.files:
            np.testing.assert_allclose(wb[k], wa[k], rtol=rel, atol=1e-12, err_msg=k)


@pytest.mark.torch
def test_torchrun_two_processes_follow_one(compiled_case, train_tools, tmp_path):
    pytest.importorskip("torch")
    folder = compiled_case("many_to_one", "torch")
    one, two = tmp_path / "one", tmp_path / "two"
    proc = train_tools["run"](folder, "--out", str(one), *ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = train_tools["torchrun"](folder, two, ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "training on 2 processes (DistributedDataParallel, gloo)" in proc.stdout
    assert proc.stdout.count("done: ") == 1  # rank 0 alone reports and writes
    assert_same_run(one, two, train_tools["metrics"])


@pytest.mark.tensorflow
def test_mirrored_two_devices_follow_one(compiled_case, train_tools, tmp_path):
    pytest.importorskip("tensorflow")
    folder = compiled_case("many_to_one", "tensorflow")
    runs = {"one": [], "again": [], "two": ["--logical-cpus", "2"]}
    for name, extra in runs.items():
        proc = train_tools["run"](folder, "--out", str(tmp_path / name), *ARGS, *extra)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert ("training on 2 replicas (MirroredStrategy)" in proc.stdout) == bool(extra)
    # the same seed on one device gives the same numbers, bit for bit
    assert train_tools["metrics"](tmp_path / "one") == train_tools["metrics"](tmp_path / "again")
    assert_same_run(tmp_path / "one", tmp_path / "two", train_tools["metrics"])


@pytest.mark.slow
@pytest.mark.tensorflow
def test_multi_worker_tf_config_follows_one(compiled_case, train_tools, tmp_path):
    """Two worker processes on this machine, as two machines would run (TF_CONFIG)."""
    pytest.importorskip("tensorflow")
    folder = compiled_case("many_to_one", "tensorflow")
    one = tmp_path / "one"
    assert train_tools["run"](folder, "--out", str(one), *ARGS).returncode == 0
    workers = train_tools["tf_workers"](folder, tmp_path, ARGS)
    assert [w[0] for w in workers] == [0, 0], workers[0][2][-2000:] + workers[1][2][-2000:]
    assert "training on 2 replicas" in workers[0][1]
    assert not (tmp_path / "worker1").exists()  # only the chief (worker 0) writes
    assert_same_run(one, tmp_path / "worker0", train_tools["metrics"])
