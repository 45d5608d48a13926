"""``seqspec predict`` and ``seqspec evaluate``: use trained weights without writing a loop.

Both compile the spec for one backend into a temporary folder and run the generated
``predict.py`` there (the same script ``seqspec compile`` writes next to ``train.py``), so the
command line and a compiled folder give the same numbers. Every mistake is one line on stderr
and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from typing import Any

EXIT_INVALID = 1


def _absolute(path: str | None) -> str | None:
    return None if path is None else os.path.abspath(path)


def _compile(args: argparse.Namespace, parser: Any, folder: str) -> int:
    """Compile args.spec for args.backend into folder; 0, or the exit status of a failure."""
    import difflib

    from seqspec import registry
    from seqspec.api import compile_spec
    from seqspec.cli import _print_problems, _problems_of

    known = registry.names()
    if args.backend not in known:
        close = difflib.get_close_matches(args.backend, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        parser.error(f"unknown backend {args.backend!r}{hint} (known: {', '.join(known)})")
    problems = _problems_of(args.spec, lambda f: compile_spec(f, args.backend, folder))
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    return 0


def _run(args: argparse.Namespace, parser: Any, script_args: list[str]) -> int:
    """Compile, then run predict.py with script_args; its exit status."""
    if not os.path.isfile(args.weights):
        print(f"{args.weights}: error: no such weights file", file=sys.stderr)
        return EXIT_INVALID
    with tempfile.TemporaryDirectory(prefix="seqspec-predict-") as folder:
        status = _compile(args, parser, folder)
        if status:
            return status
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        command = [sys.executable, os.path.join(folder, "predict.py"), *script_args]
        return subprocess.run(command, env=env, check=False).returncode


def _common(args: argparse.Namespace) -> list[str]:
    out = ["--weights", _absolute(args.weights) or ""]
    if args.data is not None:
        out += ["--data", _absolute(args.data) or ""]
    if args.batch_size is not None:
        out += ["--batch-size", str(args.batch_size)]
    if args.dtype is not None:
        out += ["--dtype", args.dtype]
    if args.scaler is not None:
        out += ["--scaler", _absolute(args.scaler) or ""]
    return out


def cmd_predict(args: argparse.Namespace, parser: Any) -> int:
    if args.prime:
        extra = [x for text in args.prime for x in ("--prime", text)]
        extra += ["--steps", str(args.steps), "--format", args.format]
        if args.vocab:
            extra += ["--vocab", _absolute(args.vocab) or ""]
    elif args.output is None:
        parser.error("give -o OUT (.npz, .csv or .jsonl), or --prime TEXT for a language model")
    else:
        extra = ["-o", _absolute(args.output) or ""] + (["--force"] if args.force else [])
    return _run(args, parser, _common(args) + extra)


def cmd_evaluate(args: argparse.Namespace, parser: Any) -> int:
    return _run(args, parser, [*_common(args), "--evaluate", "--format", args.format])


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC")
    p.add_argument(
        "-b",
        "--backend",
        required=True,
        metavar="NAME",
        help="numpy, torch, tensorflow: the framework that runs the model",
    )
    p.add_argument(
        "--weights",
        required=True,
        metavar="W",
        help="canonical weights (.npz), e.g. the weights.npz train.py writes",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        help="data in any format train.py reads (default: the spec's data)",
    )
    p.add_argument("--batch-size", type=int, metavar="N", help="samples per forward pass")
    p.add_argument("--dtype", choices=("float32", "float64"), help="default: float32")
    p.add_argument(
        "--scaler",
        metavar="FILE",
        help="CSV series: the training mean and std (default: scaler.json next to --weights)",
    )


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="run trained weights on a data file and write the outputs",
        description="Compile SPEC for a backend into a temporary folder and run its predict.py: "
        "the outputs of every sample of --data go to OUT (.npz, .csv or .jsonl). Language "
        "models continue --prime texts instead.",
    )
    _shared(p)
    p.add_argument("-o", "--output", metavar="OUT", help="outputs file: .npz, .csv or .jsonl")
    p.add_argument("--force", action="store_true", help="replace an existing OUT")
    p.add_argument(
        "--prime",
        action="append",
        metavar="TEXT",
        help="language models: continue this text (repeatable)",
    )
    p.add_argument("--steps", type=int, default=100, help="tokens to generate after --prime")
    p.add_argument("--vocab", metavar="FILE", help="vocab.json (default: next to --weights)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="of --prime texts")
    p.set_defaults(handler=cmd_predict, subparser=p)


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score trained weights on a data file (final.json's metrics)",
        description="Compile SPEC for a backend into a temporary folder and run its predict.py "
        "--evaluate: the validation and test metrics of train.py's final.json, computed the "
        "same way on --data.",
    )
    _shared(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_evaluate, subparser=p)
