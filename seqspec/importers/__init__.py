"""``seqspec import``: bring an existing recurrent model in from ONNX, Keras or PyTorch.

``import_model("model.onnx", "out/")`` writes ``out/<name>.yaml`` (a valid, commented spec)
and ``out/weights.npz`` (canonical weights, docs/weights.md), after checking that the spec
compiled with the NumPy backend reproduces the source on random variable-length inputs
(docs/import.md). One module per source: :mod:`seqspec.importers.onnx`, :mod:`.keras`,
:mod:`.torch`; what they share (the spec writer, the self-check, the files) is in
:mod:`.common`. This module imports only the standard library, so the command line stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seqspec.importers.common import Imported, Report

#: File suffix -> source kind.
SOURCES = {".onnx": "onnx", ".keras": "keras", ".pt": "torch", ".pth": "torch"}


def read(source: str | os.PathLike[str], kind: str | None = None, **options: Any) -> Imported:
    """Read ``source`` (an ONNX, .keras or state_dict file) into an ``Imported``."""
    from seqspec.importers.common import SourceError

    kind = kind or SOURCES.get(Path(source).suffix.lower())
    if kind is None:
        raise SourceError(f"cannot tell the source's kind from its suffix (known: "
                          f"{', '.join(SOURCES)}; --from onnx|keras|torch)")
    if kind == "onnx":
        from seqspec.importers import onnx

        return onnx.read(str(source), name=options.get("name"), head_kind=options.get("head"))
    if kind == "keras":
        from seqspec.importers import keras

        return keras.read(str(source), name=options.get("name"), head_kind=options.get("head"))
    from seqspec.importers import torch

    return torch.read(str(source), **options)


def import_model(source: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                 kind: str | None = None, force: bool = False, **options: Any) -> Report:
    """Import ``source`` into ``out_dir``; raise ``SourceError`` (one line) if it cannot."""
    from seqspec.importers.common import write

    return write(read(source, kind, **options), out_dir, force=force)


# ---------------------------------------------------------------------------- command line


def add_import_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``seqspec import SOURCE -o DIR``."""
    p = subparsers.add_parser(
        "import",
        help="import a recurrent model from ONNX, Keras (.keras) or a PyTorch state_dict",
        description="Write DIR/<name>.yaml and DIR/weights.npz from an ONNX file, a Keras 3 "
        ".keras file or a PyTorch state_dict (.pt/.pth), after checking that the compiled "
        "spec reproduces the source on random inputs (docs/import.md).",
    )
    p.add_argument("source", help="model.onnx, model.keras or state_dict.pt")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--from", dest="kind", choices=("onnx", "keras", "torch"),
                   help="the source's kind (default: from its suffix)")
    p.add_argument("--name", help="the spec's name (default: from the source)")
    p.add_argument("--head", choices=("softmax", "regression"),
                   help="the head's kind (default: softmax, regression for one output)")
    p.add_argument("--force", action="store_true", help="replace files already in DIR")
    torch = p.add_argument_group("PyTorch state_dicts (what the tensor shapes cannot tell)")
    torch.add_argument("--scheme", choices=("many_to_many", "many_to_one"),
                       help="one output per step, or per sequence (default: many_to_one)")
    torch.add_argument("--pooling", choices=("last", "mean", "max"),
                       help="many_to_one: what the head reads (default: last)")
    torch.add_argument("--activation", choices=("tanh", "relu"),
                       help="nn.RNN's nonlinearity (default: tanh)")
    torch.add_argument("--variable-length", action="store_true",
                       help="the model reads packed variable-length batches")
    p.set_defaults(func=run_import)
    return p


def run_import(args: argparse.Namespace) -> int:
    """Run ``seqspec import``: 0 on success, 1 on any error (one line on stderr)."""
    from seqspec.importers.common import SourceError, printable

    options: dict[str, Any] = {"name": args.name, "head": args.head}
    torch_flags = {"scheme": args.scheme, "pooling": args.pooling,
                   "activation": args.activation,
                   "variable_length": args.variable_length or None}
    kind = args.kind or SOURCES.get(Path(args.source).suffix.lower())
    given = [f"--{k.replace('_', '-')}" for k, v in torch_flags.items() if v is not None]
    if kind != "torch" and given:
        print(f"seqspec import: error: {', '.join(given)} only apply to PyTorch state_dicts "
              "(the source says what they mean)", file=sys.stderr)
        return 1
    if kind == "torch":
        options.update(torch_flags)
    try:
        report = import_model(args.source, args.output, kind=args.kind, force=args.force,
                              **options)
    except SourceError as exc:
        print(printable(f"seqspec import: error: {args.source}: {exc}"), file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        print(f"seqspec import: error: {exc.name} is not installed (it reads this source)",
              file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"seqspec import: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report.spec_path} and {report.weights_path}")
    for note in report.notes:
        print(printable(f"note: {note}"))
    print(f"self-check: the compiled NumPy model matches the source within "
          f"{report.max_difference:.2g} ({report.dtype}; tolerance {report.tolerance:g})")
    return 0
