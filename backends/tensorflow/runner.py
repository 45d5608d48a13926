"""Run a compiled TensorFlow model: the runner contract of docs/generated-api.md.

Imports the generated ``model.py`` from a folder, loads canonical weights, and runs one
compiled pass that gives the outputs (inference mode), the final states and the gradients of
``loss = sum(outputs * d_outputs)`` in the canonical layout (``tf.GradientTape`` inside a
``tf.function``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from seqspec.generated import import_model


def load_module(model_dir: str | os.PathLike[str]) -> ModuleType:
    """Import ``model_dir/model.py`` under a name of its own (several models can coexist).

    The name follows the folder, so importing the same model again replaces it (its Keras
    classes register under the same names).
    """
    path = Path(model_dir).resolve()
    digest = hashlib.sha256(str(path / "model.py").encode()).hexdigest()[:12]
    return import_model(path, module_name=f"seqspec_tf_model_{digest}")


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
