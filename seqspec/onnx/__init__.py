"""ONNX export of a spec with its canonical weights, and the ``seqspec export`` command.

``export_file("model.yaml", "model.onnx")`` writes an ONNX model (opset 17, float32,
inference only) whose inputs and outputs carry the names of docs/generated-api.md: the forward
inputs of the scheme (``x``, ``lengths``, ``features``, ``y_in``, ...), ``outputs``, and one
output per final state (``encoder.layers.0.forward.h``, ...). See docs/check.md for what the
graph contains. This module imports ``onnx`` only when a model is built, so the command line
stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from seqspec.errors import Problem, SpecError, UnsupportedFeature

if TYPE_CHECKING:  # numpy and onnx load when a model is exported: the CLI stays light
    import numpy as np
    import onnx

    from seqspec import ir

#: A single protobuf cannot exceed 2 GiB; weights beyond this need ONNX external data, which
#: the exporter does not write. Leave room for the graph itself.
MAX_WEIGHT_BYTES = 2**31 - 2**26


def unsupported(model: ir.Model) -> list[Problem]:
    """What in ``model`` the exporter cannot express, each at its spec path (empty: all fine).

    Every topology, input, head and scheme of the spec language has an exact ONNX form, and so
    has every cell kind with an exporter in :mod:`seqspec.onnx.cells` (a standard RNN/LSTM/GRU
    operator or a Scan). What remains is size: float32 weights over 2 GiB do not fit in one
    protobuf.
    """
    from seqspec.onnx import cells

    problems = [Problem(layer.path, f"the ONNX exporter has no {layer.cell} layer")
                for stack in model.stacks for layer in stack.layers
                if layer.cell not in cells.KINDS]
    size = model.parameter_count * 4
    if size > MAX_WEIGHT_BYTES:
        problems.append(Problem(("model",), f"the float32 weights take {size:,} bytes; an ONNX "
                                f"file holds at most {MAX_WEIGHT_BYTES:,} without external "
                                "data, which seqspec's exporter does not write"))
    return problems


def export(model: ir.Model, weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """Build the ONNX model for ``model`` with canonical ``weights``; raise if unsupported."""
    problems = unsupported(model)
    if problems:
        raise UnsupportedFeature(problems)
    from seqspec.onnx.builder import to_onnx

    return to_onnx(model, weights)


def written_by_seqspec(head: bytes) -> bool:
    """Whether an ONNX file starting with ``head`` was exported by seqspec.

    Protobuf writes fields in number order: ``ir_version`` (1), then ``producer_name`` (2),
    which seqspec sets to "seqspec".
    """
    return b"\x12\x07seqspec" in head[:32]


def export_file(spec_path: str | os.PathLike[str], out: str | os.PathLike[str],
                weights: str | os.PathLike[str] | None = None, seed: int = 0,
                force: bool = False) -> Path:
    """Export a spec file to ``out`` with weights from ``weights`` (.npz) or ``init_weights``.

    Raises :class:`SpecError` (located) for an invalid spec or what ONNX cannot express,
    ``ValueError`` for weights that do not fit the model, and
    :class:`~seqspec.outputs.OutputError` for an output path that may not be written (a file
    seqspec did not write, unless ``force``; a symlink; an empty path).
    """
    import onnx

    from seqspec.outputs import check_output, write_output

    check_output(out, force, written_by_seqspec)  # before the (slow) export

    from seqspec.api import _lower
    from seqspec.weights import init_weights, load_npz

    model, doc = _lower(spec_path)
    problems = unsupported(model)
    if problems:
        raise UnsupportedFeature(problems).located(doc.file, doc.positions)
    values = load_npz(weights, model) if weights is not None else init_weights(model, seed)
    proto = export(model, values)
    onnx.checker.check_model(proto, full_check=True)
    return write_output(out, proto.SerializeToString(), force, written_by_seqspec)


# ---------------------------------------------------------------------------- command line


def add_export_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``seqspec export SPEC --format F -o OUT [--weights W] [--seed N] [--force]``."""
    p = subparsers.add_parser(
        "export",
        help="export a spec with its weights for deployment (ONNX, TorchScript, "
        "torch.export, SavedModel)",
        description="Write the model with the canonical weights from --weights (or drawn by "
        "the spec's initialisers) as an ONNX graph (opset 17, float32, inference only), a "
        "TorchScript file, a torch.export program (.pt2) or a Keras SavedModel folder. "
        "docs/deploy.md shows how to use each in an application.",
    )
    p.add_argument("spec", help="the spec file (YAML)")
    p.add_argument("--format", choices=["onnx", "torchscript", "torch-export", "savedmodel"],
                   default="onnx", help="output format (default onnx)")
    p.add_argument("-o", "--output", required=True,
                   help="the file to write, e.g. model.onnx, model.pt, model.pt2, or the "
                   "SavedModel folder")
    p.add_argument("--weights", help="canonical weights (.npz) to embed; default: init_weights")
    p.add_argument("--seed", type=int, default=0, help="seed of init_weights (default 0)")
    p.add_argument("--force", action="store_true",
                   help="replace a file seqspec did not write (or a symlink, never followed)")
    p.set_defaults(func=run_export)
    return p


_INSTALL = {"onnx": "onnx", "torch": "torch", "tensorflow": "tensorflow",
            "keras": "tensorflow"}


def run_export(args: argparse.Namespace) -> int:
    """Run ``seqspec export``: 0 on success, 1 on any error (printed, located, one line)."""
    from seqspec.outputs import OutputError

    try:
        if args.format == "onnx":
            path = export_file(args.spec, args.output, args.weights, args.seed, args.force)
        else:
            from seqspec.deploy import export_artifact

            path = export_artifact(args.spec, args.format, args.output, args.weights,
                                   args.seed, args.force)
    except OutputError as exc:
        print(f"{exc.path}: error: {exc.reason}", file=sys.stderr)
        return 1
    except SpecError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        extra = _INSTALL.get(root, root)
        print(f"seqspec export: error: {root} is not installed "
              f"(pip install 'seqspec[{extra}]')", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"seqspec export: error: {detail}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0
