"""One input check for every backend: the same one-line ValueError, or the same result.

Each row of the table is run against the NumPy, PyTorch and Keras models of the same spec
and weights: a bad input must raise the identical message everywhere (one line), a good one
(NaN padding, a partial initial state) must give the NumPy reference's outputs.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from seqspec import testing, weights

BACKENDS = ["numpy", "torch", "tensorflow"]

#: A features classifier with dropout and variable lengths, like the issue's activity classifier.
CLASSIFIER = """seqspec: 1
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
"""

#: A token tagger (many_to_many: forward takes initial_state in every backend).
TAGGER = """seqspec: 1
name: tagger
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 6, encoding: embedding, embedding_dim: 3, variable_length: true}
  layers:
    - {cell: lstm, hidden_size: 4}
    - {cell: jordan, hidden_size: 4, output_size: 2, context_decay: 0.5}
  head: {kind: softmax, classes: 6}
"""


@pytest.fixture(scope="module")
def models(compile_text):
    """models(name) -> (ir, {backend: Model}) with the same random float64 weights."""
    cache = {}

    def get(name):
        if name not in cache:
            text = {"activity": CLASSIFIER, "tagger": TAGGER}[name]
            built = {}
            for backend in BACKENDS:
                if backend != "numpy":
                    pytest.importorskip(backend)
                model_ir, folder = compile_text(name, text, backend)
                module = importlib.import_module(f"seqspec.backends.{backend}.runner")
                loaded = module.load_module(folder)
                w = weights.random_weights(model_ir, 0, scale=2.0)
                extra = {"device": "cpu"} if backend == "torch" else {}
                built[backend] = loaded.Model(w, dtype="float64", **extra)
            cache[name] = (model_ir, built)
        return cache[name]

    return get


def run(backend, model, inputs):
    """("ok", outputs as NumPy) or ("error", the message) for one forward pass."""
    try:
        if backend == "numpy":
            return "ok", model.forward(**inputs)[0]
        if backend == "torch":
            model.eval()
            return "ok", model(**inputs)[0].detach().numpy()
        return "ok", model.forward(**inputs)[0].numpy()
    except ValueError as error:
        return "error", str(error)


def batch(model_ir):
    inputs = testing.make_inputs(model_ir, batch=3, steps=5)
    inputs["lengths"] = np.array([5, 3, 1])
    return inputs


def padded_with(inputs, value):
    x = inputs["x"].astype(float).copy()
    for b, n in enumerate(inputs["lengths"]):
        x[b, n:] = value
    return {**inputs, "x": x}


def state(inputs, key, size):
    """The batch with one initial state given: key -> ones (B, size)."""
    return {**inputs, "initial_state": {key: np.ones((len(inputs["x"]), size))}}


#: (spec, a change to the good batch, the message every backend gives; None: runs, and
#: equals the NumPy reference's outputs on the batch with zeros at the padding)
TABLE = {
    "width": ("activity", lambda i: {**i, "x": i["x"][:, :, :2]},
              "x must be (B, T, 3) floats, got shape (3, 5, 2)"),
    "rank": ("activity", lambda i: {**i, "x": i["x"][0]},
             "x must be (B, T, 3) floats, got shape (5, 3)"),
    "dtype": ("activity", lambda i: {**i, "x": i["x"] > 0},
              "x must be (B, T, 3) floats, got booleans"),
    "length 0": ("activity", lambda i: {**i, "lengths": np.array([5, 0, 1])},
                 "lengths must be in 1..5 (the steps of x), got 0"),
    "length -1": ("activity", lambda i: {**i, "lengths": np.array([5, -1, 1])},
                  "lengths must be in 1..5 (the steps of x), got -1"),
    "length T+1": ("activity", lambda i: {**i, "lengths": np.array([6, 3, 1])},
                   "lengths must be in 1..5 (the steps of x), got 6"),
    "float lengths": ("activity", lambda i: {**i, "lengths": np.array([5.0, 3.0, 1.0])},
                      "lengths must be (B,) integers, got floats"),
    "missing lengths": ("activity", lambda i: {"x": i["x"]},
                        "lengths is required (the spec declares variable_length)"),
    "batch mismatch": ("activity", lambda i: {**i, "lengths": np.array([5, 3])},
                       "lengths has B = 2 but x has 3"),
    "nan padding": ("activity", lambda i: padded_with(i, np.nan), None),
    "inf padding": ("activity", lambda i: padded_with(i, np.inf), None),
    "token too big": ("tagger", lambda i: {**i, "x": np.where(i["x"] == i["x"][0, 0], 6, i["x"])},
                      "x must hold token ids in 0..5, got 6"),
    "negative token": ("tagger", lambda i: {**i, "x": -i["x"] - 1},
                       "x must hold token ids in 0..5, got -6"),
    "float tokens": ("tagger", lambda i: {**i, "x": i["x"].astype(float)},
                     "x must be (B, T) token ids, got floats"),
    "unknown state": ("tagger", lambda i: state(i, "encoder.layers.0.h", 4),
                      "initial_state has no state 'encoder.layers.0.h'; the states are "
                      "encoder.layers.0.forward.h, encoder.layers.0.forward.c, "
                      "encoder.layers.1.forward.y, encoder.layers.1.forward.s"),
    "misshapen state": ("tagger", lambda i: state(i, "encoder.layers.0.forward.c", 5),
                        "initial_state['encoder.layers.0.forward.c'] must be (3, 4) floats, "
                        "got shape (3, 5)"),
    "state not a dict": ("tagger", lambda i: {**i, "initial_state": [np.ones((3, 4))]},
                         "initial_state must be a dict {state key: (B, size) array} or None"),
    "only c": ("tagger", lambda i: state(i, "encoder.layers.0.forward.c", 4), None),
    "only h": ("tagger", lambda i: state(i, "encoder.layers.0.forward.h", 4), None),
    "only jordan s": ("tagger", lambda i: state(i, "encoder.layers.1.forward.s", 2), None),
}


@pytest.mark.parametrize("case", list(TABLE))
def test_every_backend_answers_a_bad_input_alike(models, case):
    name, change, message = TABLE[case]
    model_ir, built = models(name)
    good = batch(model_ir)
    inputs = change(good)
    results = {backend: run(backend, model, inputs) for backend, model in built.items()}
    if message is not None:
        assert results == {backend: ("error", message) for backend in built}, results
        return
    reference = run("numpy", built["numpy"], padded_with(inputs, 0.0) if name == "activity"
                    else inputs)
    assert reference[0] == "ok", reference
    for backend, (kind, outputs) in results.items():
        assert kind == "ok", (backend, outputs)
        np.testing.assert_allclose(outputs, reference[1], rtol=1e-9, atol=1e-12, err_msg=backend)
    if case.startswith("only"):  # a partial state is not ignored: it changes the outputs
        assert not np.allclose(reference[1], run("numpy", built["numpy"], good)[1])


def test_every_message_is_one_line():
    assert all(message is None or "\n" not in message for _, _, message in TABLE.values())
