"""Deployment artifacts of a spec with its weights: TorchScript, torch.export, Keras SavedModel.

``export_artifact(spec, "torchscript", out, weights)`` compiles the spec for the framework into a
temporary folder, imports that ``model.py``, loads the canonical weights and writes the artifact
to a temporary path next to ``out``, renamed into place at the end (so a failed export leaves
nothing half-written). The frameworks are imported only here, when an artifact is made, so the
command line stays light. ONNX is :mod:`seqspec.onnx`; docs/deploy.md shows how each artifact is
used in an application.

What each format keeps dynamic (measured with torch 2.13 and TensorFlow 2.21 / Keras 3):

* ``savedmodel``: batch and time. ``serve({name: tensor})`` returns the outputs.
* ``torch-export``: batch and time. nn.RNN / nn.GRU / nn.LSTM would fix the number of steps
  (they decompose into a loop over them) and packed sequences cannot be recorded at all, so
  under ``torch.compiler.is_exporting()`` the generated model runs every recurrent layer as
  one scan operator over its step function, masked by selection.
* ``torchscript`` (``torch.jit.trace``; ``torch.jit.script`` cannot compile the generated
  model: it converts arbitrary inputs with ``torch.as_tensor``, takes initial states as an
  optional dict built with f-strings, and its explicit cells are autograd Functions): batch
  and time. A fused nn.RNN / nn.GRU / nn.LSTM (packed sequences included) is one operator in
  the trace; under ``torch.jit.is_tracing()`` an explicit cell runs its time loop as a
  function compiled by ``torch.jit.script`` (``CellScan.scan_scripted``), which the trace
  calls and keeps as a loop, where tracing its Python loop would unroll it for one length.

torch artifacts take the forward inputs positionally in the order of :func:`input_names` and
return a dict: ``outputs`` and every final state by its key (docs/generated-api.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from seqspec import ir

#: The formats of ``seqspec export`` besides ONNX, and the backend each compiles to.
FORMATS = {"torchscript": "torch", "torch-export": "torch", "savedmodel": "tensorflow"}


class ExportError(ValueError):
    """A model that this format cannot carry as asked (one line, for the command line)."""


def input_names(model: ir.Model) -> list[str]:
    """The forward inputs of the scheme, in the order torch artifacts take them: the generated
    ``Model.forward`` signature order, which ``seqspec.generated.input_specs`` defines."""
    from seqspec.generated import input_specs

    return [spec.name for spec in input_specs(model)]


def example_inputs(model: ir.Model, steps: int, batch: int = 2,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs of ``steps`` steps (decoders too) that tracing and torch.export record."""
    from seqspec.testing import make_inputs

    inputs = make_inputs(model, batch=batch, steps=steps, seed=seed, dtype="float32")
    if model.decoder is not None:  # make_inputs gives decoders 2 steps fewer
        dec = make_inputs(model, batch=batch, steps=steps + 2, seed=seed, dtype="float32")
        for key in ("y_in", "y_lengths") + (("lengths",) if model.scheme == "one_to_many"
                                             else ()):
            if key in dec:
                inputs[key] = dec[key]
    return inputs


def _compile(spec: str | os.PathLike[str], backend: str, folder: Path) -> Any:
    from seqspec.api import compile_spec
    from seqspec.generated import import_model

    if backend == "tensorflow":  # TensorFlow's C++ start-up notes, unless the user asks for them
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    compile_spec(spec, backend, folder)
    return import_model(folder, prefix=f"_seqspec_export_{backend}")


