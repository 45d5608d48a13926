"""Canonical weights: the one ``.npz`` format every generated model loads and saves.

Names and shapes come from the IR (see :mod:`seqspec.ir` and ``docs/weights.md``). Drawing is
seeded and walks the parameters in the IR's fixed order, so a seed gives the same weights on
every machine and in every backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from seqspec import ir


def _draw(param: ir.Param, rng: np.random.Generator) -> np.ndarray:
    shape = param.shape
    if param.init == "zeros":
        return np.zeros(shape)
    if param.init == "constant":
        return np.full(shape, param.value)
    if param.init == "uniform":
        limit = param.scale / np.sqrt(param.fan_in)
        return rng.uniform(-limit, limit, size=shape)
    if param.init == "positive_uniform":  # U(0, scale): IndRNN's recurrent weights
        return rng.uniform(0.0, param.scale, size=shape)
    if param.init == "glorot_uniform":
        limit = param.scale * np.sqrt(6.0 / (param.fan_in + param.fan_out))
        return rng.uniform(-limit, limit, size=shape)
    if param.init == "normal":
        return rng.normal(0.0, param.scale, size=shape)
    if param.init == "orthogonal":
        rows, cols = shape[0], int(np.prod(shape[1:])) if len(shape) > 1 else 1
        a = rng.normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # a uniform draw over orthogonal matrices (Mezzadri 2007)
        q = q if rows >= cols else q.T
        return param.scale * q.reshape(shape)
    raise ValueError(f"unknown initialiser {param.init!r} for {param.name}")


def init_weights(model: ir.Model, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw the model's weights with the initialisers its spec names (float64)."""
    rng = np.random.default_rng(seed)
    return {p.name: _draw(p, rng).astype(np.float64) for p in model.params}


def random_weights(model: ir.Model, seed: int = 0, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Weights for equivalence tests: every parameter non-zero, U(+-scale/sqrt(fan_in)).

    Unlike :func:`init_weights`, no parameter is left at zero or at a constant, so every
    bias, peephole and feedback path influences the result and a wrong conversion shows.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for p in model.params:
        fan = p.shape[-1] if len(p.shape) > 1 else max(p.fan_in, 1)
        limit = scale / np.sqrt(max(fan, 1))
        out[p.name] = rng.uniform(-limit, limit, size=p.shape)
    return out


def check_weights(model: ir.Model, weights: Mapping[str, np.ndarray]) -> None:
    """Raise ``ValueError`` naming every missing, unexpected or misshapen parameter."""
    expected = {p.name: p.shape for p in model.params}
    problems = [f"missing {k} {v}" for k, v in expected.items() if k not in weights]
    problems += [f"unexpected {k}" for k in weights if k not in expected]
    problems += [
        f"{k}: shape {tuple(np.shape(weights[k]))}, expected {v}"
        for k, v in expected.items()
        if k in weights and tuple(np.shape(weights[k])) != v
    ]
    if problems:
        raise ValueError("weights do not fit the model: " + "; ".join(problems))


def save_npz(path: str | os.PathLike[str], weights: Mapping[str, np.ndarray]) -> None:
    """Write weights atomically (write, then rename), keys sorted."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **{k: np.asarray(weights[k]) for k in sorted(weights)})
    os.replace(tmp, path)


def read_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, never unpickling anything.

    Raises ``ValueError`` for a file that is not an ``.npz`` (numpy would otherwise try to
    read it as a pickle and say so, which misleads) or holds object arrays.
    """
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path} is not an .npz file (a zip archive of .npy arrays)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_npz(path: str | os.PathLike[str], model: ir.Model | None = None) -> dict[str, np.ndarray]:
    """Read a canonical ``.npz`` (never with pickle); check it against ``model`` if given."""
    weights = read_arrays(path)
    if model is not None:
        check_weights(model, weights)
    return weights
