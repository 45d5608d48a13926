"""The shared, framework-free pieces of the train runtime (NumPy's): data, batches, loss,
fallbacks."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import seqspec
from seqspec.generated import load_runtime

BLOCK_OPTIONAL = """\
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tqdm", "matplotlib"):
            raise ImportError(f"{name} is blocked for this test")
sys.meta_path.insert(0, Block())
"""


def write_spec(folder, model, data, training="training: {learning_rate: 0.05, epochs: 3, "
               "batch_size: 8}"):
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.yaml"
    spec.write_text(f"seqspec: 1\nname: t\nmodel:\n{model}\ndata: {data}\n{training}\n",
                    encoding="utf-8")
    return spec


def load_script(folder):
    """Import a compiled NumPy train.py (its runtime and its model.py): the runtime's names,
    with train.py's TASK and model.py's init_weights and check_weights."""
    runtime = load_runtime(folder / "numpy_train_runtime.py")
    sys.path.insert(0, str(folder))
    try:
        sys.modules.pop("model", None)
        spec = importlib.util.spec_from_file_location(f"train_{id(folder)}", folder / "train.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("model", None)
    return SimpleNamespace(**vars(runtime), TASK=module.TASK,
                           init_weights=module.model.init_weights,
                           check_weights=module.model.check_weights)


@pytest.fixture(scope="module")
def lm_script(compiled_case):
    return load_script(compiled_case("many_to_many", "numpy"))


@pytest.fixture(scope="module")
def seq2seq_script(compiled_case):
    return load_script(compiled_case("seq2seq", "numpy"))


def test_batch_order_is_a_function_of_seed_and_epoch(lm_script):
    f = lm_script.epoch_batches
    a, b = f(50, 8, 1, 3, True), f(50, 8, 1, 3, True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(np.concatenate(a), np.concatenate(f(50, 8, 1, 4, True)))
    assert sorted(np.concatenate(a)) == list(range(50))
    assert [len(x) for x in f(17, 8, 0, 0, True, world=2)] == [8, 8]  # a last batch of 1 < 2
    assert np.array_equal(np.concatenate(f(10, 4, 1, 3, False)), np.arange(10))  # in order


def test_vocabulary_and_rows(lm_script):
    vocab = lm_script.build_vocab(list("abracadabra"), 4)
    assert vocab == ["<unk>", "a", "b", "r"]  # the 3 most frequent, then sorted
    rows = lm_script.stream_rows(np.arange(11), 4)
    assert rows["x"].tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert rows["y"].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert lm_script.encode("bak", vocab, "char") == [2, 1, 0]  # an unknown character is id 0
    assert lm_script.decode([2, 1, 3, 0], vocab, "char") == "bar<unk>"


def test_padding_and_masks(seq2seq_script):
    rows = np.array([[1, 2, 3], [4, 5, 0]])
    lengths = np.array([3, 2])
    assert seq2seq_script.pad(rows, lengths, 3, "left").tolist() == [[1, 2, 3], [0, 4, 5]]
    assert seq2seq_script.pad(rows, lengths, 3, "right").tolist() == [[1, 2, 3], [4, 5, 0]]
    assert seq2seq_script.valid_mask(lengths, 3, "left").tolist() == [[1, 1, 1], [0, 1, 1]]
    # teacher forcing: the decoder reads the start token, then the targets but the last
    split = {"x": rows, "x_lengths": lengths, "y": rows, "y_lengths": lengths,
             "y_in": np.array([[0, 1, 2], [0, 4, 5]])}
    inputs, targets, mask = seq2seq_script.make_batch(split, np.array([1]), seq2seq_script.TASK)
    assert inputs["x"].tolist() == [[4, 5]] and inputs["x_lengths"].tolist() == [2]
    assert inputs["y_in"].tolist() == [[0, 4, 5]] and targets.tolist() == [[4, 5, 0]]
    assert mask.tolist() == [[1, 1, 0]]


@pytest.mark.parametrize("softmax", [True, False])
def test_loss_gradient_matches_finite_differences(softmax, lm_script, compiled_case):
    script = lm_script if softmax else load_script(compiled_case("ar_linear", "numpy"))
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(2, 3, 4) if softmax else (5, 1))
    targets = rng.integers(0, 4, size=(2, 3)) if softmax else rng.normal(size=(5, 1))
    mask = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]) if softmax else None
    totals, grad = script.score(outputs, targets, mask, softmax, grad=True)
    eps = 1e-6
    numeric = np.zeros_like(outputs)
    for i in np.ndindex(outputs.shape):
        plus, minus = outputs.copy(), outputs.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric[i] = (script.score(plus, targets, mask, softmax)[0]["loss"]
                      - script.score(minus, targets, mask, softmax)[0]["loss"]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=1e-7)
    assert totals["n"] == (3.0 if softmax else 5.0)


def test_checkpoint_files_round_trip(lm_script, tmp_path):
    path = tmp_path / "c.npz"
    weights = lm_script.init_weights(3)
    groups = {"weights": weights, "optimizer": {"m/a.b": np.ones(3), "t": 7}, "carried": {}}
    counters = {"step": 5, "epoch": 0, "batch": 5, "loss_sum": 0.1 + 0.2, "loss_terms": 30}
    lm_script.save_checkpoint(str(path), groups, counters)
    groups_needed = ("weights", "optimizer")
    back, meta = lm_script.load_checkpoint(str(path), groups_needed, lm_script.check_weights)
    assert meta == counters  # floats survive exactly
    assert back["optimizer"]["m/a.b"].tolist() == [1.0, 1.0, 1.0]
    assert int(back["optimizer"]["t"]) == 7
    assert back["carried"] == {}  # an empty group (plain SGD's optimizer state) comes back too
    for name, w in weights.items():
        np.testing.assert_array_equal(back["weights"][name], w)
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary left behind


def test_runs_without_tqdm_and_matplotlib(compiled_case, train_tools, tmp_path):
    (tmp_path / "block").mkdir()
    (tmp_path / "block" / "sitecustomize.py").write_text(BLOCK_OPTIONAL, encoding="utf-8")
    folder = compiled_case("ar_linear", "numpy")
    env = {**os.environ, **train_tools["env"], "PYTHONPATH": str(tmp_path / "block")}
    proc = subprocess.run([sys.executable, str(folder / "train.py"), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, env=env,
                          cwd=folder, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib is not installed: no plot" in proc.stdout
    assert "step 32/32" in proc.stdout  # the plain progress lines
    assert not (tmp_path / "run" / "curves.png").exists()


CASES = {
    "word_lm": (
        "  scheme: many_to_many\n  input: {kind: tokens, vocab_size: 10, encoding: one_hot}\n"
        "  layers: [{cell: elman, hidden_size: 12}]\n  head: {kind: softmax, classes: 10}",
        "{source: words.txt, format: text, level: word, sequence_length: 6}",
        "val_perplexity",
    ),
    "left_padded_regression": (
        "  scheme: many_to_one\n  input: {kind: features, size: 2, variable_length: true, "
        "padding: left}\n  layers: [{cell: lstm, hidden_size: 8}]\n  pooling: mean\n"
        "  head: {kind: regression, outputs: 1}",
        "{source: seqs.npz, format: npz}",
        "val_rmse",
    ),
    "csv_forecaster": (
        "  scheme: many_to_one\n  input: {kind: features, size: 1}\n"
        "  layers: [{cell: gru, hidden_size: 8}]\n  head: {kind: regression, outputs: 1}",
        "{source: series.csv, format: csv, column: value, window: 6}",
        "val_rmse",
    ),
    "tagger": (
        "  scheme: many_to_many\n  input: {kind: tokens, vocab_size: 6, encoding: embedding, "
        "embedding_dim: 4, variable_length: true}\n"
        "  layers: [{cell: gru, hidden_size: 8, bidirectional: true}]\n"
        "  head: {kind: softmax, classes: 3}",
        "{source: tags.npz, format: npz}",
        "val_accuracy",
    ),
}


def write_case_data(name, folder):
    rng = np.random.default_rng(1)
    if name == "word_lm":
        (folder / "words.txt").write_text("a rose is a rose\nis a rose\n" * 12, encoding="utf-8")
    elif name == "left_padded_regression":
        x = rng.uniform(-1, 1, size=(80, 5, 2))
        lengths = rng.integers(1, 6, size=80)
        y = np.array([x[b, :n, 0].mean() for b, n in enumerate(lengths)])
        np.savez(folder / "seqs.npz", x=x, y=y, lengths=lengths)
    elif name == "csv_forecaster":
        values = np.sin(0.4 * np.arange(120)) * 50 + 100
        rows = ["value"] + [repr(float(v)) for v in values]
        (folder / "series.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    else:
        x = rng.integers(0, 6, size=(64, 7))
        lengths = rng.integers(2, 8, size=64)
        np.savez(folder / "tags.npz", x=x, y=x % 3, lengths=lengths)


@pytest.mark.parametrize("name", list(CASES))
def test_other_data_layouts_train(name, train_tools, tmp_path):
    model, data, metric = CASES[name]
    spec = write_spec(tmp_path / "case", model, data)
    write_case_data(name, tmp_path / "case")
    seqspec.compile_spec(spec, "numpy", tmp_path / "case" / "out")
    proc = train_tools["run"](tmp_path / "case" / "out", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = train_tools["metrics"](tmp_path / "run")
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert metric in records[-1]
    if name == "word_lm":
        vocab = json.loads((tmp_path / "run" / "vocab.json").read_text(encoding="utf-8"))
        assert {"rose", "\n", "<unk>"} <= set(vocab["tokens"])
    if name == "csv_forecaster":  # RMSE in the series' units: its std is about 35
        scaler = json.loads((tmp_path / "run" / "scaler.json").read_text(encoding="utf-8"))
        assert 30 < scaler["std"] < 40
        assert records[-1]["val_rmse"] == pytest.approx(
            np.sqrt(records[-1]["val_loss"]) * scaler["std"])
