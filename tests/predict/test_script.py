"""The generated predict.py and `seqspec predict` / `seqspec evaluate`, end to end.

A model is trained 2 steps with the torch train.py; then predict.py in every backend, on a
file it never saw, gives the same float64 outputs (1e-9), `seqspec evaluate` equals the
final.json train.py wrote, a language model continues prompts of different lengths alike
everywhere, and every mistake is one line and exit status 1.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import cli

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ["numpy", "torch", "tensorflow"]
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

ACTIVITY = """seqspec: 1
name: activity
model:
  scheme: many_to_one
  input: {kind: features, size: 3, variable_length: true}
  layers:
    - {cell: gru, hidden_size: 5, bidirectional: true}
    - {cell: lstm, hidden_size: 4}
  dropout: 0.5
  pooling: mean
  head: {kind: softmax, classes: 3}
data: {source: data.npz, format: npz, split: {validation: 0.2, test: 0.2}}
training: {optimizer: adam, learning_rate: 0.05, epochs: 1, batch_size: 8}
"""

LM = """seqspec: 1
name: lm
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 12, encoding: embedding, embedding_dim: 8}
  layers: [{cell: lstm, hidden_size: 8}, {cell: gru, hidden_size: 8}]
  dropout: 0.1
  head: {kind: softmax, classes: 12}
