"""The ``seqspec`` command line: validate, inspect, compile specs; print the schema; list backends.

Exit codes: 0 success, 1 an invalid spec (or a failed check, or a backend that cannot compile
it), 2 a usage error (unknown option, unknown backend). Problems are printed one per line as
``FILE:LINE:COL: error: PATH: MESSAGE``; bad input never produces a traceback.

Start-up is kept short (pre-commit runs ``seqspec validate`` on every commit): this module
imports only the standard library at the top, the spec machinery when a command needs it, and
never a deep-learning framework.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from seqspec import __version__
from seqspec.errors import Problem, SpecError

if TYPE_CHECKING:
    from seqspec import ir

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors can be raised from a command handler too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _sorted(problems: Sequence[Problem]) -> list[Problem]:
    """File-level problems first, then by line and column (stable for equal positions)."""
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in _sorted(problems):
        print(problem.format(), file=sys.stderr)


def _internal(file: str, exc: Exception) -> Problem:
    """An unexpected failure on one file, as a one-line problem (never a traceback)."""
    if isinstance(exc, MemoryError):  # the machine's limit, not a bug: say so
        return Problem((), "ran out of memory while checking this file", file, rule="limit")
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return Problem(
        (),
        f"seqspec failed on this file ({detail}); this is a bug in seqspec, please report it",
        file,
        rule="internal",
    )


def _problems_of(file: str, action: Callable[[str], object]) -> list[Problem]:
    """Run ``action(file)``; return its problems (none when it succeeds).

    Reading the spec never raises (the loader turns OSError into a problem), so an OSError
    with an errno here comes from writing output and is re-raised for the caller to report.
    (Some library errors subclass OSError without an errno, e.g. a missing Jinja template.)
    """
    from seqspec.outputs import OutputError

    try:
        action(file)
    except SpecError as exc:
        return list(exc.problems)
    except OutputError:
        raise  # not the spec's fault: the caller reports it
    except OSError as exc:
        if exc.errno is not None:
            raise
        return [_internal(file, exc)]
    except RecursionError as exc:  # a subclass of Exception, but say what it means
        return [Problem((), f"the file nests too deeply to check ({exc})", file,
                        rule="yaml-feature")]
    except Exception as exc:
        return [_internal(file, exc)]
    return []


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace, parser: _Parser) -> int:
    """Check every spec; report all problems; exit 1 if any spec is invalid."""
    from seqspec.api import load

    results = [(file, _problems_of(file, load)) for file in args.specs]
    if args.format in ("github", "sarif"):
        from seqspec import annotate

        every = [p for _, problems in results for p in _sorted(problems)]
        if args.format == "github":
            sys.stdout.write(annotate.github(every))
        else:
            sys.stdout.write(annotate.sarif(args.specs, every))
    elif args.format == "json":
        doc = [
            {
                "file": file,
                "valid": not problems,
                "problems": [p.as_dict() for p in _sorted(problems)],
            }
            for file, problems in results
        ]
        print(json.dumps(doc, indent=2))
    else:
        for file, problems in results:
            if problems:
                _print_problems(problems)
            elif not args.quiet:
                print(f"{file}: ok")
    return EXIT_INVALID if any(problems for _, problems in results) else EXIT_OK


def cmd_schema(args: argparse.Namespace, parser: _Parser) -> int:
    """Print, write or check the JSON Schema."""
    from seqspec import schema

    text = schema.render()
    if args.check is not None:
        target = Path(args.check)
        try:
            current = target.read_text(encoding="utf-8")
        except OSError as exc:
            print(
                f"{target}: error: cannot read it ({exc.strerror}); write it with: "
                f"seqspec schema -o {target}",
                file=sys.stderr,
            )
            return EXIT_INVALID
        if current != text:
            print(
                f"{target}: error: the schema is out of date; regenerate it with: "
                f"seqspec schema -o {target}",
                file=sys.stderr,
            )
            return EXIT_INVALID
        print(f"{target}: up to date")
        return EXIT_OK
    if args.output:
        target = Path(args.output)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))  # bytes: no newline translation
        except OSError as exc:
            print(f"{target}: error: cannot write it ({exc.strerror})", file=sys.stderr)
            return EXIT_INVALID
        print(f"wrote {target}")
        return EXIT_OK
    sys.stdout.write(text)
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace, parser: _Parser) -> int:
    """Print the layers, sizes and parameter counts of a spec."""
    from seqspec import summary
    from seqspec.api import lower_file

    model: list[ir.Model] = []
    problems = _problems_of(args.spec, lambda f: model.append(lower_file(f)))
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    if args.format == "json":
        print(json.dumps(summary.as_json(model[0], args.spec), indent=2))
    else:
        sys.stdout.write(summary.as_table(model[0], args.spec))
    return EXIT_OK


def cmd_compile(args: argparse.Namespace, parser: _Parser) -> int:
    """Generate code for one backend: check the name, the spec, the backend, then write."""
    import difflib

    from seqspec import registry
    from seqspec.api import compile_spec, lower_file
    from seqspec.outputs import OutputError

    if args.output == "":
        parser.error("-o/--output is empty; name the folder to write into")
    known = registry.names()
    if args.backend not in known:
        close = difflib.get_close_matches(args.backend, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        parser.error(f"unknown backend {args.backend!r}{hint} (known: {', '.join(known)})")
    problems = _problems_of(args.spec, lower_file)
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    try:
        registry.get(args.backend)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        print(
            f"seqspec: error: the {args.backend} backend cannot be loaded ({detail})",
            file=sys.stderr,
        )
        return EXIT_INVALID
    written: list[Path] = []
    try:
        problems = _problems_of(
            args.spec,
            lambda f: written.extend(
                compile_spec(f, args.backend, args.output, args.force, args.single_file)
            ),
        )
    except OutputError as exc:
        print(f"{exc.path}: error: {exc.reason}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:  # re-raised by _problems_of: not the spec's fault
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"{args.output}: error: cannot write the generated files ({exc.strerror}{where})",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    for path in written:
        print(path)
    return EXIT_OK


def _backend_info(name: str) -> dict[str, object]:
    import importlib.util

    from seqspec import registry

    try:
        backend = registry.get(name)
    except Exception as exc:
        return {
            "name": name,
            "available": False,
            "error": f"{type(exc).__name__}: {exc}",
            "framework": None,
            "framework_installed": False,
            "features": [],
        }
    try:
        installed = importlib.util.find_spec(backend.framework) is not None
    except (ImportError, ValueError):
        installed = False
    return {
        "name": name,
        "available": True,
        "error": None,
        "framework": backend.framework,
        "framework_installed": installed,
        "features": sorted(backend.features),
        "description": backend.description,
    }


def cmd_backends(args: argparse.Namespace, parser: _Parser) -> int:
    """List the registered backends (without importing their frameworks)."""
    from seqspec import registry

    infos = [_backend_info(name) for name in registry.names()]
    if args.format == "json":
        print(json.dumps(infos, indent=2))
        return EXIT_OK
    for info in infos:
        if not info["available"]:
            print(f"{info['name']}: not available ({info['error']})")
            continue
        state = "installed" if info["framework_installed"] else "NOT installed"
        print(f"{info['name']}: framework {info['framework']} ({state})")
        if info["description"]:
            print(f"  {info['description']}")
        print(f"  features: {', '.join(info['features'])}")  # type: ignore[arg-type]
    return EXIT_OK


# --------------------------------------------------------------------------- parser


#: Commands defined in other modules: (name, module, function adding the subparser, help).
#: They are imported only when asked for (or for --help), so e.g. ``check``'s numpy import
#: never slows ``validate`` down. The function receives the subparsers action; the parser it
#: adds sets ``handler(args, parser)`` and ``subparser``, or ``func(args)``; both return the
#: exit status.
PLUGIN_COMMANDS = (
    (
        "check",
        "seqspec.check",
        "add_check_parser",
        "run a spec through every installed backend and compare the numbers",
    ),
    ("export", "seqspec.onnx", "add_export_parser",
     "export a spec with its weights: ONNX, TorchScript, torch.export, SavedModel"),
    (
        "import",
        "seqspec.importers",
        "add_import_parser",
        "import a recurrent model from ONNX, Keras or a PyTorch state_dict",
    ),
    ("predict", "seqspec.predict", "add_predict_parser", "run trained weights on a data file"),
    ("evaluate", "seqspec.predict", "add_evaluate_parser", "score trained weights on a data file"),
)
CORE_COMMANDS = ("validate", "schema", "inspect", "compile", "backends")


def _add_plugin(
    sub: argparse._SubParsersAction, name: str, module: str, function: str, help_text: str
) -> None:
    """Register a command from ``module``; if it cannot be imported, a command that says so."""
    import importlib

    try:
        getattr(importlib.import_module(module), function)(sub)
    except Exception as exc:  # a broken or missing optional module must not break the CLI
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        p = sub.add_parser(name, help=f"{help_text} (unavailable)", add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)

        def unavailable(args: argparse.Namespace, parser: _Parser) -> int:
            print(f"seqspec: error: seqspec {name} is not available ({detail})", file=sys.stderr)
            return EXIT_INVALID

        p.set_defaults(handler=unavailable, subparser=p)


def _requested(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> _Parser:
    """The argument parser (public so docs and tests can read the usage).

    Plug-in commands are added unless ``argv`` asks for a core command.
    """
    parser = _Parser(
        prog="seqspec",
        description="Validate, inspect and compile seqspec model specs (YAML).",
        epilog="Exit codes: 0 ok, 1 invalid spec or failed check, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"seqspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "validate",
        help="check specs and report every problem",
        description="Check specs; print FILE:LINE:COL: error: PATH: MESSAGE "
        "for every problem (stderr) and FILE: ok for each valid spec.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    p.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="json: a list of {file, valid, problems} on stdout; github: GitHub Actions "
        "annotations (::error file=...); sarif: a SARIF 2.1.0 log (code scanning)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no 'ok' lines")
    p.set_defaults(handler=cmd_validate, subparser=p)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of the spec language",
        description="Print the JSON Schema (for editors), write it, or check "
        "that a file holds the current one.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--check",
        nargs="?",
        const="schemas/seqspec.schema.json",
        default=None,
        metavar="FILE",
        help="exit 1 if FILE (default: %(const)s) has drifted",
    )
    group.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE")
    p.set_defaults(handler=cmd_schema, subparser=p)

    p = sub.add_parser(
        "inspect",
        help="show layers, sizes and parameter counts",
        description="Show every layer with its sizes and parameter count, and the total.",
    )
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_inspect, subparser=p)

    p = sub.add_parser(
        "compile",
        help="generate model code for a backend",
        description="Generate standalone code for one backend into a folder.",
    )
    p.add_argument("spec", metavar="SPEC")
    p.add_argument(
        "-b",
        "--backend",
        required=True,
        metavar="NAME",
        help="numpy, torch, tensorflow, or an installed plug-in",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace files in DIR that seqspec did not write (and symlinks, never followed)",
    )
    p.add_argument(
        "--single-file",
        action="store_true",
        help="inline the runtime modules into model.py, train.py and predict.py (no *_runtime.py)",
    )
    p.set_defaults(handler=cmd_compile, subparser=p)

    p = sub.add_parser(
        "backends",
        help="list backends, their features and frameworks",
        description="List the registered backends, the features each "
        "supports and whether its framework is installed.",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_backends, subparser=p)

    if argv is None or _requested(argv) not in CORE_COMMANDS:
        for name, module, function, help_text in PLUGIN_COMMANDS:
            _add_plugin(sub, name, module, function, help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        if hasattr(args, "handler"):
            return args.handler(args, args.subparser)
        return args.func(args)  # a plug-in that follows the plain argparse convention
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except BrokenPipeError:  # `seqspec schema | head`: the reader left; say nothing more
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INVALID
    except MemoryError:
        print("seqspec: error: out of memory; the spec, weights or inputs are too large for "
              "this machine", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:  # a bug, reported in one line; KeyboardInterrupt still passes
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        print(f"seqspec: internal error: {detail}; please report it", file=sys.stderr)
        return EXIT_INVALID
