"""Padding never poisons a result: NaN or inf at padded positions leaves everything exact.

For every cell (and the explicit torch cells and Keras custom cells that each one selects), in
every backend, with right and left padding: outputs, final states and the gradients of every
parameter and of the inputs are exactly those of the same batch with zeros at the padding.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from seqspec import testing, weights

CELLS = {
    "elman_tanh": "{cell: elman, hidden_size: 4, activation: tanh}",
    "elman_sigmoid": "{cell: elman, hidden_size: 4, activation: sigmoid}",
    "elman_relu": "{cell: elman, hidden_size: 4, activation: relu}",
    "lstm": "{cell: lstm, hidden_size: 4}",
    "lstm_peepholes": "{cell: lstm, hidden_size: 4, peepholes: true}",
    "gru_reset_after": "{cell: gru, hidden_size: 4, variant: reset_after}",
    "gru_reset_before": "{cell: gru, hidden_size: 4, variant: reset_before}",
    "jordan": "{cell: jordan, hidden_size: 4, output_size: 3, context_decay: 0.5}",
    "indrnn_relu": "{cell: indrnn, hidden_size: 4, recurrent_max: 1.5}",
    "indrnn_tanh": "{cell: indrnn, hidden_size: 4, activation: tanh}",
}


def spec_text(name: str, cell: str, padding: str) -> str:
    """Two layers of the cell: bidirectional, then forward only; per-step softmax outputs."""
    bidirectional = cell[:-1] + ", bidirectional: true}"
    return f"""seqspec: 1
name: {name}
model:
  scheme: many_to_many
  input: {{kind: features, size: 3, variable_length: true, padding: {padding}}}
  layers:
    - {bidirectional}
    - {cell}
  head: {{kind: softmax, classes: 3}}
"""


def poisoned(inputs: dict, padding: str, value: float) -> dict:
    """The batch with `value` (NaN, inf) at every padded position of x; zeros when value is 0."""
    x, lengths = inputs["x"].copy(), inputs["lengths"]
    steps = x.shape[1]
    for b, n in enumerate(lengths):
        pad = slice(n, steps) if padding == "right" else slice(0, steps - n)
        x[b, pad] = value
    return {**inputs, "x": x}


def cases():
    """Every backend x cell x padding; Keras traces each model for seconds, so all but a fused
    Keras layer and a custom Keras cell run with the slow tests there."""
    for backend in ("numpy", "torch", "tensorflow"):
        for cell in CELLS:
            for padding in ("right", "left"):
                quick = cell in ("lstm", "jordan") and padding == "right"
                marks = () if backend != "tensorflow" or quick else (pytest.mark.slow,)
                name = f"{backend}-{cell}-{padding}"
                yield pytest.param(backend, cell, padding, marks=marks, id=name)


@pytest.mark.parametrize(("backend", "cell", "padding"), list(cases()))
def test_nan_and_inf_padding_leave_everything_exact(compile_text, backend, cell, padding):
    if backend != "numpy":
        pytest.importorskip(backend)
    name = f"pad_{cell}_{padding}"
    model_ir, folder = compile_text(name, spec_text(name, CELLS[cell], padding), backend)
    runner = importlib.import_module(f"seqspec.backends.{backend}.runner")
    w = weights.random_weights(model_ir, 0, scale=2.0)
    inputs = testing.make_inputs(model_ir, batch=4, steps=6)
    assert inputs["lengths"].min() < 6  # some row is padded
    clean = poisoned(inputs, padding, 0.0)
    d_outputs = testing.output_cotangent((4, 6, 3))
    reference = runner.run(folder, w, clean, d_outputs)
    for value in (np.nan, np.inf, -np.inf):
        result = runner.run(folder, w, poisoned(inputs, padding, value), d_outputs)
        for part in ("outputs", "states", "grads"):
            assert result[part].keys() == reference[part].keys()
            for key, expected in reference[part].items():
                got = result[part][key]
                if part == "grads" and key == "x":  # padded inputs have no effect: 0 there
                    got = np.nan_to_num(got, nan=7.0, posinf=7.0, neginf=7.0)
                np.testing.assert_array_equal(got, expected, err_msg=f"{part} {key} {value}")
