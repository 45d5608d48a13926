"""Every example spec's train.py runs a couple of steps on random data of the right shapes.

Slow (45 runs, TensorFlow's start dominates): pytest tests/train -m slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def random_data(model, folder: Path) -> Path:
    """A data file of the kind train.py reads for `model`, filled with random values."""
    rng = np.random.default_rng(0)
    n, steps = 24, 6
    if model.ar is not None:
        values = np.cumsum(rng.normal(size=80))
        path = folder / "series.csv"
        column = model.data.column if model.data is not None else "value"
        path.write_text("\n".join([column] + [repr(float(v)) for v in values]) + "\n")
        return path
    if model.data is not None and model.data.columns is not None:
        return random_table(model, folder, rng)
    if model.scheme == "many_to_many" and model.can_generate:
        path = folder / "text.txt"
        path.write_text("".join(rng.choice(list("abcdefgh \n"), size=3000)), encoding="utf-8")
        return path

    def sequence(stack):
        if stack.input.kind == "tokens":
            return rng.integers(0, stack.input.vocab_size, size=(n, steps))
        return rng.normal(size=(n, steps, stack.input.step_size))

    head = model.head
    arrays = {}
    if model.encoder is not None:
        arrays["x"] = sequence(model.encoder)
        # ragged only where the model takes lengths: a fixed-length encoder refuses them
        ragged = model.encoder.input.variable_length
        arrays["x_lengths" if model.scheme == "seq2seq" else "lengths"] = rng.integers(
            2 if ragged else steps, steps + 1, size=n)
    if model.scheme == "one_to_many":
        arrays["features"] = rng.normal(size=(n, model.vector_size))
    shape = (n, steps) if head.per_step else (n,)
    if head.kind == "softmax":
        arrays["y"] = rng.integers(0, head.out_size, size=shape)
    else:
        arrays["y"] = rng.normal(size=(*shape, head.out_size))
    path = folder / "data.npz"
    np.savez(path, **arrays)
    return path


def random_table(model, folder: Path, rng: np.random.Generator) -> Path:
    """A CSV of 24 sequences (data.columns) of 2 to 6 rows, with random features and labels."""
    columns, head = model.data.columns, model.head
    outputs = columns.label or columns.target
    lines = [",".join([columns.sequence, *([columns.step] if columns.step else []),
                       *columns.features, *outputs])]
    for seq in range(24):
        label = rng.integers(0, head.out_size) if head.kind == "softmax" else None
        for t in range(int(rng.integers(2, 7))):
            values = [repr(float(v)) for v in rng.normal(size=len(columns.features))]
            if head.kind == "softmax":
                ys = [str(label if columns.label else rng.integers(0, head.out_size))]
            else:
                ys = [repr(float(v)) for v in rng.normal(size=len(outputs))]
            lines.append(",".join([f"s{seq}", *([str(t)] if columns.step else []), *values, *ys]))
    path = folder / "table.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "torch", "tensorflow"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_trains_two_steps(example, backend, train_tools, tmp_path):
    pytest.importorskip(backend)
    model = seqspec.lower_file(example)
    out = tmp_path / "model"
    seqspec.compile_spec(example, backend, out)
    data = random_data(model, tmp_path)
    proc = train_tools["run"](out, "--data", str(data), "--out", str(tmp_path / "run"),
                              "--max-steps", "2", "--batch-size", "8", "--checkpoint-every", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "done: 2 steps" in proc.stdout
    with np.load(tmp_path / "run" / "weights.npz") as f:
        assert sorted(f.files) == sorted(p.name for p in model.params)
