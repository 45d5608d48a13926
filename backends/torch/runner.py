"""Run a compiled PyTorch model: the torch side of every equivalence check.

The contract is in ``docs/generated-api.md``: import the generated ``model.py`` from a folder,
load canonical weights, run the forward pass in inference mode (``model.eval()``) and the
backward pass of ``loss = sum(outputs * d_outputs)``, and return plain NumPy dictionaries.
Float inputs are leaf tensors with ``requires_grad`` so their gradients come back too.
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
    return import_model(model_dir, prefix="_seqspec_torch_model")


def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def run(model_dir: str | os.PathLike[str], weights: Mapping[str, np.ndarray],
        inputs: Mapping[str, Any], d_outputs: np.ndarray | None = None,
        dtype: str = "float64", device: str | None = "cpu") -> dict[str, dict[str, np.ndarray]]:
    """Forward (``model.eval()``) and backward of ``sum(outputs * d_outputs)``.

    Returns ``{"outputs": {"outputs": ...}, "states": {...}, "grads": {...}}`` with arrays in
    ``dtype``; ``grads`` holds every canonical parameter and every float input, and is empty
    when ``d_outputs`` is None. ``device`` defaults to the CPU (a GPU runs float32 RNNs in
    TF32 unless told otherwise); None lets the model choose (CUDA when available).
    """
    import torch

    module = load_module(model_dir)
    try:
        model = module.Model(dict(weights), dtype=dtype, device=device)
        model.eval()
        model.zero_grad(set_to_none=True)
        tensors: dict[str, Any] = {}
        for key, value in inputs.items():
            array = np.asarray(value)
            if np.issubdtype(array.dtype, np.floating):
                tensors[key] = torch.tensor(array, dtype=model.dtype, device=model.device,
                                            requires_grad=d_outputs is not None)
            else:
                tensors[key] = torch.as_tensor(array, device=model.device)
        with torch.set_grad_enabled(d_outputs is not None):
            outputs, states = model(**tensors)
        grads: dict[str, np.ndarray] = {}
        if d_outputs is not None:
            cotangent = torch.as_tensor(np.asarray(d_outputs), device=outputs.device)
            (outputs * cotangent.to(outputs.dtype)).sum().backward()
            floats = {k: v for k, v in tensors.items() if v.is_floating_point()}
            grads = {k: v.astype(dtype) for k, v in model.canonical_gradients(floats).items()}
    finally:
        sys.modules.pop(module.__name__, None)
    return {
        "outputs": {"outputs": _numpy(outputs).astype(dtype)},
        "states": {k: _numpy(v).astype(dtype) for k, v in states.items()},
        "grads": grads,
    }
