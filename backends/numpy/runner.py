"""Run a compiled NumPy model: the reference side of every equivalence check.

The contract is in ``docs/generated-api.md``: import the generated ``model.py`` from a folder,
load canonical weights, run the forward pass in inference mode and the backward pass of
``loss = sum(outputs * d_outputs)``, and return plain NumPy dictionaries.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from seqspec.generated import import_model


def load_module(model_dir: str | os.PathLike[str]) -> ModuleType:
    """Import ``model_dir/model.py`` under a unique module name (a fresh module every call)."""
    return import_model(model_dir, prefix="_seqspec_numpy_model")


def load_runtime(model_dir: str | os.PathLike[str]) -> ModuleType:
    """The ``numpy_runtime`` module of a compiled folder, as its model.py imports it."""
    module = import_model(model_dir, prefix="_seqspec_numpy_model")
    sys.modules.pop(module.__name__, None)
    return sys.modules["numpy_runtime"]


def run(model_dir: str | os.PathLike[str], weights: Mapping[str, np.ndarray],
        inputs: Mapping[str, Any], d_outputs: np.ndarray | None = None,
        dtype: str = "float64") -> dict[str, dict[str, np.ndarray]]:
    """Forward (inference mode) and backward of ``sum(outputs * d_outputs)``.

    Returns ``{"outputs": {"outputs": ...}, "states": {...}, "grads": {...}}``; ``grads`` is
    empty when ``d_outputs`` is None.
    """
    module = load_module(model_dir)
    try:
        model = module.Model(dict(weights), dtype=dtype)
        outputs, states = model.forward(**inputs, training=False)
        grads = {} if d_outputs is None else model.backward(np.asarray(d_outputs))
    finally:
        sys.modules.pop(module.__name__, None)
    return {
        "outputs": {"outputs": np.asarray(outputs)},
        "states": {k: np.asarray(v) for k, v in states.items()},
        "grads": {k: np.asarray(v) for k, v in grads.items()},
    }
