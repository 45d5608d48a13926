"""Every deployment artifact of every example loads back and matches the generated model.

An artifact is made once per (example, format) by ``seqspec.deploy`` / ``seqspec.onnx`` with
random canonical weights, reloaded as an application would (``torch.jit.load``,
``torch.export.load``, ``tf.saved_model.load``, an onnxruntime session) and run on inputs of
two batch sizes and two lengths other than those it was recorded with (padding filled with
garbage where the spec has variable lengths); outputs (and, for the torch formats and ONNX,
every final state) equal the generated model's in float32 within 1e-5. That includes the
TorchScript files of models with explicit cells, whose time loop the trace keeps as a
scripted loop.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqspec.api import lower_file
from seqspec.weights import init_weights

pytestmark = pytest.mark.slow  # 15 examples x 4 formats: minutes on a CPU

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_IDS = [p.stem for p in EXAMPLES]

TOLERANCE = 1e-5
SHAPES = ((2, 4), (5, 9))  # (batch, steps): not the (3, 6) that tracing and torch.export record


def inputs_for(model, batch: int, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs of ``steps`` steps, decoders too, padding filled with garbage."""
    from seqspec.deploy import example_inputs

    return example_inputs(model, steps, batch=batch, seed=seed)


def weights_for(model) -> dict[str, np.ndarray]:
    """The spec's initialisers (seed 3) moved a little, so that zero biases are not zero."""
    rng = np.random.default_rng(7)
    return {k: v + rng.normal(0.0, 0.05, size=v.shape) for k, v in init_weights(model, 3).items()}


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """artifact(example, fmt) -> (path, weights): made once per module."""
    from seqspec.deploy import export_artifact
    from seqspec.onnx import export_file

    cache: dict = {}

    def make(example, fmt):
        key = (str(example), fmt)
        if key not in cache:
            model = lower_file(example)
            folder = tmp_path_factory.mktemp(f"{example.stem}-{fmt}")
            weights = folder / "weights.npz"
            np.savez(weights, **weights_for(model))
            out = folder / {"onnx": "model.onnx", "torchscript": "model.pt",
                            "torch-export": "model.pt2", "savedmodel": "saved"}[fmt]
            if fmt == "onnx":
                export_file(example, out, weights)
            else:
                export_artifact(example, fmt, out, weights)
            cache[key] = (out, weights_for(model))
        return cache[key]

    return make


def _close(name, got, expected):
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, name
    assert np.abs(got - expected).max() <= TOLERANCE, (name, np.abs(got - expected).max())


@pytest.fixture(scope="module")
def torch_model(compiled_dir):
    pytest.importorskip("torch")
    from seqspec.generated import import_model

    def load(example, weights):
        module = import_model(compiled_dir(example, "torch"), prefix="_export_reference")
        return module.Model(weights, dtype="float32", device="cpu").eval()

    return load


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
@pytest.mark.parametrize("fmt", ["torchscript", "torch-export"])
def test_torch_artifact_matches(example, fmt, artifact, torch_model):
    import torch

    model = lower_file(example)
    path, weights = artifact(example, fmt)
    reference = torch_model(example, weights)
    if fmt == "torchscript":
        extra = {"seqspec.json": ""}
        loaded = torch.jit.load(str(path), _extra_files=extra)
        assert json.loads(extra["seqspec.json"])["inputs"] == list(_names(model))
    else:
        loaded = torch.export.load(str(path)).module()
    for seed, (batch, length) in enumerate(SHAPES):
        inputs = inputs_for(model, batch, length, seed)
        tensors = [torch.from_numpy(np.ascontiguousarray(v)) for v in inputs.values()]
        got = loaded(*tensors)  # as an application calls it: gradient mode on
        with torch.no_grad():
            outputs, states = reference(**inputs)
        assert set(got) == {"outputs", *states}
        _close("outputs", got["outputs"].numpy(), outputs.numpy())
        for key, value in states.items():
            _close(key, got[key].numpy(), value.numpy())


def _names(model):
    from seqspec.deploy import input_names

    return input_names(model)


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_savedmodel_matches(example, artifact, compiled_dir):
    tf = pytest.importorskip("tensorflow")
    from seqspec.generated import import_model

    model = lower_file(example)
    path, weights = artifact(example, "savedmodel")
    module = import_model(compiled_dir(example, "tensorflow"), prefix="_export_reference")
    reference = module.Model(weights, dtype="float32")
    loaded = tf.saved_model.load(str(path))
    for seed, (batch, length) in enumerate(SHAPES):
        inputs = inputs_for(model, batch, length, seed)
        got = loaded.serve({k: tf.constant(v) for k, v in inputs.items()})
        outputs, _ = reference.forward(**inputs)
        _close("outputs", got.numpy(), outputs.numpy())


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_onnx_matches_numpy(example, artifact, compiled_dir):
    ort = pytest.importorskip("onnxruntime")
    from seqspec.generated import import_model

    model = lower_file(example)
    path, weights = artifact(example, "onnx")
    module = import_model(compiled_dir(example, "numpy"), prefix="_export_reference")
    reference = module.Model(weights, dtype="float32")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    for seed, (batch, length) in enumerate(SHAPES):
        inputs = inputs_for(model, batch, length, seed)
        feeds = {a.name: inputs[a.name] for a in session.get_inputs() if a.name in inputs}
        got = dict(zip(names, session.run(names, feeds), strict=True))
        outputs, states = reference.forward(**inputs, training=False)
        _close("outputs", got["outputs"], outputs)
        for key, value in states.items():
            _close(key, got[key], value)
