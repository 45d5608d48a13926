"""What every importer shares: the imported model, the spec writer, the self-check, the files.

An importer (one module per source: :mod:`~seqspec.importers.onnx`, :mod:`.keras`,
:mod:`.torch`) reads its source into an :class:`Imported`: the spec's ``model`` section, the
canonical weights (docs/weights.md) and a function that runs the *source* on the spec's
inputs. :func:`write` then checks itself before it writes anything: it compiles the spec with
the NumPy backend, runs both on random inputs with variable lengths, and refuses when the
largest difference exceeds the tolerance of the source's precision.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Largest difference the self-check accepts, by the precision the source runs in.
TOLERANCE = {"float32": 1e-5, "float64": 1e-9}
#: A source file larger than this is refused before it is read (a recurrent model this size
#: does not fit the canonical float64 weights in memory anyway).
MAX_SOURCE_BYTES = 4 * 2**30

Inputs = Mapping[str, np.ndarray]


class SourceError(ValueError):
    """A source that cannot be imported; the message names the node or layer and why."""


@dataclass
class Imported:
    """A source model read into seqspec's terms, ready to be checked and written.

    ``model`` is the spec's ``model`` section (plain values, keys in the order they are
    written); ``sources`` names, per layer, what in the source it came from (written as a
    comment); ``notes`` are header comments (defaults chosen, what was ignored and why).
    ``run_source(inputs)`` runs the source on the spec's forward inputs (batch first, see
    docs/generated-api.md) and returns the outputs in the spec's layout; when
    ``softmax_output`` is set, the source applies a softmax that the spec's head leaves to
    the loss, so the check compares ``softmax(logits)`` with the source.
    """

    name: str
    model: dict[str, Any]
    weights: dict[str, np.ndarray]
    run_source: Callable[[Inputs], np.ndarray]
    source: str
    dtype: str = "float32"
    sources: list[str] = field(default_factory=list)
    head_source: str = ""
    notes: list[str] = field(default_factory=list)
    softmax_output: bool = False
    pad_token: int | None = None  # Keras mask_zero: padded steps hold this token
    pad_value: float | None = None  # Keras Masking: padded steps hold this value
    fixed_batch: int | None = None  # the source takes only batches of this size
    fixed_steps: int | None = None  # ... or sequences of this length


@dataclass(frozen=True)
class Report:
    """What :func:`write` did: the files and the self-check's largest difference."""

    spec_path: Path
    weights_path: Path
    max_difference: float
    tolerance: float
    dtype: str
    notes: tuple[str, ...]


def identifier(text: str, fallback: str = "imported") -> str:
    """``text`` as a spec name: letters, digits and underscores, not starting with a digit."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")[:64]
    if not name:
        return fallback
    return name if not name[0].isdigit() else f"m_{name}"[:64]


def check_source_file(path: str | os.PathLike[str], suffixes: tuple[str, ...] = ()) -> Path:
    """The source as a readable regular file of a sane size, or a :class:`SourceError`."""
    p = Path(path)
    if not p.exists():
        raise SourceError("no such file")
    if not p.is_file():
        raise SourceError("not a regular file")
    if suffixes and p.suffix.lower() not in suffixes:
        raise SourceError(f"expected a {' or '.join(suffixes)} file")
    if p.stat().st_size > MAX_SOURCE_BYTES:
        raise SourceError(f"the file is larger than {MAX_SOURCE_BYTES:,} bytes")
    return p


# ---------------------------------------------------------------------------- the spec text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and value not in (
        "true", "false", "null", "yes", "no", "on", "off", "y", "n"
    ):
        return value
    return json.dumps(str(value))  # a JSON string is a YAML string


def _flow(mapping: Mapping[str, Any]) -> str:
    parts = []
    for key, value in mapping.items():
        text = _flow(value) if isinstance(value, Mapping) else _scalar(value)
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def printable(text: str) -> str:
    """``text`` on one line, without control characters (source names are untrusted)."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(text).split()))


