"""Dropout masks are a function of (seed, step, chunk, sample, stack, layer, time step).

Every backend's model draws them with the same NumPy function (dropout_masks, in each runtime)
from the per-row seeds train.py passes, so float64 training with dropout gives the same weights
in NumPy, PyTorch and TensorFlow, and N processes that each draw the masks of their shard end
with the weights of one process.
"""

from __future__ import annotations

import ast
import importlib.util
import sys

import numpy as np
import pytest

import seqspec

STEPS = ["--dtype", "float64", "--optimizer", "sgd", "--lr", "0.5", "--max-steps", "3"]


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def function_source(path, name):
    """The source of the top-level function `name` of a Python file."""
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(text, node)
    raise AssertionError(f"{path.name} has no {name}")


def weights(out):
    with np.load(out / "weights.npz") as w:
        return {k: w[k] for k in w.files}


def assert_same_weights(a, b, tol=1e-9):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=0, atol=tol, err_msg=k)


@pytest.fixture(scope="module")
def masks_module(compiled_case):
    folder = compiled_case("many_to_many", "numpy")
    return load_module(folder / "numpy_runtime.py", "dropout_numpy_runtime")


def test_masks_depend_on_the_row_seeds_not_on_the_batch(masks_module):
    draw = masks_module.dropout_masks
    seeds = np.array([[7, 3, 0, b] for b in range(6)])
    whole = draw(seeds, "encoder", 0, 20, 16, 0.25)
    assert whole.shape == (6, 20, 16)
    assert set(np.unique(whole)) == {0.0, 1 / 0.75}  # inverted dropout: kept units scaled
    assert 0.15 < (whole == 0).mean() < 0.35
    # a shard of the batch, and fewer steps, give the same rows and steps
    np.testing.assert_array_equal(draw(seeds[4:], "encoder", 0, 7, 16, 0.25), whole[4:, :7])
    # another step, layer or stack draws other masks
    assert (draw(seeds + np.array([0, 1, 0, 0]), "encoder", 0, 20, 16, 0.25) != whole).any()
    assert (draw(seeds, "encoder", 1, 20, 16, 0.25) != whole).any()
    assert (draw(seeds, "decoder", 0, 20, 16, 0.25) != whole).any()


def test_the_seeds_decide_the_masks_of_a_training_pass(compiled_case, monkeypatch):
    folder = compiled_case("many_to_many", "numpy")
    monkeypatch.syspath_prepend(str(folder))  # model.py imports numpy_runtime beside it
    model_py = load_module(folder / "model.py", "dropout_model")
    model = model_py.Model(dtype="float64")
    x = np.arange(30).reshape(3, 10) % 12
    seeds = np.array([[0, 5, 0, b] for b in range(3)])

    def run(rows=slice(None), **kw):
        return model.forward(x[rows], **kw)[0]

    same = run(training=True, dropout_seeds=seeds)
    np.testing.assert_array_equal(run(training=True, dropout_seeds=seeds), same)
    row = run(slice(1, 2), training=True, dropout_seeds=seeds[1:2])  # the row's masks alone
    np.testing.assert_allclose(row[0], same[1], rtol=0, atol=1e-12)
    assert not np.allclose(run(training=True, dropout_seeds=seeds + np.array([0, 1, 0, 0])), same)
    assert not np.allclose(run(), same)  # inference applies no dropout
    np.testing.assert_array_equal(run(dropout_seeds=seeds), run())


def test_every_runtime_draws_with_the_same_function(compiled_case):
    sources = {
        backend: function_source(
            compiled_case("many_to_many", backend) / f"{backend}_runtime.py", "dropout_masks"
        )
        for backend in ("numpy", "torch", "tensorflow")
    }
    assert sources["numpy"] == sources["torch"] == sources["tensorflow"]


@pytest.mark.torch
@pytest.mark.tensorflow
def test_three_steps_with_dropout_give_the_same_weights_in_every_backend(
    compiled_case, train_tools, tmp_path
):
    """The text case: an embedding, LSTM then GRU with dropout 0.1 between them, TBPTT chunks."""
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    result = {}
    for backend in ("numpy", "torch", "tensorflow"):
        folder = compiled_case("many_to_many", backend)
        out = tmp_path / backend
        proc = train_tools["run"](folder, "--out", str(out), *STEPS)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result[backend] = weights(out)
    assert_same_weights(result["numpy"], result["torch"])
    assert_same_weights(result["numpy"], result["tensorflow"])


