"""Run a compiled TensorFlow model: the runner contract of docs/generated-api.md.

Imports the generated ``model.py`` from a folder, loads canonical weights, and runs one
compiled pass that gives the outputs (inference mode), the final states and the gradients of
``loss = sum(outputs * d_outputs)`` in the canonical layout (``tf.GradientTape`` inside a
``tf.function``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np


def load_module(model_dir: str | os.PathLike[str]) -> ModuleType:
    """Import ``model_dir/model.py`` under a name of its own (several models can coexist)."""
    path = Path(model_dir).resolve() / "model.py"
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"seqspec_tf_model_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def run(model_dir: str | os.PathLike[str], weights: Mapping[str, np.ndarray],
        inputs: Mapping[str, Any], d_outputs: np.ndarray | None = None,
        dtype: str = "float64") -> dict[str, dict[str, np.ndarray]]:
    """Forward (inference mode) and backward pass of the model in ``model_dir``.

    Returns ``{"outputs": {"outputs": ...}, "states": {...}, "grads": {...}}`` as NumPy arrays;
    ``grads`` holds every canonical parameter and every float input (empty when ``d_outputs``
    is None: then only the compiled forward pass runs).
    """
    module = load_module(model_dir)
    model = module.Model(weights=dict(weights), dtype=dtype)
    if d_outputs is None:
        outputs, states = model.forward(**inputs)
        grads: dict[str, np.ndarray] = {}
    else:
        outputs, states, grads = model.forward_backward(dict(inputs), d_outputs, training=False)
    return {
        "outputs": {"outputs": np.asarray(outputs)},
        "states": {key: np.asarray(value) for key, value in states.items()},
        "grads": {key: np.asarray(value) for key, value in grads.items()},
    }