def spec_text(imp: Imported) -> str:
    """The spec as commented YAML, in the style of ``examples/``."""
    lines = [
        f"# Imported by `seqspec import` from {printable(imp.source)}.",
    ]
    lines += [f"# {printable(note)}" for note in imp.notes]
    lines += ["seqspec: 1", f"name: {_scalar(imp.name)}",
              f"description: {_scalar('Imported from ' + printable(imp.source))}", "model:"]
    for key, value in imp.model.items():
        if key == "layers":
            lines.append("  layers:")
            for k, layer in enumerate(value):
                where = imp.sources[k] if k < len(imp.sources) else ""
                lines.append(f"    - {_flow(layer)}" + (f"  # {printable(where)}" if where else ""))
        elif isinstance(value, list):
            lines.append(f"  {key}: [{', '.join(_scalar(v) for v in value)}]")
        elif isinstance(value, Mapping):
            note = f"  # {printable(imp.head_source)}" if key == "head" and imp.head_source else ""
            lines.append(f"  {key}: {_flow(value)}{note}")
        else:
            lines.append(f"  {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- the self-check


def check_inputs(imp: Imported, model: Any, seed: int = 0, batch: int = 4,
                 steps: int = 6) -> dict[str, np.ndarray]:
    """Random forward inputs with variable lengths (when the spec has them), padded the
    way the source expects its padding (Keras masks read the padded values)."""
    from seqspec.testing import make_inputs

    batch, steps = imp.fixed_batch or batch, imp.fixed_steps or steps
    inputs = make_inputs(model, batch=batch, steps=steps, seed=seed, dtype=imp.dtype)
    x, lengths = inputs.get("x"), inputs.get("lengths")
    if x is not None and lengths is not None and (imp.pad_token is not None
                                                  or imp.pad_value is not None):
        for b, n in enumerate(lengths):
            if imp.pad_token is not None:
                valid = x[b, :n]
                valid[valid == imp.pad_token] = imp.pad_token + 1  # no pad inside a sequence
                x[b, n:] = imp.pad_token
            else:
                x[b, n:] = imp.pad_value
    return inputs


def valid_mask(model: Any, inputs: Inputs, shape: tuple[int, ...]) -> np.ndarray:
    """True where an output is a valid step's (all of a many_to_one output)."""
    mask = np.ones(shape, dtype=bool)
    lengths = inputs.get("lengths")
    if model.scheme == "many_to_many" and lengths is not None and len(shape) == 3:
        steps = shape[1]
        for b, n in enumerate(lengths):
            if model.encoder.input.padding == "right":
                mask[b, n:] = False
            else:
                mask[b, : steps - n] = False
    return mask


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def self_check(imp: Imported, spec_path: Path, work: Path, seeds: tuple[int, ...] = (0, 1),
               ) -> float:
    """Compile ``spec_path`` with NumPy, run it and the source; the largest difference."""
    from seqspec.api import compile_spec, lower_file
    from seqspec.backends.numpy import runner

    model = lower_file(spec_path)
    compile_spec(spec_path, "numpy", work)
    worst = 0.0
    for seed in seeds:
        inputs = check_inputs(imp, model, seed=seed)
        ours = runner.run(work, imp.weights, inputs, None, imp.dtype)["outputs"]["outputs"]
        try:
            theirs = np.asarray(imp.run_source(inputs), dtype=np.float64)
        except SourceError:
            raise
        except Exception as exc:  # the source's own framework refuses the check's batch
            detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise SourceError(f"the source fails on the self-check's inputs "
                              f"({type(exc).__name__}{': ' + detail if detail else ''})"
                              ) from None
        ours = np.asarray(ours, dtype=np.float64)
        if imp.softmax_output:
            ours = softmax(ours)
        if ours.shape != theirs.shape:
            raise SourceError(f"the source's outputs have shape {theirs.shape}, the imported "
                              f"spec's {ours.shape}: the importer misread the model")
        mask = valid_mask(model, inputs, ours.shape)
        diff = np.abs(ours - theirs)[mask]
        if not np.all(np.isfinite(diff)):
            raise SourceError("the source or the imported model gives non-finite outputs")
        worst = max(worst, float(diff.max(initial=0.0)))
    return worst


# ---------------------------------------------------------------------------- the files


def write(imp: Imported, out_dir: str | os.PathLike[str], force: bool = False) -> Report:
    """Check ``imp`` against its source, then write ``<name>.yaml`` and ``weights.npz``.

    Nothing is written when the check fails; existing files are replaced only with ``force``.
    """
    from seqspec.api import load
    from seqspec.errors import SpecError
    from seqspec.weights import check_weights

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SourceError(f"-o {out}: exists and is not a folder")
    spec_path, weights_path = out / f"{imp.name}.yaml", out / "weights.npz"
    existing = [str(p) for p in (spec_path, weights_path) if os.path.lexists(p)]
    if existing and not force:
        raise SourceError(f"{', '.join(existing)} already exist (--force replaces them)")
    _check_outputs((spec_path, weights_path), force)  # before the (slow) self-check
    text = spec_text(imp)
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in imp.weights.items()}
    imp.weights = weights
    with tempfile.TemporaryDirectory(prefix="seqspec-import-") as tmp:
        draft = Path(tmp) / f"{imp.name}.yaml"
        draft.write_text(text, encoding="utf-8")
        try:
            load(draft)
        except SpecError as exc:  # the importer wrote something the spec language refuses
            first = exc.problems[0]
            raise SourceError(f"the imported spec is invalid ({first.message})") from None
        from seqspec.api import lower_file

        try:
            check_weights(lower_file(draft), weights)
        except ValueError as exc:
            raise SourceError(f"the importer's weights do not fit its spec: {exc}") from None
        worst = self_check(imp, draft, Path(tmp) / "numpy")
    tolerance = TOLERANCE[imp.dtype]
    if not worst <= tolerance:
        raise SourceError(f"self-check failed: the imported model differs from the source by "
                          f"{worst:.3g} (more than {tolerance:g} in {imp.dtype}); nothing written")
    buffer = io.BytesIO()
    np.savez(buffer, **{k: weights[k] for k in sorted(weights)})  # the canonical file's layout
    files = ((weights_path, buffer.getvalue()), (spec_path, text.encode("utf-8")))
    _check_outputs([path for path, _ in files], force)  # again: both before either is written
    for path, data in files:
        _write_output(path, data, force)
    return Report(spec_path, weights_path, worst, tolerance, imp.dtype, tuple(imp.notes))


