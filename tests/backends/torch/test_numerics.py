"""The torch backend against the NumPy reference, on every example.

Same canonical weights (``random_weights``: every parameter non-zero), same batch
(``make_inputs``: garbage in padded positions), same loss sum(outputs * G). Outputs, every
final state and the gradients w.r.t. every canonical parameter and every float input must
agree: float64 to 1e-9 absolute, float32 to 1e-5 absolute (gradients larger than 1 to 1e-5
of their largest entry: elman_lm's dL/dWx_h reaches 22, where float32 itself, NumPy's included,
rounds at 1e-5). Dropout is off (inference mode).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import random_weights

pytestmark = pytest.mark.torch  # needs PyTorch (each test skips without it)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
TOLERANCE = {"float64": 1e-9, "float32": 1e-5}


def _compare(got: dict, want: dict, atol: float, what: str, relative: bool = False) -> None:
    assert sorted(got) == sorted(want), f"{what} keys differ: {sorted(set(got) ^ set(want))}"
    for key in want:
        a, b = np.asarray(got[key], np.float64), np.asarray(want[key], np.float64)
        assert a.shape == b.shape, f"{what} {key}: shape {a.shape} != {b.shape}"
        if not a.size:
            continue
        limit = atol * max(1.0, float(np.max(np.abs(b)))) if relative else atol
        err = float(np.max(np.abs(a - b)))
        assert err <= limit, f"{what} {key}: max abs error {err:.3g} > {limit:g}"


@pytest.fixture(scope="module")
def reference(compiled_dir):
    """The NumPy backend's float64 run of an example (computed once per example)."""
    from seqspec.backends.numpy.runner import run

    @cache
    def get(example: Path):
        model = seqspec.lower_file(example)
        weights = random_weights(model, seed=0)
        inputs = make_inputs(model, batch=3, steps=7, seed=0)
        first = run(compiled_dir(example, "numpy"), weights, inputs, None, "float64")
        cotangent = output_cotangent(first["outputs"]["outputs"].shape)
        return weights, inputs, cotangent, run(compiled_dir(example, "numpy"), weights, inputs,
                                               cotangent, "float64")

    return get


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_matches_numpy(example: Path, dtype: str, torch, compiled_dir, reference) -> None:
    from seqspec.backends.torch.runner import run

    weights, inputs, cotangent, want = reference(example)
    inputs = {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in inputs.items()}
    got = run(compiled_dir(example, "torch"), weights, inputs, cotangent, dtype)
    atol = TOLERANCE[dtype]
    _compare(got["outputs"], want["outputs"], atol, "outputs")
    _compare(got["states"], want["states"], atol, "final states")
    _compare(got["grads"], want["grads"], atol, "gradients", relative=dtype == "float32")
    float_inputs = {k for k, v in inputs.items() if v.dtype.kind == "f"}
    assert float_inputs <= set(got["grads"])  # the inputs' gradients are there too


def test_padded_outputs_are_exactly_zero(torch, compiled_dir) -> None:
    """Head outputs at padded steps are 0, not merely small; valid ones are not."""
    from seqspec.backends.torch.runner import run

    for name, key in (("char_lstm", "lengths"), ("bidirectional_gru_tagger", "lengths")):
        example = ROOT / "examples" / f"{name}.yaml"
        model = seqspec.lower_file(example)
        inputs = make_inputs(model, batch=4, steps=6, seed=3)
        out = run(compiled_dir(example, "torch"), random_weights(model, 1), inputs)
        y = out["outputs"]["outputs"]
        for b, n in enumerate(inputs[key]):
            assert np.all(y[b, n:] == 0.0) and np.all(y[b, :n] != 0.0), name


#: Specs beyond the examples: explicit cells in an encoder-decoder (copy bridge, both sides
#: variable length, left padding), a regression decoder fed its own outputs, a bidirectional
#: token language model (generation re-reads the whole sequence).
EXTRA_SPECS = {
    "seq2seq_explicit": """
seqspec: 1
name: seq2seq_explicit
model:
  scheme: seq2seq
  encoder:
    input: {kind: tokens, vocab_size: 7, encoding: one_hot, variable_length: true,
            padding: left}
    layers:
      - {cell: jordan, hidden_size: 5, output_size: 3, context_decay: 0.4}
      - {cell: lstm, hidden_size: 4, peepholes: true}
  bridge: {kind: copy}
  decoder:
    input: {kind: tokens, vocab_size: 6, encoding: embedding, embedding_dim: 3,
            variable_length: true}
    layers:
      - {cell: jordan, hidden_size: 4, output_size: 3, output_activation: tanh}
      - {cell: lstm, hidden_size: 4, peepholes: true}
  head: {kind: softmax, classes: 6}
  max_length: 5
""",
    "series_decoder": """
seqspec: 1
name: series_decoder
model:
  scheme: one_to_many
  input: {kind: vector, size: 3}
  bridge: {kind: dense, activation: relu}
  decoder:
    input: {kind: features, size: 2, variable_length: true, padding: left}
    layers:
      - {cell: gru, hidden_size: 4, variant: reset_before}
      - {cell: elman, hidden_size: 3, activation: sigmoid}
  head: {kind: regression, outputs: 2}
  max_length: 4
""",
    "bidirectional_lm": """
seqspec: 1
name: bidirectional_lm
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 9, encoding: embedding, embedding_dim: 4}
  layers:
    - {cell: gru, hidden_size: 5, bidirectional: true, merge_mode: sum}
    - {cell: lstm, hidden_size: 4}
  head: {kind: softmax, classes: 9}
""",
}


@pytest.mark.parametrize("name", sorted(EXTRA_SPECS))
def test_more_topologies_match_numpy(name: str, torch, tmp_path: Path) -> None:
    from seqspec.backends.numpy.runner import load_module as load_numpy
    from seqspec.backends.numpy.runner import run as run_numpy
    from seqspec.backends.torch.runner import load_module as load_torch
    from seqspec.backends.torch.runner import run as run_torch

    spec = tmp_path / f"{name}.yaml"
    spec.write_text(EXTRA_SPECS[name], encoding="utf-8")
    model = seqspec.lower_file(spec)
    for backend in ("numpy", "torch"):
        seqspec.compile_spec(spec, backend, tmp_path / backend)
    weights = random_weights(model, seed=3, scale=2.0)
    inputs = make_inputs(model, batch=4, steps=6, seed=4)
    first = run_numpy(tmp_path / "numpy", weights, inputs)
    cotangent = output_cotangent(first["outputs"]["outputs"].shape)
    want = run_numpy(tmp_path / "numpy", weights, inputs, cotangent, "float64")
    got = run_torch(tmp_path / "torch", weights, inputs, cotangent, "float64")
    for part in ("outputs", "states", "grads"):
        _compare(got[part], want[part], 1e-9, part)
    if model.can_generate:  # greedy decoding: the same tokens (or values)
        args = {"x": inputs["x"]} if model.scheme == "seq2seq" else (
            {"features": inputs["features"]} if model.scheme == "one_to_many"
            else {"prefix": inputs["x"]})
        if model.scheme == "seq2seq":
            args["x_lengths"] = inputs["x_lengths"]
        kwargs = {"steps": 4} if model.scheme == "many_to_many" else {}
        ours = load_torch(tmp_path / "torch").Model(weights, "float64", "cpu").generate(
            **args, **kwargs)
        ref = load_numpy(tmp_path / "numpy").Model(weights, dtype="float64").generate(
            **args, **kwargs)
        np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-12)
