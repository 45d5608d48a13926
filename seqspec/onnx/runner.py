"""onnxruntime as a backend of ``seqspec check``: forward only, float32.

Follows the runner contract of docs/generated-api.md. ``model_dir`` holds ``spec.yaml`` (written
by ``seqspec check``); the model is exported there with the given canonical weights as
``model.onnx`` and run by onnxruntime on the CPU. Gradients are not computed (``grads`` is
empty): onnxruntime is an inference engine, and its recurrent kernels are float32 only, so the
graph is float32 whatever ``dtype`` asks for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from seqspec.api import lower_file
from seqspec.onnx import export

SPEC_FILE = "spec.yaml"
MODEL_FILE = "model.onnx"


def run(model_dir: str | os.PathLike[str], weights: Mapping[str, np.ndarray],
        inputs: Mapping[str, np.ndarray], d_outputs: np.ndarray | None = None,
        dtype: str = "float32") -> dict[str, dict[str, Any]]:
    """Export, run the forward pass, return ``{"outputs", "states", "grads": {}}``."""
    import onnxruntime as ort

    folder = Path(model_dir)
    proto = export(lower_file(folder / SPEC_FILE), weights)
    data = proto.SerializeToString()
    (folder / MODEL_FILE).write_bytes(data)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    feeds = {}
    for arg in session.get_inputs():
        value = np.asarray(inputs[arg.name])
        feeds[arg.name] = value.astype(np.int64 if "int" in arg.type else np.float32)
    names = [out.name for out in session.get_outputs()]
    values = dict(zip(names, session.run(names, feeds), strict=True))
    outputs = {"outputs": values.pop("outputs")}
    return {"outputs": outputs, "states": values, "grads": {}}
