"""Training from a CSV of sequences (``data.columns``, issue 13 point 4), in every backend.

A CSV with a row per step: feature columns, a sequence-id column, an optional step column that
orders the rows of a sequence, and a label (many_to_one) or target (many_to_many) column. Each
backend's train.py reads it with the same shared reader: the same losses in float64, and the
same one-line refusal, naming file, line and column, for every bad table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec

BACKENDS = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]

CLASSIFIER = """\
seqspec: 1
name: motion
model:
  scheme: many_to_one
  input: {kind: features, size: 2, variable_length: true}
  layers: [{cell: gru, hidden_size: 6}]
  head: {kind: softmax, classes: 3}
training: {optimizer: momentum, learning_rate: 0.05, epochs: 1, batch_size: 5}
data:
  source: motion.csv
  format: csv
  sequence_length: 6
  split: {validation: 0.25}
  columns: {features: [speed, heading], sequence: trip, step: t, label: mode}
"""

TAGGER = """\
seqspec: 1
name: tagger
model:
  scheme: many_to_many
  input: {kind: features, size: 1}
  layers: [{cell: lstm, hidden_size: 5}]
  head: {kind: regression, outputs: 2}
training: {optimizer: sgd, learning_rate: 0.1, epochs: 1, batch_size: 3}
data:
  source: steps.csv
  format: csv
  split: {validation: 0.25}
  columns: {features: [x], sequence: id, target: [low, high]}
