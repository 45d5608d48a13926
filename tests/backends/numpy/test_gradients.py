"""Hand-written BPTT against central finite differences, in float64.

Each check perturbs one parameter (or float input) along a random direction and compares
(L(w + eps v) - L(w - eps v)) / 2 eps with <dL/dw, v>, with L = sum(outputs * G). Every
parameter of every example is checked this way, then many small specs cover every cell,
merge mode, padding side, pooling, bridge and scheme.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqspec import testing, weights

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
TOL = 1e-6


def check(model_ir, module, gradcheck, *, batch=3, steps=5, seed=0, extra=None, truncate=None):
    w = weights.random_weights(model_ir, seed)
    model = module.Model(w, dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=batch, steps=steps, seed=seed)
    errors = gradcheck(model, w, inputs, seed=seed, extra=extra, truncate=truncate)
    floats = {k for k, v in inputs.items() if v.dtype.kind == "f"}
    assert set(errors) == set(w) | floats  # every parameter and every float input
    bad = {k: v for k, v in errors.items() if v > TOL}
    assert not bad, bad
    return errors


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_every_example(example, numpy_model, gradcheck):
    check(*numpy_model(example), gradcheck)


@pytest.mark.parametrize("example", ["elman_lm", "caption_one_to_many", "seq2seq_bilstm_dense"])
def test_random_entries_of_big_examples(example, numpy_model):
    """Entry by entry, for a random subset of the entries of every parameter."""
    model_ir, module = numpy_model(ROOT / "examples" / f"{example}.yaml")
    w = weights.random_weights(model_ir, 1)
    model = module.Model(w, dtype="float64")
    inputs = testing.make_inputs(model_ir, batch=2, steps=4, seed=1)
    out, _ = model.forward(**inputs)
    G = testing.output_cotangent(out.shape)
    grads = model.backward(G)
    rng = np.random.default_rng(0)
    for name, value in w.items():
        for flat_index in rng.choice(value.size, size=min(3, value.size), replace=False):
            index = np.unravel_index(flat_index, value.shape)
            losses = []
            for sign in (1.0, -1.0):
                shifted = dict(w)
                shifted[name] = value.copy()
                shifted[name][index] += sign * 1e-5
                model.load_weights(shifted)
                losses.append(float(np.sum(model.forward(**inputs)[0] * G)))
            numeric = (losses[0] - losses[1]) / 2e-5
            analytic = grads[name][index]
            assert abs(numeric - analytic) <= TOL * max(abs(numeric), abs(analytic), 1e-3), (
                name, index, numeric, analytic)


CELLS = {
    "elman": {"cell": "elman", "hidden_size": 4},
    "elman_relu_no_bias": {"cell": "elman", "hidden_size": 4, "activation": "relu",
                           "bias": False},
    "elman_sigmoid": {"cell": "elman", "hidden_size": 3, "activation": "sigmoid"},
    "jordan_decay": {"cell": "jordan", "hidden_size": 4, "output_size": 3,
                     "context_decay": 0.5, "output_activation": "linear"},
    "jordan_sigmoid_no_bias": {"cell": "jordan", "hidden_size": 3, "output_size": 2,
                               "activation": "relu", "output_activation": "sigmoid",
                               "context_decay": 0.3, "bias": False},
    "lstm": {"cell": "lstm", "hidden_size": 4},
    "lstm_peepholes": {"cell": "lstm", "hidden_size": 4, "peepholes": True},
    "lstm_no_bias": {"cell": "lstm", "hidden_size": 3, "bias": False},
    "gru_reset_after": {"cell": "gru", "hidden_size": 4},
    "gru_reset_before": {"cell": "gru", "hidden_size": 4, "variant": "reset_before"},
    "gru_reset_before_no_bias": {"cell": "gru", "hidden_size": 3, "variant": "reset_before",
                                 "bias": False},
    "indrnn": {"cell": "indrnn", "hidden_size": 4},
    "indrnn_tanh_no_bias": {"cell": "indrnn", "hidden_size": 3, "activation": "tanh",
                            "bias": False, "recurrent_max": 0.8},
}
MERGES = ["concat", "sum", "ave", "mul"]


@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_bidirectional_variable_length(cell, padding, spec_model, gradcheck):
    """Two layers: a bidirectional one (a merge mode per cell) under a unidirectional one."""
    # every merge mode for several cells; "mul" not after cells without bias, whose small
    # outputs would multiply into gradients below the finite differences' noise
    merge = MERGES[list(CELLS).index(cell) % 4]
    if merge == "mul" and "no_bias" in cell:
        merge = "sum"
    model = {
        "scheme": "many_to_many",
        "input": {"kind": "features", "size": 3, "variable_length": True, "padding": padding},
        "layers": [{**CELLS[cell], "bidirectional": True, "merge_mode": merge}, CELLS[cell]],
        "head": {"kind": "regression", "outputs": 2},
    }
    check(*spec_model(model), gradcheck)


@pytest.mark.parametrize("merge", MERGES)
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_pooling_bidirectional(pooling, merge, spec_model, gradcheck):
    padding = "left" if merge in ("sum", "mul") else "right"
    cell = ["lstm_peepholes", "gru_reset_after", "jordan_decay"][["last", "mean", "max"].index(
        pooling)]
    model = {
        "scheme": "many_to_one",
        "input": {"kind": "tokens", "vocab_size": 7, "encoding": "one_hot",
                  "variable_length": True, "padding": padding},
        "layers": [{**CELLS[cell], "bidirectional": True, "merge_mode": merge}],
        "pooling": pooling,
        "head": {"kind": "softmax", "classes": 3},
    }
    check(*spec_model(model), gradcheck)


def test_seq2seq_copy_bridge_variable_lengths(spec_model, gradcheck):
    model = {
        "scheme": "seq2seq",
        "encoder": {"input": {"kind": "features", "size": 2, "variable_length": True,
                              "padding": "left"},
                    "layers": [CELLS["lstm"], CELLS["lstm"]]},
        "bridge": {"kind": "copy"},
        "decoder": {"input": {"kind": "tokens", "vocab_size": 5, "encoding": "embedding",
                              "embedding_dim": 3, "variable_length": True},
                    "layers": [CELLS["lstm"], CELLS["lstm"]]},
        "head": {"kind": "softmax", "classes": 5},
        "start_token": 1,
    }
    check(*spec_model(model), gradcheck, steps=6)


def test_seq2seq_dense_bridge_jordan_regression(spec_model, gradcheck):
    """A bidirectional encoder, a dense bridge into a Jordan decoder fed its float outputs."""
    model = {
        "scheme": "seq2seq",
        "encoder": {"input": {"kind": "tokens", "vocab_size": 6, "encoding": "one_hot",
                              "variable_length": True},
                    "layers": [{**CELLS["gru_reset_before"], "bidirectional": True,
                                "merge_mode": "mul"}]},
        "bridge": {"kind": "dense", "activation": "sigmoid"},
        "decoder": {"input": {"kind": "features", "size": 3, "variable_length": True,
                              "padding": "left"},
                    "layers": [CELLS["jordan_decay"], CELLS["elman"]]},
        "head": {"kind": "regression", "outputs": 3},
    }
    check(*spec_model(model), gradcheck, steps=6)


def test_one_to_many_dense_bridge(spec_model, gradcheck):
    model = {
        "scheme": "one_to_many",
        "input": {"kind": "vector", "size": 5},
        "bridge": {"kind": "dense", "activation": "relu"},
        "decoder": {"input": {"kind": "tokens", "vocab_size": 6, "encoding": "one_hot",
                              "variable_length": True},
                    "layers": [CELLS["gru_reset_after"], CELLS["lstm_peepholes"]],
                    "dropout": 0.3},
        "head": {"kind": "softmax", "classes": 6},
    }
    check(*spec_model(model), gradcheck)


@pytest.mark.parametrize("example", ["char_lstm", "stacked_elman_relu"])
def test_training_mode_with_the_dropout_mask_fixed(example, numpy_model, gradcheck):
    """Dropout masks come from the seeded rng, so every evaluation sees the same mask."""
    check(*numpy_model(ROOT / "examples" / f"{example}.yaml"), gradcheck,
          extra={"training": True, "rng": 123})
