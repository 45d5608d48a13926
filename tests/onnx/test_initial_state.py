"""ONNX initial states: every layer state is an optional graph input ``initial_state.<key>``.

Left out, a state starts at 0 (or, in a decoder, at the bridge's value), exactly as the
generated models treat a missing ``initial_state`` key; fed (all of them, or only some), the
outputs and final states equal the NumPy model's with the same ``initial_state``, in float32
within 1e-5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs
from seqspec.weights import random_weights

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from seqspec.onnx import export  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RECURRENT = [p for p in sorted((ROOT / "examples").glob("*.yaml"))
             if not p.stem.startswith("ar_")]
PREFIX = "initial_state."


def _state_sizes(model) -> dict[str, int]:
    return {f"{d.prefix}.{name}": size for stack in model.stacks for layer in stack.layers
            for d in layer.directions
            for name, size in zip(layer.state_names, layer.state_sizes, strict=True)}


@pytest.fixture(scope="module")
def exported():
    cache = {}

    def get(example):
        if example not in cache:
            model = seqspec.lower_file(example)
            weights = random_weights(model, 5)
            proto = export(model, weights)
            options = ort.SessionOptions()
            options.log_severity_level = 3  # no warning per overridable initializer
            session = ort.InferenceSession(proto.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
            cache[example] = (model, weights, proto, session)
        return cache[example]

    return get


def _run(session, inputs, states):
    feeds = {a.name: inputs[a.name] for a in session.get_inputs()}
    feeds.update({PREFIX + k: v.astype(np.float32) for k, v in states.items()})
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


@pytest.mark.parametrize("example", RECURRENT, ids=[p.stem for p in RECURRENT])
def test_every_state_is_an_optional_input(example, exported):
    model, _, proto, session = exported(example)
    sizes = _state_sizes(model)
    optional = {i.name for i in proto.graph.initializer if i.name.startswith(PREFIX)}
    declared = {i.name: i for i in proto.graph.input if i.name.startswith(PREFIX)}
    assert optional == set(declared) == {PREFIX + k for k in sizes}
    for key, size in sizes.items():
        dims = declared[PREFIX + key].type.tensor_type.shape.dim
        assert [d.dim_param or d.dim_value for d in dims] == ["batch", size]
    # onnxruntime lists them apart from the required inputs: a session runs without them
    assert {i.name for i in session.get_overridable_initializers()} == set(optional)
    assert not any(i.name.startswith(PREFIX) for i in session.get_inputs())


@pytest.mark.parametrize("which", ["none", "all", "some"])
@pytest.mark.parametrize("example", RECURRENT, ids=[p.stem for p in RECURRENT])
def test_initial_states_match_numpy(example, which, exported, compiled_dir):
    from seqspec.generated import import_model

    model, weights, _, session = exported(example)
    inputs = make_inputs(model, batch=3, steps=6, seed=4, dtype="float32")
    rng = np.random.default_rng(9)
    keys = sorted(_state_sizes(model).items())
    if which == "some":  # all but the first key: e.g. an LSTM's h without its c
        keys = keys[1:] if len(keys) > 1 else keys
    states = {} if which == "none" else {
        k: rng.uniform(-0.9, 0.9, size=(3, size)).astype(np.float32) for k, size in keys}
    got = _run(session, inputs, states)
    module = import_model(compiled_dir(example, "numpy"), prefix="_onnx_initial_state")
    reference = module.Model(weights, dtype="float32")
    outputs, finals = reference.forward(**inputs, training=False, initial_state=dict(states))
    np.testing.assert_allclose(got["outputs"], outputs, rtol=0, atol=1e-5)
    for key, value in finals.items():
        np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-5, err_msg=key)
    if states:  # the states fed made a difference (the test could fail)
        plain = _run(session, inputs, {})
        assert max(np.abs(plain[k] - got[k]).max() for k in got) > 1e-4