"""

MOTION_HEADER = "trip,t,speed,heading,mode\n"

#: bad motion tables -> the one line every backend's train.py prints (BAD is the file's path)
BAD_TABLES = {
    "a,0,1,2,0\na,1,x,2,0\n": "BAD:3:3: 'x' in column 'speed' is not a finite number",
    "a,0,1,2,0\nb,0,1,2,1\na,1,1,2,0\n":
        "BAD:4:1: sequence 'a' starts again (its rows end at line 2); keep a sequence's rows "
        "together",
    "a,0,1,2,0\na,1,1,2,1\n": "BAD:3:5: label 1 differs from 0 at line 2, in the same sequence",
    "a,0,1,2,3\n": "BAD:2:5: '3' in column 'mode' is not a class id from 0 to 2",
    "a,0,1,2,0.5\n": "BAD:2:5: '0.5' in column 'mode' is not a class id from 0 to 2",
    "a,0,1,2,\n":
        "BAD:2:5: sequence 'a' has no label in column 'mode' (a label on one of its rows is "
        "enough)",
    "a,0,1,2,0\na,0,1,2,0\n": "BAD:3:2: step 0 of sequence 'a' is already at line 2",
    "a,0,1,2\n": "BAD:2: 4 cells, the header has 5",
    "".join(f"a,{t},1,2,0\n" for t in range(7)):
        "BAD:2:1: sequence 'a' has 7 rows, more than the spec's sequence_length 6",
    "a,0,1,nan,0\n": "BAD:2:4: 'nan' in column 'heading' is not a finite number",
}
#: whole bad files (no motion header)
BAD_FILES = {
    "trip,t,speed,mode\na,0,1,0\n":
        "BAD:1: column 'heading' is not in the header ['trip', 't', 'speed', 'mode']",
    MOTION_HEADER: "BAD: no rows under the header",
    "": "BAD: empty; a CSV of sequences starts with a header row",
}

def motion_rows(rng: np.random.Generator) -> str:
    """12 trips of 2 to 6 steps, rows shuffled within each trip (the t column orders them),
    the label on one row of some trips and on every row of the others."""
    lines = [MOTION_HEADER]
    for trip in range(12):
        mode, steps = trip % 3, 2 + trip % 5
        rows = []
        for t in rng.permutation(steps):
            label = mode if trip % 2 or t == steps - 1 else ""
            speed, heading = mode + rng.normal(0, 0.3), rng.uniform(-1, 1)
            rows.append(f"trip{trip},{t},{speed:.6f},{heading:.6f},{label}\n")
        lines += rows
    return "".join(lines)


def step_rows(rng: np.random.Generator) -> str:
    """8 sequences of 4 steps: the targets are x - 1 and x + 1."""
    lines = ["id,x,low,high\n"]
    for seq in range(8):
        for x in rng.normal(0, 1, 4):
            lines.append(f"s{seq},{x:.6f},{x - 1:.6f},{x + 1:.6f}\n")
    return "".join(lines)


def compile_case(root: Path, spec: str, data_name: str, data: str, backend: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "spec.yaml").write_text(spec, encoding="utf-8")
    (root / data_name).write_text(data, encoding="utf-8")
    seqspec.compile_spec(root / "spec.yaml", backend, root / backend)
    return root / backend


def run_backend(backend: str, tmp: Path, run_jobs) -> dict:
    """Train both specs for one epoch (2 steps) in float64 and try every bad table, in one
    process (run_jobs, tests/train/conftest.py): {case: ["ok", stdout] | ["exit", message,
    stdout] | ["crash", traceback]}, and the metrics."""
    rng = np.random.default_rng(0)
    motion = compile_case(tmp / "motion", CLASSIFIER, "motion.csv", motion_rows(rng), backend)
    tagger = compile_case(tmp / "tagger", TAGGER, "steps.csv", step_rows(rng), backend)
    common = ["--dtype", "float64", "--overwrite"]
    cases = {"motion": [*common, "--out", str(tmp / f"motion-{backend}")]}
    bad = {**{MOTION_HEADER + rows: message for rows, message in BAD_TABLES.items()},
           **BAD_FILES}
    for k, text in enumerate(bad):
        path = tmp / f"bad{k}.csv"
        path.write_text(text, encoding="utf-8")
        cases[f"bad{k}"] = [*common, "--data", str(path), "--out", str(tmp / f"bad-{backend}")]
    tagged = {"tagger": [*common, "--out", str(tmp / f"tagger-{backend}")]}
    results = run_jobs([(motion, cases), (tagger, tagged)], tmp)
    expected = {f"bad{k}": message.replace("BAD", str(tmp / f"bad{k}.csv"))
                for k, message in enumerate(bad.values())}
    metrics = {}
    for name in ("motion", "tagger"):
        assert results[name][0] == "ok", results[name]
        with open(tmp / f"{name}-{backend}" / "metrics.jsonl", encoding="utf-8") as fh:
            metrics[name] = [json.loads(line) for line in fh if line.strip()]
    return {"results": results, "expected": expected, "metrics": metrics, "tmp": tmp}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, train_tools):
    cache: dict[str, dict] = {}

    def get(backend: str) -> dict:
        if backend not in cache:
            tmp = tmp_path_factory.mktemp(f"csv-{backend}")
            cache[backend] = run_backend(backend, tmp, train_tools["run_jobs"])
        return cache[backend]

    return get


def epoch_record(records: list[dict]) -> dict:
    return next(r for r in records if "val_loss" in r)


@pytest.mark.parametrize("backend", BACKENDS)
def test_trains_with_the_losses_of_numpy(backend, runs) -> None:
    mine, numpy_run = runs(backend)["metrics"], runs("numpy")["metrics"]
    for name, steps in (("motion", 2), ("tagger", 2)):
        got, want = epoch_record(mine[name]), epoch_record(numpy_run[name])
        # 9 training trips in batches of 5; 6 sequences in batches of 3
        assert got["step"] == steps
        for key in ("train_loss", "val_loss"):
            assert np.isfinite(got[key])
            # float64: only the frameworks' kernels differ (~4e-9 left after TF's sgd steps)
            assert got[key] == pytest.approx(want[key], rel=1e-8, abs=1e-12), (name, key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_tables_are_one_line_naming_file_line_and_column(backend, runs) -> None:
    run = runs(backend)
    for case, message in run["expected"].items():
        assert run["results"][case][:2] == ["exit", message]


def load_reader(folder: Path, reader: str = "read_table"):
    """The compiled NumPy train.py's TASK and its runtime's `reader`."""
    sys.path.insert(0, str(folder))
    try:
        for name in ("train", "model", "numpy_train_runtime", "numpy_runtime"):
            sys.modules.pop(name, None)
        import train

        return train.TASK, getattr(sys.modules["numpy_train_runtime"], reader)
    finally:
        sys.path.remove(str(folder))
        for name in ("train", "model", "numpy_train_runtime", "numpy_runtime"):
            sys.modules.pop(name, None)


def test_rows_become_padded_sequences_in_step_order(tmp_path) -> None:
    table = MOTION_HEADER + "b,1,0.5,0.25,\nb,0,1.5,-1,2\na,0,3,4,1\nc,2,7,8,1\nc,1,5,6,\n"
    folder = compile_case(tmp_path, CLASSIFIER, "motion.csv", table, "numpy")
    task, read_table = load_reader(folder)
    arrays = read_table(str(tmp_path / "motion.csv"), task)
    assert arrays["lengths"].tolist() == [2, 1, 2]
    assert arrays["y"].tolist() == [2, 1, 1] and arrays["y"].dtype == np.int64
    assert arrays["x"].shape == (3, 2, 2) and arrays["x"].dtype == np.float64
    assert arrays["x"][0].tolist() == [[1.5, -1], [0.5, 0.25]]  # ordered by t
    assert arrays["x"][1].tolist() == [[3, 4], [0, 0]]  # right-padded with zeros
    assert arrays["x"][2].tolist() == [[5, 6], [7, 8]]


def test_fixed_length_models_refuse_ragged_sequences(tmp_path) -> None:
    folder = compile_case(tmp_path, TAGGER, "steps.csv",
                          "id,x,low,high\na,1,0,2\na,2,1,3\nb,1,0,2\n", "numpy")
    task, read_table = load_reader(folder)
    assert task.x_padding is None
    with pytest.raises(SystemExit) as e:
        read_table(str(tmp_path / "steps.csv"), task)
    assert str(e.value) == (
        f"{tmp_path / 'steps.csv'}:4:1: sequence 'b' has 1 rows, others 2; this model reads "
        "sequences of one length (variable_length: true takes any)")


def test_fixed_length_models_refuse_short_npz_lengths_too(tmp_path) -> None:
    spec = CLASSIFIER.replace(", variable_length: true", "").replace(
        "  source: motion.csv\n  format: csv\n", "  source: seqs.npz\n  format: npz\n")
    spec = spec.replace("  columns: {features: [speed, heading], sequence: trip, step: t, "
                        "label: mode}\n", "")
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    seqspec.compile_spec(tmp_path / "spec.yaml", "numpy", tmp_path / "out")
    task, read_npz = load_reader(tmp_path / "out", "read_npz")
    x, y = np.zeros((4, 3, 2)), np.array([0, 1, 2, 0])
    np.savez(tmp_path / "whole.npz", x=x, y=y, lengths=np.full(4, 3))
    assert read_npz(str(tmp_path / "whole.npz"), task)["x"].shape == (4, 3, 2)
    np.savez(tmp_path / "short.npz", x=x, y=y, lengths=np.array([3, 2, 3, 3]))
    with pytest.raises(SystemExit) as e:
        read_npz(str(tmp_path / "short.npz"), task)
    assert str(e.value) == (
        f"{tmp_path / 'short.npz'}: array 'lengths' holds lengths below 3, and this model "
        "reads sequences of one length (variable_length: true takes any)")


def test_predict_writes_one_output_per_sequence_in_file_order(runs) -> None:
    tmp = runs("numpy")["tmp"]
    out = tmp / "outputs.jsonl"
    proc = subprocess.run(
        [sys.executable, "predict.py", "--weights", str(tmp / "motion-numpy" / "weights.npz"),
         "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp / "motion" / "numpy",
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["sample"] for r in records] == list(range(12))  # one per trip, not per row
    assert all(len(r["outputs"]) == 3 and r["class"] in (0, 1, 2) for r in records)
