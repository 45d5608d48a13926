"""Corners the examples leave out: bias-free GRU / LSTM / Jordan, left padding under
bidirectional layers, a regression decoder that feeds its values back, a copy bridge over
two LSTM layers, AR without a constant, a bidirectional language model. Each is compared with
the float64 oracle and, where it is there, the NumPy backend (outputs, states, gradients,
generation).
"""

from __future__ import annotations

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import random_weights

SPECS = {
    "a_bi_mixed": """\
seqspec: 1
name: a_bi_mixed
model:
  scheme: many_to_one
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: gru, hidden_size: 5, variant: reset_before, bias: false,
       bidirectional: true, merge_mode: sum}
    - {cell: jordan, hidden_size: 4, output_size: 3, bias: false, context_decay: 0.3,
       bidirectional: true, merge_mode: mul}
  pooling: last
  head: {kind: regression, outputs: 2, bias: false}
""",
    "b_values_decoder": """\
seqspec: 1
name: b_values_decoder
model:
  scheme: one_to_many
  input: {kind: vector, size: 4}
  bridge: {kind: dense, activation: linear}
  decoder:
    input: {kind: features, size: 2, variable_length: true, padding: left}
    layers:
      - {cell: jordan, hidden_size: 5, output_size: 3, output_activation: linear}
      - {cell: lstm, hidden_size: 4, peepholes: true, bias: false}
  head: {kind: regression, outputs: 2}
  max_length: 3
""",
    "c_copy": """\
seqspec: 1
name: c_copy
model:
  scheme: seq2seq
  encoder:
    input: {kind: tokens, vocab_size: 9, encoding: one_hot, variable_length: true, padding: left}
    layers:
      - {cell: lstm, hidden_size: 6}
      - {cell: lstm, hidden_size: 6, bias: false}
  bridge: {kind: copy}
  decoder:
    input: {kind: tokens, vocab_size: 7, encoding: embedding, embedding_dim: 3,
            variable_length: true}
    layers:
      - {cell: lstm, hidden_size: 6}
      - {cell: lstm, hidden_size: 6, bias: false}
  head: {kind: softmax, classes: 7}
  max_length: 4
  start_token: 0
""",
    "d_ar": """\
seqspec: 1
name: d_ar
model: {scheme: ar_linear, order: 3, bias: false}
""",
    "e_bi_lm": """\
seqspec: 1
name: e_bi_lm
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 11, encoding: embedding, embedding_dim: 4}
  layers:
    - {cell: elman, hidden_size: 5, activation: relu, bidirectional: true, merge_mode: ave}
  head: {kind: softmax, classes: 11}
""",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """compiled(name, backend) -> the folder of SPECS[name] compiled for backend."""
    root = tmp_path_factory.mktemp("tf-corners")
    for name, text in SPECS.items():
        (root / f"{name}.yaml").write_text(text)

    def get(name: str, backend: str):
        out = root / name / backend
        if not out.exists():
            seqspec.compile_spec(root / f"{name}.yaml", backend, out)
        return out

    get.spec = lambda name: root / f"{name}.yaml"
    return get


def _output_shape(model, inputs):
    if model.ar is not None:
        return (len(inputs["windows"]), 1)
    if model.scheme == "many_to_one":
        return (len(inputs["x"]), model.head.out_size)
    seq = inputs["x"] if model.scheme == "many_to_many" else inputs["y_in"]
    return (*seq.shape[:2], model.head.out_size)


@pytest.mark.parametrize("name", list(SPECS))
def test_corner(name, tf, compiled, reference) -> None:
    from seqspec.backends.tensorflow import runner

    model = seqspec.lower_file(compiled.spec(name))
    w, inputs = random_weights(model, seed=1), make_inputs(model, seed=2)
    d_outputs = output_cotangent(_output_shape(model, inputs))
    got = runner.run(compiled(name, "tensorflow"), w, inputs, d_outputs, "float64")
    want, want_states = reference.forward(model, w, inputs)
    np.testing.assert_allclose(got["outputs"]["outputs"], want, rtol=0, atol=1e-12)
    assert set(got["states"]) == set(want_states)
    for key, value in want_states.items():
        np.testing.assert_allclose(got["states"][key], value, rtol=0, atol=1e-12, err_msg=key)
    try:
        from seqspec.backends.numpy import runner as numpy_runner
    except ImportError:
        return
    exact = numpy_runner.run(compiled(name, "numpy"), w, inputs, d_outputs, "float64")
    assert set(got["grads"]) == set(exact["grads"])
    for key, value in exact["grads"].items():
        np.testing.assert_allclose(got["grads"][key], value, rtol=0, atol=1e-9, err_msg=key)
    if not model.can_generate:
        return
    ours = runner.load_module(compiled(name, "tensorflow")).Model(w, dtype="float64")
    theirs = numpy_runner.load_module(compiled(name, "numpy")).Model(w, dtype="float64")
    if model.scheme == "many_to_many":
        args = {"prefix": inputs["x"][:, :3], "steps": 4}
    else:
        args = {k: v for k, v in inputs.items() if k in ("x", "x_lengths", "features")}
    tokens = model.decoder is None or model.decoder.input.kind == "tokens"
    for options in ({}, {"strategy": "top_k", "seed": 2}) if tokens else ({},):
        np.testing.assert_allclose(ours.generate(**args, **options),
                                   theirs.generate(**args, **options), rtol=0, atol=1e-12)