def _check_outputs(paths: Any, force: bool) -> None:
    """Refuse (one line) unless every path may be written: the shared rules of
    :mod:`seqspec.outputs` (no symlink followed, no folder or device written over)."""
    from seqspec.outputs import OutputError, check_output, never_ours

    for path in paths:
        try:
            check_output(path, force, never_ours)
        except OutputError as exc:
            raise SourceError(str(exc)) from None


def _write_output(path: Path, data: bytes, force: bool) -> None:
    from seqspec.outputs import OutputError, never_ours, write_output

    try:
        write_output(path, data, force, never_ours)
    except OutputError as exc:
        raise SourceError(str(exc)) from None


# ---------------------------------------------------------------------------- weight helpers


def direction_weights(prefix: str, gates: tuple[str, ...], wx: Mapping[str, np.ndarray],
                      wh: Mapping[str, np.ndarray], bias: Mapping[str, np.ndarray] | None,
                      bhn: np.ndarray | None = None,
                      peepholes: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """One direction's canonical parameters (docs/weights.md), named under ``prefix``."""
    out: dict[str, np.ndarray] = {}
    for gate in gates:
        out[f"{prefix}.Wx_{gate}"] = np.asarray(wx[gate], dtype=np.float64)
        out[f"{prefix}.Wh_{gate}"] = np.asarray(wh[gate], dtype=np.float64)
        if bias is not None:
            out[f"{prefix}.b_{gate}"] = np.asarray(bias[gate], dtype=np.float64)
    if bias is not None and bhn is not None:
        out[f"{prefix}.bhn"] = np.asarray(bhn, dtype=np.float64)
    for gate, value in (peepholes or {}).items():
        out[f"{prefix}.p_{gate}"] = np.asarray(value, dtype=np.float64)
    return out


def split_gates(matrix: np.ndarray, gates: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split a stacked ``(G*H, ...)`` array (first axis) into its gates, by name."""
    parts = np.split(np.asarray(matrix, dtype=np.float64), len(gates), axis=0)
    return dict(zip(gates, parts, strict=True))