data: {source: data.txt, format: text, level: char, sequence_length: 10, split: {validation: 0.1}}
training: {optimizer: adam, learning_rate: 0.03, epochs: 1, batch_size: 8}
"""


def activity_data(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    n = 30
    np.savez(path, x=rng.normal(size=(n, 6, 3)), lengths=rng.integers(1, 7, size=n),
             y=rng.integers(0, 3, size=n))
    return path


def text_data(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    path.write_text("".join(rng.choice(list("abcdefgh \n"), size=2000)), encoding="utf-8")
    return path


def run(*command: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True,
                          env=QUIET, timeout=300, check=False)


def train_two_steps(folder: Path, spec: Path) -> Path:
    """Compile spec for every backend into folder/<backend>; train torch 2 steps: weights."""
    for backend in BACKENDS:
        seqspec.compile_spec(spec, backend, folder / backend)
    proc = run(folder / "torch" / "train.py", "--max-steps", "2", "--out", folder / "run",
               "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "run" / "weights.npz"


@pytest.fixture(scope="module")
def activity(tmp_path_factory):
    folder = tmp_path_factory.mktemp("activity")
    spec = folder / "activity.yaml"
    spec.write_text(ACTIVITY, encoding="utf-8")
    activity_data(folder / "data.npz", 0)
    new = activity_data(folder / "new.npz", 1)
    return folder, spec, train_two_steps(folder, spec), new


def predict_py(folder: Path, backend: str, *args: object) -> subprocess.CompletedProcess:
    return run(folder / backend / "predict.py", *args)


def test_predict_py_gives_the_same_outputs_in_every_backend(activity, tmp_path):
    folder, _, weights, new = activity
    outputs = {}
    for backend in BACKENDS:
        out = tmp_path / f"{backend}.npz"
        proc = predict_py(folder, backend, "--weights", weights, "--data", new, "-o", out,
                          "--dtype", "float64", "--batch-size", "7")
        assert proc.returncode == 0, proc.stderr[-3000:]
        with np.load(out) as f:
            outputs[backend] = dict(f)
    reference = outputs["numpy"]
    assert reference["outputs"].shape == (30, 3) and reference["classes"].shape == (30,)
    for backend, found in outputs.items():
        np.testing.assert_allclose(found["outputs"], reference["outputs"], rtol=1e-9, atol=1e-12,
                                   err_msg=backend)
        np.testing.assert_array_equal(found["classes"], reference["outputs"].argmax(axis=-1))


def test_two_torch_predictions_are_identical(activity, tmp_path):
    """The torch Model starts in training mode (dropout 0.5): predict turns it off."""
    folder, _, weights, new = activity
    for name in ("a.npz", "b.npz"):
        proc = predict_py(folder, "torch", "--weights", weights, "--data", new, "-o",
                          tmp_path / name)
        assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        np.testing.assert_array_equal(a["outputs"], b["outputs"])


def test_csv_and_jsonl_outputs_hold_the_npz_numbers(activity, tmp_path):
    folder, _, weights, new = activity
    for name in ("out.npz", "out.csv", "out.jsonl"):
        proc = predict_py(folder, "numpy", "--weights", weights, "--data", new, "-o",
                          tmp_path / name)
        assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp_path / "out.npz") as f:
        outputs = f["outputs"]
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "sample,output_0,output_1,output_2,class"
    table = np.array([[float(v) for v in line.split(",")[1:4]] for line in lines[1:]])
    np.testing.assert_array_equal(table, outputs)
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    np.testing.assert_array_equal([r["outputs"] for r in records], outputs)
    assert [r["class"] for r in records] == outputs.argmax(axis=-1).tolist()


def test_evaluate_equals_final_json(activity, capfd):
    folder, spec, weights, _ = activity
    final = json.loads((folder / "run" / "final.json").read_text())
    expected = {k: v for k, v in final.items() if k.startswith(("val_", "test_"))}
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= expected.keys()
    capfd.readouterr()
    status = cli.main(["evaluate", str(spec), "-b", "torch", "--weights", str(weights),
                       "--format", "json"])
    out = capfd.readouterr().out
    assert status == 0
    assert json.loads(out.strip().splitlines()[-1]) == pytest.approx(expected, rel=1e-12)


def test_seqspec_predict_writes_what_predict_py_writes(activity, tmp_path, capfd):
    folder, spec, weights, new = activity
    status = cli.main(["predict", str(spec), "-b", "numpy", "--weights", str(weights),
                       "--data", str(new), "-o", str(tmp_path / "cli.npz")])
    assert status == 0
    proc = predict_py(folder, "numpy", "--weights", weights, "--data", new, "-o",
                      tmp_path / "script.npz")
    assert proc.returncode == 0
    with np.load(tmp_path / "cli.npz") as a, np.load(tmp_path / "script.npz") as b:
        np.testing.assert_array_equal(a["outputs"], b["outputs"])


def bad_width(folder: Path) -> Path:
    with np.load(folder / "new.npz") as f:
        arrays = dict(f)
    arrays["x"] = arrays["x"][:, :, :2]
    np.savez(folder / "narrow.npz", **arrays)
    return folder / "narrow.npz"


#: name -> (arguments after the spec, the message's end); {f}: the case's folder
CLI_ERRORS = {
    "missing weights": (["--weights", "{f}/none.npz", "--data", "{f}/new.npz", "-o", "{t}/o.npz"],
                        "none.npz: error: no such weights file"),
    "weights not npz": (["--weights", "{f}/activity.yaml", "--data", "{f}/new.npz", "-o",
                         "{t}/o.npz"], "activity.yaml: error: "),
    "bad suffix": (["--weights", "{w}", "--data", "{f}/new.npz", "-o", "{t}/o.txt"],
                   "the name must end in .npz, .csv, .jsonl"),
    "existing output": (["--weights", "{w}", "--data", "{f}/new.npz", "-o", "{f}/new.npz"],
                        "the file exists (--force replaces it)"),
    "missing data": (["--weights", "{w}", "--data", "{f}/none.npz", "-o", "{t}/o.npz"],
                     "no data file"),
    "wrong width": (["--weights", "{w}", "--data", "{f}/narrow.npz", "-o", "{t}/o.npz"],
                    # train.py's data reader, which predict.py shares, refuses it first
                    "narrow.npz: array 'x' has shape (30, 6, 2), expected (N, T, 3)"),
}


def cli_cases():
    """Every mistake with NumPy; the input check's also with torch (the others are the same
    predict.py code in every backend)."""
    for case in CLI_ERRORS:
        yield pytest.param(case, "numpy", id=f"{case}-numpy")
    yield pytest.param("wrong width", "torch", id="wrong width-torch")


@pytest.mark.parametrize(("case", "backend"), list(cli_cases()))
def test_cli_mistakes_are_one_line_and_exit_1(activity, tmp_path, capfd, case, backend):
    folder, spec, weights, _ = activity
    bad_width(folder)
    args, message = CLI_ERRORS[case]
    args = [a.format(f=folder, t=tmp_path, w=weights) for a in args]
    before = (folder / "new.npz").read_bytes()
    capfd.readouterr()
    status = cli.main(["predict", str(spec), "-b", backend, *args])
    err = capfd.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]
    assert (folder / "new.npz").read_bytes() == before  # nothing the user had is touched
    assert not (tmp_path / "o.npz").exists()


@pytest.fixture(scope="module")
def language_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    spec = folder / "lm.yaml"
    spec.write_text(LM, encoding="utf-8")
    text_data(folder / "data.txt", 0)
    return folder, spec, train_two_steps(folder, spec)


@pytest.mark.parametrize("backends", [
    ["numpy", "torch"], pytest.param(BACKENDS, marks=pytest.mark.slow, id="all")])
def test_a_language_model_continues_prompts_alike(language_model, backends):
    folder, _, weights = language_model
    # prompts of training characters only: predict.py refuses symbols its vocabulary lacks
    known = json.loads((weights.parent / "vocab.json").read_text())["tokens"][1:]
    short, long = "".join(known[:2]), "".join(known[2:8]) + "".join(known[:2])
    texts = {}
    for backend in backends:
        proc = predict_py(folder, backend, "--weights", weights, "--prime", short,
                          "--prime", long, "--steps", "12", "--dtype", "float64",
                          "--format", "json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        texts[backend] = json.loads(proc.stdout.splitlines()[-1])
    first = texts[backends[0]]
    assert first[0].startswith(short) and first[1].startswith(long)
    assert [len(t) for t in first] == [len(short) + 12, len(long) + 12]
    assert all(found == first for found in texts.values()), texts


def test_language_model_evaluate_equals_final_json(language_model):
    folder, _, weights = language_model
    final = json.loads((folder / "run" / "final.json").read_text())
    proc = predict_py(folder, "torch", "--weights", weights, "--evaluate", "--format", "json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = {k: v for k, v in final.items() if k.startswith(("val_", "test_"))}
    assert json.loads(proc.stdout.splitlines()[-1]) == pytest.approx(expected, rel=1e-12)


def _random_data():
    """tests/train/test_examples.random_data: a data file of the right kind for any example."""
    path = ROOT / "tests" / "train" / "test_examples.py"
    spec = importlib.util.spec_from_file_location("_train_examples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.random_data


EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_predicts_alike_after_training(example, tmp_path):
    """Every example, with data of its kind: trained 2 steps with torch, predict.py gives the
    same float64 outputs in every backend on a new file, and evaluate equals final.json."""
    random_data = _random_data()
    model = seqspec.lower_file(example)
    train_dir, new_dir = tmp_path / "train", tmp_path / "new"
    train_dir.mkdir()
    new_dir.mkdir()
    data = random_data(model, train_dir)
    for backend in BACKENDS:
        seqspec.compile_spec(example, backend, tmp_path / backend)
    proc = run(tmp_path / "torch" / "train.py", "--data", data, "--max-steps", "2",
               "--batch-size", "8", "--out", tmp_path / "run", "--no-progress")
    if "trains" in proc.stderr and proc.returncode == 1:
        pytest.skip(proc.stderr.strip())  # an example its data format cannot train
    assert proc.returncode == 0, proc.stderr[-3000:]
    weights = tmp_path / "run" / "weights.npz"
    new = _random_data_other_seed(random_data, model, new_dir)
    outputs = {}
    for backend in BACKENDS:
        if model.scheme == "many_to_many" and model.can_generate and data.suffix == ".txt":
            proc = predict_py(tmp_path, backend, "--weights", weights, "--prime", "ab",
                              "--steps", "5", "--dtype", "float64", "--format", "json")
            assert proc.returncode == 0, proc.stderr[-3000:]
            outputs[backend] = proc.stdout.splitlines()[-1]
            continue
        out = tmp_path / f"{backend}.npz"
        proc = predict_py(tmp_path, backend, "--weights", weights, "--data", new, "-o", out,
                          "--dtype", "float64")
        assert proc.returncode == 0, proc.stderr[-3000:]
        with np.load(out) as f:
            outputs[backend] = f["outputs"]
    for backend, found in outputs.items():
        if isinstance(found, str):
            assert found == outputs["numpy"], backend
        else:
            np.testing.assert_allclose(found, outputs["numpy"], rtol=1e-9, atol=1e-12,
                                       err_msg=backend)
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    proc = predict_py(tmp_path, "torch", "--weights", weights, "--data", data, "--evaluate",
                      "--format", "json", "--batch-size", "8")
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = {k: v for k, v in final.items() if k.startswith(("val_", "test_"))}
    assert json.loads(proc.stdout.splitlines()[-1]) == pytest.approx(expected, rel=1e-9)


def _random_data_other_seed(random_data, model, folder: Path) -> Path:
    """A new file of the same kind: random_data draws with seed 0, so shuffle its samples'
    values by rereading with another generator (a fresh file the model never saw)."""
    path = random_data(model, folder)
    rng = np.random.default_rng(1)
    if path.suffix == ".npz":
        with np.load(path) as f:
            arrays = dict(f)
        for key, value in arrays.items():
            if value.dtype.kind == "f":
                arrays[key] = value + rng.normal(scale=0.5, size=value.shape)
        np.savez(path, **arrays)
    elif path.suffix == ".csv" and model.data is not None and model.data.columns is not None:
        # a table of sequences: new feature values; the ids, steps and labels stay
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            for name in model.data.columns.features:
                row[name] = repr(float(row[name]) + rng.normal())
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".csv":
        lines = path.read_text().splitlines()
        values = [repr(float(v) + rng.normal()) for v in lines[1:]]
        path.write_text("\n".join([lines[0], *values]) + "\n")
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_py_reports_data_that_does_not_fit_in_one_line(activity, tmp_path, backend):
    folder, _, _, _ = activity
    narrow = bad_width(folder)
    proc = run(folder / backend / "train.py", "--data", narrow, "--max-steps", "1", "--out",
               tmp_path / "run", "--no-progress")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    # the data reader refuses it before the model's own input check would
    assert last.endswith("narrow.npz: array 'x' has shape (30, 6, 2), expected (N, T, 3)")
    assert "Traceback" not in proc.stderr
