"""The NumPy model against an independent, step-by-step reading of the equations.

The reference is the suite's one oracle (tests/oracle.py): it loops over sequences and steps
and applies each cell's equations as the docs write them, with the canonical per-gate weights
(no fusing, no batching, no masks: each sequence is cut to its valid part). Then a few numbers
are pinned.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqspec import testing, weights

CELLS = {
    "elman_tanh": {"cell": "elman", "hidden_size": 3},
    "elman_relu": {"cell": "elman", "hidden_size": 3, "activation": "relu"},
    "elman_sigmoid_no_bias": {"cell": "elman", "hidden_size": 3, "activation": "sigmoid",
                              "bias": False},
    "jordan": {"cell": "jordan", "hidden_size": 3, "output_size": 2, "context_decay": 0.5},
    "jordan_linear_out": {"cell": "jordan", "hidden_size": 3, "output_size": 2,
                          "output_activation": "linear", "activation": "relu"},
    "lstm": {"cell": "lstm", "hidden_size": 3},
    "lstm_peepholes": {"cell": "lstm", "hidden_size": 3, "peepholes": True},
    "gru_reset_after": {"cell": "gru", "hidden_size": 3},
    "gru_reset_before": {"cell": "gru", "hidden_size": 3, "variant": "reset_before"},
    "indrnn_relu": {"cell": "indrnn", "hidden_size": 3},
    "indrnn_tanh_no_bias": {"cell": "indrnn", "hidden_size": 3, "activation": "tanh",
                            "bias": False},
}
TOPOLOGIES = {
    "fixed": ({}, {}),
    "bidirectional_right": ({"bidirectional": True, "merge_mode": "concat"},
                            {"variable_length": True}),
    "bidirectional_left_mul": ({"bidirectional": True, "merge_mode": "mul"},
                               {"variable_length": True, "padding": "left"}),
    "bidirectional_right_ave": ({"bidirectional": True, "merge_mode": "ave"},
                                {"variable_length": True}),
}


def spec_for(cell, topology="fixed", size=2):
    layer_extra, input_extra = TOPOLOGIES[topology]
    return {
        "scheme": "many_to_many",
        "input": {"kind": "features", "size": size, **input_extra},
        "layers": [{**CELLS[cell], **layer_extra}],
        "head": {"kind": "regression", "outputs": 2},
    }


@pytest.mark.parametrize("topology", list(TOPOLOGIES))
@pytest.mark.parametrize("cell", list(CELLS))
def test_matches_the_step_by_step_reference(cell, topology, spec_model, oracle):
    spec = spec_for(cell, topology)
    model_ir, module = spec_model(spec)
    w = weights.random_weights(model_ir, 5, scale=2.0)
    inputs = testing.make_inputs(model_ir, batch=4, steps=6, seed=5)
    out, states = module.Model(w, dtype="float64").forward(**inputs)
    expected, expected_states = oracle.forward(model_ir, w, inputs)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    assert set(states) == set(expected_states)
    for key, value in expected_states.items():
        np.testing.assert_allclose(states[key], value, rtol=0, atol=1e-12, err_msg=key)


def pattern_weights(model_ir):
    """Fixed weights, different in every entry (so a swapped gate or a transpose shows)."""
    out = {}
    for j, p in enumerate(model_ir.params):
        n = np.arange(p.size)
        out[p.name] = (0.2 * (((7 * j + 3 * n) % 11) - 5.0)).reshape(p.shape)
    return out


X = np.array([[[0.5, -1.0], [1.0, 0.25], [-0.75, 0.5]]])  # (1, 3, 2)
# outputs[0, 2] of each cell under pattern_weights and X, computed once with the reference
# (then a loop in this file, now tests/oracle.py) and kept here: a change of these numbers is a
# change of what the spec means.
PINNED = {
    "elman_tanh": [-0.34689133005152023, 0.1603813378848472],
    "elman_relu": [0.18800000000000003, 0.12239999999999995],
    "elman_sigmoid_no_bias": [1.365433797388011, -1.0219950116024914],
    "jordan": [0.751650745220005, -0.858201375395273],
    "jordan_linear_out": [0.6001280000000001, -0.787328],
    "lstm": [-0.4058153300170116, 0.16452363610444606],
    "lstm_peepholes": [-0.6435135684444052, 0.13675811387395875],
    "gru_reset_after": [-0.635902914695978, 0.24525079362609625],
    "gru_reset_before": [-0.8592292219560058, 0.12823285246404603],
    # from the step-by-step equations of the old reference loop (branch i15-indrnn)
    "indrnn_relu": [-0.2800000000000001, -0.6799999999999999],
    "indrnn_tanh_no_bias": [1.484340652190418, -0.5046878641247424],
}


@pytest.mark.parametrize("cell", list(CELLS))
def test_pinned_numbers(cell, spec_model, oracle):
    spec = spec_for(cell)
    model_ir, module = spec_model(spec)
    w = pattern_weights(model_ir)
    out, _ = module.Model(w, dtype="float64").forward(x=X)
    expected, _ = oracle.forward(model_ir, w, {"x": X})
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[0, 2], PINNED[cell], rtol=0, atol=1e-12)