@pytest.mark.slow
@pytest.mark.torch
def test_torchrun_two_processes_with_dropout_end_like_one(compiled_case, train_tools, tmp_path):
    pytest.importorskip("torch")
    folder = compiled_case("many_to_many", "torch")
    args = ["--dtype", "float64", "--max-steps", "6", "--checkpoint-every", "3"]
    proc = train_tools["run"](folder, "--out", str(tmp_path / "one"), *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = train_tools["torchrun"](folder, tmp_path / "two", args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "training on 2 processes" in proc.stdout
    assert_same_weights(weights(tmp_path / "one"), weights(tmp_path / "two"))
    # resuming the 2-process run in one process: warned, and the same masks still
    resumed = tmp_path / "two"
    proc = train_tools["run"](folder, "--out", str(resumed), *args[:-2], "--max-steps", "9",
                              "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "written by 2 processes" in proc.stdout


@pytest.mark.tensorflow
def test_two_replicas_with_dropout_end_like_one(compiled_case, train_tools, tmp_path):
    pytest.importorskip("tensorflow")
    folder = compiled_case("many_to_many", "tensorflow")
    for name, extra in {"one": [], "two": ["--logical-cpus", "2"]}.items():
        proc = train_tools["run"](folder, "--out", str(tmp_path / name), *STEPS, *extra)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_weights(weights(tmp_path / "one"), weights(tmp_path / "two"))


LEFT_PADDED = """\
seqspec: 1
name: dropout_left_padded
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: lstm, hidden_size: 5, bidirectional: true, merge_mode: sum}
    - {cell: gru, hidden_size: 4}
    - {cell: elman, hidden_size: 3, activation: sigmoid}
  dropout: 0.4
  head: {kind: regression, outputs: 2}
"""


@pytest.mark.torch
@pytest.mark.tensorflow
def test_a_training_pass_drops_the_same_units_in_every_backend(tmp_path, monkeypatch):
    """Left padding (Keras rotates the rows), a bidirectional layer, an explicit torch cell:
    the same seeds give the same outputs in float64."""
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")

    spec = tmp_path / "spec.yaml"
    spec.write_text(LEFT_PADDED, encoding="utf-8")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 3))
    lengths = np.array([6, 2, 4, 5])
    seeds = np.array([[3, 7, 0, b] for b in range(4)])
    outputs = {}
    for backend in ("numpy", "torch", "tensorflow"):
        folder = tmp_path / backend
        seqspec.compile_spec(spec, backend, folder)
        monkeypatch.syspath_prepend(str(folder))
        model_py = load_module(folder / "model.py", f"dropout_left_{backend}")
        model = model_py.Model(weights=model_py.init_weights(1), dtype="float64")
        if backend == "numpy":
            y = model.forward(x, lengths, training=True, dropout_seeds=seeds)[0]
            plain = model.forward(x, lengths)[0]
        elif backend == "torch":
            model.train()
            y = model(x, lengths, dropout_seeds=seeds)[0].detach().numpy()
        else:
            y = model.forward(x, lengths, training=True, dropout_seeds=seeds)[0].numpy()
        outputs[backend] = y
        monkeypatch.delitem(sys.modules, "model", raising=False)
    np.testing.assert_allclose(outputs["torch"], outputs["numpy"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs["tensorflow"], outputs["numpy"], rtol=0, atol=1e-12)
    assert not np.allclose(outputs["numpy"], plain)  # units were dropped


@pytest.mark.slow
@pytest.mark.tensorflow
def test_two_tf_workers_with_dropout_end_like_one(compiled_case, train_tools, tmp_path):
    """MultiWorkerMirroredStrategy (TF_CONFIG), two worker processes on this machine."""
    pytest.importorskip("tensorflow")
    folder = compiled_case("many_to_many", "tensorflow")
    proc = train_tools["run"](folder, "--out", str(tmp_path / "one"), *STEPS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    workers = train_tools["tf_workers"](folder, tmp_path, STEPS)
    assert [w[0] for w in workers] == [0, 0], workers[0][2][-2000:] + workers[1][2][-2000:]
    assert "training on 2 replicas" in workers[0][1]
    assert_same_weights(weights(tmp_path / "one"), weights(tmp_path / "worker0"))
