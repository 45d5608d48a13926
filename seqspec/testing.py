"""Shared test fixtures: one way to draw inputs, so every backend is fed the same batch.

Used by the test suite and by ``seqspec check``. Padded positions are filled with random
garbage, not zeros, so any leak of padding into a valid result shows up as a mismatch.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from seqspec import ir


def _lengths(rng: np.random.Generator, batch: int, steps: int) -> np.ndarray:
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps  # one full row
    if batch > 1:
        lengths[-1] = max(1, steps // 2)  # and one row that is surely padded
    return lengths.astype(np.int64)


def _sequence(rng: np.random.Generator, inp: ir.SequenceInput, batch: int, steps: int,
              dtype: str) -> np.ndarray:
    if inp.kind == "tokens":
        return rng.integers(0, inp.vocab_size, size=(batch, steps)).astype(np.int64)
    return rng.uniform(-1.0, 1.0, size=(batch, steps, inp.step_size)).astype(dtype)


def make_inputs(model: ir.Model, batch: int = 3, steps: int = 7, seed: int = 0,
                dtype: str = "float64") -> dict[str, np.ndarray]:
    """Keyword arguments for ``Model.forward`` (see docs/generated-api.md)."""
    rng = np.random.default_rng(seed)
    if model.ar is not None:
        return {"windows": rng.uniform(-1.0, 1.0, size=(batch, model.ar.order)).astype(dtype)}
    out: dict[str, np.ndarray] = {}
    if model.scheme in ("many_to_many", "many_to_one", "seq2seq"):
        assert model.encoder is not None
        out["x"] = _sequence(rng, model.encoder.input, batch, steps, dtype)
        if model.encoder.input.variable_length:
            key = "x_lengths" if model.scheme == "seq2seq" else "lengths"
            out[key] = _lengths(rng, batch, steps)
    if model.scheme == "one_to_many":
        out["features"] = rng.uniform(-1.0, 1.0, size=(batch, model.vector_size)).astype(dtype)
    if model.decoder is not None:
        dec_steps = max(2, steps - 2)  # decoders run for another length than encoders
        y_in = _sequence(rng, model.decoder.input, batch, dec_steps, dtype)
        if model.decoder.input.kind == "tokens":
            y_in[:, 0] = model.start_token
        out["y_in"] = y_in
        if model.decoder.input.variable_length:
            key = "y_lengths" if model.scheme == "seq2seq" else "lengths"
            out[key] = _lengths(rng, batch, dec_steps)
    for key in ("lengths", "x_lengths", "y_lengths"):
        if key in out:
            _scribble_padding(rng, model, out, key)
    return out


def _scribble_padding(rng: np.random.Generator, model: ir.Model, out: dict[str, np.ndarray],
                      key: str) -> None:
    """Overwrite padded positions with garbage of the right kind."""
    seq_key = "y_in" if key == "y_lengths" or (key == "lengths" and model.decoder) else "x"
    stack = model.decoder if seq_key == "y_in" else model.encoder
    assert stack is not None
    seq, lengths = out[seq_key], out[key]
    steps = seq.shape[1]
    for b, n in enumerate(lengths):
        pad = slice(n, steps) if stack.input.padding == "right" else slice(0, steps - n)
        if stack.input.padding == "left":
            # valid steps are the last n: move the drawn values there
            seq[b, steps - n:] = seq[b, :n].copy()
        if stack.input.kind == "tokens":
            seq[b, pad] = rng.integers(0, stack.input.vocab_size, size=seq[b, pad].shape)
        else:
            seq[b, pad] = rng.uniform(-5.0, 5.0, size=seq[b, pad].shape)
    if seq_key == "y_in" and stack.input.kind == "tokens":
        # the first valid step of a decoder is the start token
        for b, n in enumerate(lengths):
            seq[b, 0 if stack.input.padding == "right" else steps - n] = model.start_token


def output_cotangent(outputs_shape: tuple[int, ...], seed: int = 1,
                     dtype: str = "float64") -> np.ndarray:
    """A fixed random projection G: the compared loss is sum(outputs * G)."""
    return np.random.default_rng(seed).normal(size=outputs_shape).astype(dtype)


def _top_level_names(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines (def, class, assignment targets)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    names: list[str] = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return [n for n in names if not (n.startswith("__") and n.endswith("__"))]


def _references(tree: ast.Module) -> list[tuple[int, str]]:
    """(index of the top-level statement it is in, name) for every name a module reads.

    A name counts when it is loaded (``x``), read as an attribute (``module.x``) or imported
    (``from module import x``); a module's own docstrings and comments never count.
    """
    found: list[tuple[int, str]] = []
    for index, statement in enumerate(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load | ast.Del):
                found.append((index, node.id))
            elif isinstance(node, ast.Attribute):
                found.append((index, node.attr))
            elif isinstance(node, ast.ImportFrom):
                found += [(index, alias.name) for alias in node.names]
    return found


def _definitions(folder: Path) -> tuple[list[tuple[str, str, int]], dict[str, list]]:
    """Every top-level definition (file, name, statement index) and each file's references."""
    definitions, references = [], {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        references[path.name] = _references(tree)
        for index, statement in enumerate(tree.body):
            definitions += [(path.name, name, index) for name in _top_level_names(statement)]
    return definitions, references


def _referenced(name: str, file: str, index: int, references: dict[str, list]) -> bool:
    """Whether any file reads ``name``, outside the statement that defines it."""
    return any(
        ref == name and (other != file or at != index)
        for other, refs in references.items() for at, ref in refs
    )


#: model.py's documented module-level API (docs/generated-api.md): whoever imports the model
#: reads these, so they count as used.
MODEL_API = frozenset({"SPEC_NAME", "SPEC_SHA256", "PARAMETERS", "init_weights", "check_weights",
                       "load_npz", "save_npz", "Model"})


def unreferenced_definitions(folder: str | os.PathLike[str]) -> list[str]:
    """``file:name`` of every top-level definition in a compiled folder that nothing reads.

    Every ``.py`` file of ``folder`` is parsed; a definition (def, class, assignment) counts as
    referenced when any file of the folder reads its name outside the definition itself, and
    model.py's documented API (MODEL_API) always does. The
    backend's runtime modules (``*_runtime.py``) are the same for every spec, so a model that
    leaves some of their definitions unused is fine: check them with
    :func:`unreferenced_runtime_definitions` over several compiled folders instead.
    """
    definitions, references = _definitions(Path(folder))
    return [
        f"{file}:{name}" for file, name, index in definitions
        if not file.endswith("_runtime.py")
        and not (file == "model.py" and name in MODEL_API)
        and not _referenced(name, file, index, references)
    ]


def unreferenced_runtime_definitions(folders: Iterable[str | os.PathLike[str]]) -> list[str]:
    """``file:name`` of every runtime definition that no file of any of ``folders`` reads.

    ``folders`` are compiled folders of one backend (every example, say); a runtime definition
    is referenced when a file of any of them, its runtime included, reads it.
    """
    unused: dict[str, set[str]] | None = None
    for folder in folders:
        definitions, references = _definitions(Path(folder))
        here = {
            f"{file}:{name}" for file, name, index in definitions
            if file.endswith("_runtime.py") and not _referenced(name, file, index, references)
        }
        unused = here if unused is None else unused & here
    return sorted(unused or ())