def _torch_module(module: Any, weights: Mapping[str, np.ndarray], names: list[str]) -> Any:
    """The generated Model wrapped to take positional inputs and return a flat dict."""
    import torch

    model = module.Model(dict(weights), dtype="float32", device="cpu").eval()

    class Deployed(torch.nn.Module):
        """forward(*inputs in input_names order) -> {"outputs": ..., state key: ...}."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> dict[str, Any]:
            outputs, states = self.model(**dict(zip(names, inputs, strict=True)))
            return {"outputs": outputs, **states}

    # an inference artifact: parameters without gradients (no backward pass is recorded)
    return Deployed().eval().requires_grad_(False)


def _tensors(inputs: Mapping[str, np.ndarray]) -> tuple[Any, ...]:
    import torch

    return tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in inputs.values())


def _write_torchscript(model: ir.Model, module: Any, weights: Mapping[str, np.ndarray],
                       tmp: Path) -> None:
    import torch

    names = input_names(model)
    wrapped = _torch_module(module, weights, names)
    example = _tensors(example_inputs(model, 6, batch=3))
    with torch.no_grad(), warnings.catch_warnings():
        # torch.as_tensor of an input that already is a tensor is recorded as the identity
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # torch 2.x marks torch.jit.trace and torch.jit.script deprecated: TorchScript is
        # what this format is, the user asked for it
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(wrapped, example, strict=False, check_trace=False)
    meta = {"inputs": names, "spec": model.name}
    torch.jit.save(traced, str(tmp), _extra_files={"seqspec.json": json.dumps(meta)})


def _write_torch_export(model: ir.Model, module: Any, weights: Mapping[str, np.ndarray],
                        tmp: Path) -> None:
    import torch
    from torch.export import Dim

    names = input_names(model)
    wrapped = _torch_module(module, weights, names)
    inputs = example_inputs(model, 6, batch=3)
    batch, time = Dim("batch", min=1, max=2**20), Dim("steps", min=1, max=2**20)
    shapes = []
    for name in inputs:
        dims = {0: batch}
        if name in ("x", "y_in"):  # the sequences: time is dim 1
            dims[1] = time if name == "x" else Dim("decoder_steps", min=1, max=2**20)
        shapes.append(dims)
    program = torch.export.export(wrapped, _tensors(inputs), dynamic_shapes=(tuple(shapes),))
    torch.export.save(program, str(tmp))


def _write_savedmodel(model: ir.Model, module: Any, weights: Mapping[str, np.ndarray],
                      tmp: Path) -> None:
    keras_model = module.Model(dict(weights), dtype="float32")
    keras_model.export(str(tmp), verbose=False)


_WRITERS = {"torchscript": _write_torchscript, "torch-export": _write_torch_export,
            "savedmodel": _write_savedmodel}


def export_artifact(spec: str | os.PathLike[str], fmt: str, out: str | os.PathLike[str],
                    weights: str | os.PathLike[str] | None = None, seed: int = 0,
                    force: bool = False) -> Path:
    """Write ``spec`` with its weights as a ``fmt`` artifact at ``out``; return ``out``.

    Raises :class:`SpecError` for an invalid spec, ``ValueError`` (:class:`ExportError`) for
    weights that do not fit or a model the format cannot carry as asked, and
    :class:`~seqspec.outputs.OutputError` for an output path that may not be written: an
    existing file is replaced only with ``force`` (these binary formats carry no mark that
    says seqspec wrote them), a symlink is never written through (``force`` replaces the link
    itself), and an existing folder is never deleted.
    """
    from seqspec.api import _lower
    from seqspec.outputs import OutputError, check_output, never_ours
    from seqspec.weights import init_weights, load_npz

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (known: onnx, {', '.join(FORMATS)})")
    if Path(out).is_dir() and not Path(out).is_symlink():
        # a folder (a SavedModel too) cannot be swapped in one rename: never delete the user's
        raise OutputError(out, "is an existing folder; remove it or choose another -o")
    target = check_output(out, force, never_ours)  # before the (slow) export
    model, _ = _lower(spec)
    values = load_npz(weights, model) if weights is not None else init_weights(model, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seqspec-export-") as work:
        module = _compile(spec, FORMATS[fmt], Path(work) / "model")
        # the artifact is made next to its target and renamed into place only when complete
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")  # same suffix (.pt2)
        try:
            try:
                _WRITERS[fmt](model, module, values, tmp)
            except (ExportError, ModuleNotFoundError, OSError):
                raise
            except Exception as exc:  # the framework's own refusal, as one line
                detail = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
                raise ExportError(f"{fmt} export failed ({detail})") from exc
            os.replace(tmp, target)
        finally:
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            elif tmp.exists() or tmp.is_symlink():
                tmp.unlink()
    return target
