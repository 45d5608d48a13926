"""``seqspec check``: run one spec through every backend and compare the numbers.

For each spec, ``check`` draws one set of canonical weights (:func:`seqspec.weights.random_weights`,
every parameter non-zero), one batch of inputs (:func:`seqspec.testing.make_inputs`, with variable
lengths and garbage padding where the spec allows) and one output cotangent ``G``; compiles the
spec for each requested backend into a temporary folder; runs every backend's runner in its own
process (:mod:`seqspec.check.worker`), so no framework's global settings leak into another's;
and compares outputs, final states and the gradients of ``sum(outputs * G)`` between every pair
of backends, the NumPy reference first. Tolerances: :mod:`seqspec.check.compare`, docs/check.md.

A backend whose framework is not importable is "skipped (not installed)", one that cannot
compile a feature the spec uses is "skipped (unsupported: ...)"; neither ever counts as passed.
``onnx`` exports the model (:mod:`seqspec.onnx`) and runs it with onnxruntime: float32, forward
only, so its gradients are not compared.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqspec.registry import BUILTIN

if TYPE_CHECKING:  # numpy and the comparisons load when a check runs: the CLI stays light
    import numpy as np

    from seqspec import ir
    from seqspec.check.compare import Comparison

REFERENCE = "numpy"
#: The built-in backends (one list: :data:`seqspec.registry.BUILTIN`) and the ONNX export.
ALL_BACKENDS = (*BUILTIN, "onnx")
ONNX = {"framework": "onnxruntime", "runner": "seqspec.onnx.runner"}
MAX_LISTED = 12  # rows outside tolerance listed in the text report (--verbose: all)


@dataclass
class BackendRun:
    """One backend on one spec: how it went and, when it ran, its result."""

    name: str
    status: str = "pending"  # ok | skipped | error
    reason: str = ""
    dtype: str = ""
    gradients: bool = True
    corrupted: str = ""
    seconds: float = 0.0
    detail: str = ""  # the traceback tail of a runner error
    result: dict[str, dict[str, np.ndarray]] | None = field(default=None, repr=False)

    def label(self) -> str:
        """``ok``, ``skipped (not installed ...)``, ``error (...)``."""
        if self.status == "ok":
            extra = [self.dtype] + ([] if self.gradients else ["forward only"])
            if self.corrupted:
                extra.append(f"CORRUPTED by SEQSPEC_CHECK_CORRUPT: {self.corrupted}")
            return f"ok ({', '.join(extra)}) {self.seconds:.2f}s"
        return f"{self.status} ({self.reason})"

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.name, "status": self.status, "reason": self.reason,
                "dtype": self.dtype, "gradients": self.gradients, "corrupted": self.corrupted,
                "seconds": round(self.seconds, 3), "detail": self.detail}


@dataclass
class SpecReport:
    """Everything ``check`` found out about one spec."""

    spec: str
    dtype: str
    seed: int
    batch: int
    steps: int
    runs: list[BackendRun] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the spec itself is invalid
    weights: str = ""  # the --weights file, or "" for check's own random weights
    inputs: str = ""  # the --inputs file, or "" for check's own random inputs
    tolerance_scale: float = 1.0  # compare.weight_scale of the weights and inputs

    def failures(self, strict: bool = False) -> list[str]:
        """Why this spec fails the check (empty: it passes)."""
        out = list(self.problems)
        out += [f"{r.name}: {r.label()}" for r in self.runs if r.status == "error"]
        if strict:
            out += [f"{r.name}: {r.label()}" for r in self.runs if r.status == "skipped"]
        out += [f"{c.quantity} {'~'.join(c.pair)}: max abs {c.max_abs:.3g} outside "
                f"{c.tolerance}" + (f" ({c.note})" if c.note else "")
                for c in self.comparisons if not c.passed]
        if not self.problems and not self.comparisons:
            ran = [r.name for r in self.runs if r.status == "ok"]
            out.append(f"nothing was compared: fewer than two backends ran ({', '.join(ran)})")
        return out

    def as_dict(self, strict: bool = False) -> dict[str, Any]:
        return {"spec": self.spec, "dtype": self.dtype, "seed": self.seed, "batch": self.batch,
                "steps": self.steps, "weights": self.weights or None,
                "inputs": self.inputs or None, "tolerance_scale": self.tolerance_scale,
                "passed": not self.failures(strict),
                "problems": self.problems, "backends": [r.as_dict() for r in self.runs],
                "comparisons": [c.as_dict() for c in self.comparisons],
                "failures": self.failures(strict)}


# ---------------------------------------------------------------------------- preparing


def output_shape(model: ir.Model, inputs: dict[str, np.ndarray]) -> tuple[int, ...]:
    """The shape of the forward outputs for ``inputs`` (docs/generated-api.md)."""
    if model.ar is not None:
        return (len(inputs["windows"]), 1)
    assert model.head is not None
    out = model.head.out_size
    if model.scheme == "many_to_one":
        return (len(inputs["x"]), out)
    seq = inputs["x"] if model.scheme == "many_to_many" else inputs["y_in"]
    return (seq.shape[0], seq.shape[1], out)


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _prepare(name: str, spec_path: Path, model: ir.Model, model_dir: Path, dtype: str,
             run: BackendRun) -> dict[str, str] | None:
    """Compile for one backend; return its worker settings, or None (run says why)."""
    from seqspec import registry
    from seqspec.api import compile_spec

    if name == "onnx":
        from seqspec.onnx import unsupported

        run.dtype, run.gradients = "float32", False
        if _missing("onnx") or _missing("onnxruntime"):
            run.status, run.reason = "skipped", "not installed: onnx and onnxruntime"
            return None
        problems = unsupported(model)
        if problems:
            run.status, run.reason = "skipped", "unsupported: " + "; ".join(
                p.message for p in problems)
            return None
        model_dir.mkdir(parents=True, exist_ok=True)
        from seqspec.loader import read_bytes  # read once: a spec from a pipe is gone after

        (model_dir / "spec.yaml").write_bytes(read_bytes(spec_path))
        return dict(ONNX)
    try:
        backend = registry.get(name)
    except KeyError:
        run.status, run.reason = "skipped", (f"not installed: no backend named {name!r}; "
                                             f"known: {', '.join([*registry.names(), 'onnx'])}")
        return None
    except (ImportError, AttributeError) as exc:  # a package without ``backend``
        run.status, run.reason = "skipped", f"not installed: {type(exc).__name__}: {exc}"
        return None
    run.dtype = dtype
    if _missing(backend.framework):
        run.status, run.reason = "skipped", f"not installed: no module {backend.framework!r}"
        return None
    lacking = sorted({f for f, _ in model.feature_sites if f not in backend.features})
    if lacking:
        run.status, run.reason = "skipped", "unsupported: " + ", ".join(lacking)
        return None
    runner = f"{backend.package}.runner"
    if _missing(runner):
        run.status, run.reason = "skipped", f"no runner: {runner} does not exist"
        return None
    try:
        compile_spec(spec_path, name, model_dir)
    except Exception as exc:
        run.status, run.reason = "error", f"compile failed: {type(exc).__name__}: {exc}"
        return None
    return {"framework": backend.framework, "runner": runner}


# ---------------------------------------------------------------------------- running


def _run_worker(name: str, settings: dict[str, str], items: list[tuple[BackendRun, dict]],
                folder: Path, timeout: float) -> None:
    """One process for every job of one backend; fill in each run's status and result."""
    request = {"backend": name, **settings, "status": str(folder / f"{name}.status.json"),
               "jobs": [job for _, job in items]}
    request_path = folder / f"{name}.request.json"
    request_path.write_text(json.dumps(request, indent=1), encoding="utf-8")
    log_path = folder / f"{name}.log"
    status_path = Path(request["status"])
    status_path.unlink(missing_ok=True)  # never read a previous run's status (--keep DIR)
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    statuses: dict[str, dict[str, Any]] = {}
    reason = f"the {name} worker reported nothing for this spec"
    try:
        with open(log_path, "wb") as log:
            subprocess.run([sys.executable, "-m", "seqspec.check.worker", str(request_path)],
                           stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
                           timeout=timeout, check=False)
        statuses = json.loads(status_path.read_text(encoding="utf-8"))
    except subprocess.TimeoutExpired:
        reason = f"the {name} worker timed out after {timeout:g}s"
    except (OSError, ValueError):
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        reason = f"the {name} worker died: " + " | ".join(tail)
    for run, job in items:
        status = statuses.get(job["id"])
        if status is None:
            run.status, run.reason = "error", reason
            continue
        run.status = status["status"]
        run.reason = status.get("reason", "")
        run.detail = status.get("traceback", "")
        run.corrupted = status.get("corrupted", "")
        run.seconds = status.get("seconds", time.perf_counter() - start)
        if run.status == "ok":
            run.result = _load_result(job["result"])


def _load_result(path: str) -> dict[str, dict[str, np.ndarray]]:
    import numpy as np

    out: dict[str, dict[str, np.ndarray]] = {"outputs": {}, "states": {}, "grads": {}}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            group, _, name = key.partition("/")
            out.setdefault(group, {})[name] = data[key]
    return out


def _compare(report: SpecReport) -> None:
    from seqspec.check.compare import compare_results

    ran = [r for r in report.runs if r.status == "ok"]
    ref = next((r for r in ran if r.name == REFERENCE), ran[0] if ran else None)
    others = [r for r in ran if r is not ref]
    pairs = [(ref, r) for r in others] + list(itertools.combinations(others, 2))
    for a, b in pairs:
        assert a is not None and a.result is not None and b.result is not None
        dtype = "float64" if a.dtype == b.dtype == "float64" else "float32"
        report.comparisons += compare_results((a.name, b.name), a.result, b.result, dtype,
                                              gradients=a.gradients and b.gradients,
                                              scale=report.tolerance_scale)


def load_inputs(path: str | os.PathLike[str], model: ir.Model,
                dtype: str) -> dict[str, np.ndarray]:
    """Read ``--inputs``: the keyword arguments of ``Model.forward``, checked against the model.

    The keys must be exactly those the scheme takes (docs/generated-api.md); token ids must
    be integers within the vocabulary, features finite, lengths within the steps. Raises
    ``ValueError`` naming every problem.
    """
    import numpy as np

    from seqspec.testing import make_inputs
    from seqspec.weights import read_arrays

    given = read_arrays(path)
    like = make_inputs(model, batch=2, steps=3, seed=0, dtype=dtype)
    problems = [f"missing {k!r}" for k in like if k not in given]
    problems += [f"unexpected {k!r} (this model takes {', '.join(like)})"
                 for k in given if k not in like]
    out: dict[str, np.ndarray] = {}
    batch = {len(v) for v in given.values() if np.ndim(v) >= 1}
    if len(batch) > 1:
        problems.append(f"the arrays disagree on the batch size ({sorted(batch)})")
    for key, ref in like.items():
        if key not in given:
            continue
        value = given[key]
        # dims: B (any), then T (any) for sequences, then the model's own sizes
        free = 2 if key in ("x", "y_in") else 1
        if np.ndim(value) != ref.ndim or value.shape[free:] != ref.shape[free:]:
            want = ", ".join(["B", "T"][:free] + [str(n) for n in ref.shape[free:]])
            problems.append(f"{key!r} has shape {value.shape}, expected ({want})")
            continue
        if np.issubdtype(ref.dtype, np.integer):
            if not np.issubdtype(value.dtype, np.integer):
                problems.append(f"{key!r} must hold integers, not {value.dtype}")
                continue
        elif not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            problems.append(f"{key!r} must hold finite floating-point numbers")
            continue
        out[key] = value.astype(ref.dtype)
    for key in ("x", "y_in"):
        stack = model.encoder if key == "x" else model.decoder
        if key in out and stack is not None and stack.input.kind == "tokens":
            ids = out[key]
            if ids.size and (ids.min() < 0 or ids.max() >= stack.input.vocab_size):
                problems.append(f"{key!r} holds token ids outside 0..{stack.input.vocab_size - 1}")
    for key, seq in (("lengths", "y_in" if model.scheme == "one_to_many" else "x"),
                     ("x_lengths", "x"), ("y_lengths", "y_in")):
        if key in out and seq in out and out[key].size:
            steps = out[seq].shape[1]
            if out[key].min() < 1 or out[key].max() > steps:
                problems.append(f"{key!r} must be within 1..{steps}")
    if problems:
        raise ValueError("inputs do not fit the model: " + "; ".join(problems))
    return out


def _given_weights(path: str | os.PathLike[str], model: ir.Model) -> dict[str, np.ndarray]:
    import numpy as np

    from seqspec.weights import load_npz

    weights = load_npz(path, model)
    bad = sorted(k for k, v in weights.items() if not np.isfinite(v).all())
    if bad:
        raise ValueError(f"weights hold NaN or inf in {', '.join(bad)}")
    return weights


def check(specs: list[str | os.PathLike[str]], backends: tuple[str, ...] = ALL_BACKENDS,
          dtype: str = "float64", seed: int = 0, batch: int = 3, steps: int = 7,
          workdir: str | os.PathLike[str] | None = None, jobs: int = 1,
          timeout: float = 900.0, weights: str | os.PathLike[str] | None = None,
          inputs: str | os.PathLike[str] | None = None) -> list[SpecReport]:
    """Check every spec with every backend; one worker process per backend for all specs.

    ``weights`` and ``inputs`` (``.npz``, one spec only) replace the random weights and
    inputs: the check then runs on the artifact that ships, with tolerances scaled by
    :func:`~seqspec.check.compare.weight_scale`.
    """
    import zipfile

    from seqspec.api import _lower
    from seqspec.check.compare import weight_scale
    from seqspec.errors import SpecError
    from seqspec.testing import make_inputs, output_cotangent
    from seqspec.weights import random_weights, save_npz

    if (weights is not None or inputs is not None) and len(specs) != 1:
        raise ValueError("--weights and --inputs go with exactly one spec")

    with tempfile.TemporaryDirectory(prefix="seqspec-check-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        reports: list[SpecReport] = []
        pending: dict[str, tuple[dict[str, str], list[tuple[BackendRun, dict]]]] = {}
        for i, path in enumerate(specs):
            report = SpecReport(str(path), dtype, seed, batch, steps)
            reports.append(report)
            try:
                model, _ = _lower(path)
            except SpecError as exc:
                report.problems = [p.format() for p in exc.problems]
                continue
            folder = work / f"spec{i}"
            folder.mkdir(parents=True, exist_ok=True)
            source = weights
            try:
                values = (random_weights(model, seed) if weights is None
                          else _given_weights(weights, model))
                source = inputs
                batch_inputs = (make_inputs(model, batch=batch, steps=steps, seed=seed,
                                            dtype=dtype)
                                if inputs is None else load_inputs(inputs, model, dtype))
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
                # a file that is not an .npz, or arrays that do not fit: one line, no traceback
                detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                detail = detail.removeprefix(f"{source} ")
                report.problems = [f"{source}: error: {detail}".splitlines()[0][:500]]
                continue
            report.weights = str(weights or "")
            report.inputs = str(inputs or "")
            if inputs is not None:  # the header says what ran
                first = next(iter(batch_inputs.values()))
                report.batch = len(first)
                seq = batch_inputs.get("x", batch_inputs.get("y_in"))
                report.steps = seq.shape[1] if seq is not None else 0
            if weights is not None or inputs is not None:
                report.tolerance_scale = weight_scale(values, batch_inputs)
            g = output_cotangent(output_shape(model, batch_inputs), seed=seed + 1, dtype=dtype)
            save_npz(folder / "weights.npz", values)
            save_npz(folder / "inputs.npz", batch_inputs)
            save_npz(folder / "d_outputs.npz", {"d_outputs": g})
            for name in backends:
                run = BackendRun(name)
                report.runs.append(run)
                settings = _prepare(name, Path(path), model, folder / name, dtype, run)
                if settings is None:
                    continue
                job = {"id": f"spec{i}", "model_dir": str(folder / name), "dtype": dtype,
                       "weights": str(folder / "weights.npz"),
                       "inputs": str(folder / "inputs.npz"),
                       "d_outputs": str(folder / "d_outputs.npz"),
                       "result": str(folder / f"{name}.result.npz")}
                pending.setdefault(name, (settings, []))[1].append((run, job))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(_run_worker, name, settings, items, work, timeout)
                       for name, (settings, items) in pending.items()]
            for future in futures:
                future.result()
        for report in reports:
            _compare(report)
    return reports


# ---------------------------------------------------------------------------- reporting


def format_text(report: SpecReport, verbose: bool = False, strict: bool = False) -> str:
    """The human report: backends, then one row per quantity group and pair."""
    lines = [f"seqspec check {report.spec} ({report.dtype}, seed {report.seed}, "
             f"batch {report.batch}, steps {report.steps})"]
    if report.weights or report.inputs:
        given = ", ".join(f"{what} {path}" for what, path in (("weights", report.weights),
                                                             ("inputs", report.inputs)) if path)
        lines.append(f"  on {given}; absolute tolerances x{report.tolerance_scale:.3g} "
                     "(the size of the weights and inputs)")
    lines += [f"  {p}" for p in report.problems]
    for run in report.runs:
        lines.append(f"  {run.name:<11} {run.label()}")
        if run.detail and verbose:
            lines += [f"      {line}" for line in run.detail.splitlines()]
        if run.corrupted:
            lines.append(f"  WARNING: {run.name}'s weights were deliberately corrupted "
                         f"({run.corrupted}) by SEQSPEC_CHECK_CORRUPT")
    if report.comparisons:
        from seqspec.check.compare import summarize

        rows = report.comparisons if verbose else summarize(report.comparisons)
        failing = [] if verbose else [c for c in report.comparisons if not c.passed]
        header = ("quantity", "pair", "max abs", "max rel", "tolerance", "result")
        table = [header] + [_row(c) for c in rows + failing[:MAX_LISTED]]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for k, r in enumerate(table):
            if k == len(rows) + 1:
                lines.append("  outside tolerance:")
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))
                         .rstrip())
        if len(failing) > MAX_LISTED:
            lines.append(f"  ... and {len(failing) - MAX_LISTED} more (--verbose or "
                         "--format json lists them all)")
        culprit = _culprit(report)
        if culprit:
            lines.append(f"  {culprit} disagrees with every other backend, and they agree "
                         "with each other: its conversion or cells are the likely cause")
    failures = report.failures(strict)
    lines.append("  result: PASS" if not failures else
                 f"  result: FAIL ({len(failures)} problem{'s' * (len(failures) != 1)})")
    if failures and not report.comparisons:
        lines += [f"    {f}" for f in failures]
    return "\n".join(lines)


def _culprit(report: SpecReport) -> str:
    """The one backend in every failing pair, when every pair without it passes."""
    pairs: dict[tuple[str, str], bool] = {}
    for c in report.comparisons:
        pairs[c.pair] = pairs.get(c.pair, True) and c.passed
    names = {n for pair in pairs for n in pair}
    if len(names) < 3 or all(pairs.values()):
        return ""
    for name in sorted(names):
        if all(ok != (name in pair) for pair, ok in pairs.items()):
            return name
    return ""


def _row(c: Comparison) -> tuple[str, ...]:
    quantity = f"{c.group} ({c.name})" if c.name.startswith("worst: ") else c.quantity
    result = "pass" if c.passed else "FAIL"
    if c.note and not c.passed:
        result += f" ({c.note})"
    return (quantity, "~".join(c.pair), f"{c.max_abs:.2e}", f"{c.max_rel:.2e}",
            str(c.tolerance), result)


# ---------------------------------------------------------------------------- command line


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


#: --batch times --steps above this would need gigabytes per backend: a typo, not a check.
MAX_VALUES = 10_000_000


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be within 0..{2**32 - 1}, not {value}")
    return value


def _seconds(text: str) -> float:
    import math

    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _backend_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # numpy,numpy compares a backend with itself: a PASS that proves nothing
        raise argparse.ArgumentTypeError(f"{', '.join(twice)} named more than once; a check "
                                         "compares distinct backends")
    if len(names) < 2:
        raise argparse.ArgumentTypeError("name at least two distinct backends to compare")
    return names


def add_check_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``seqspec check``."""
    p = subparsers.add_parser(
        "check",
        help="run a spec through every installed backend and compare the numbers",
        description="Compile SPEC for each backend, run each in its own process with the same "
        "random weights and inputs, and compare outputs, final states and gradients against "
        "the NumPy reference and between backends. Exit 1 if anything is outside tolerance.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec file(s)")
    p.add_argument("--backends", type=_backend_list, default=ALL_BACKENDS,
                   help="comma-separated (default: numpy,torch,tensorflow,onnx)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="precision of every backend but onnx (always float32); default float64")
    p.add_argument("--seed", type=_seed, default=0, help="weights, inputs and cotangent seed")
    p.add_argument("--batch", type=_positive, default=3, help="batch size (default 3)")
    p.add_argument("--steps", type=_positive, default=7, help="sequence length (default 7)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    p.add_argument("--verbose", action="store_true", help="one row per state and parameter")
    p.add_argument("--strict", action="store_true", help="a skipped backend fails the check")
    p.add_argument("--jobs", type=_positive, default=1, help="backend processes at once")
    p.add_argument("--timeout", type=_seconds, default=900.0,
                   help="seconds per backend process")
    p.add_argument("--keep", metavar="DIR", help="keep the compiled models and arrays in DIR")
    p.add_argument("--weights", metavar="W.npz",
                   help="check on these canonical weights (the ones that ship) instead of "
                   "random ones; one spec only")
    p.add_argument("--inputs", metavar="X.npz",
                   help="check on these inputs (Model.forward's keyword arguments) instead of "
                   "random ones; one spec only")
    p.set_defaults(func=run_check, handler=lambda args, _parser: run_check(args), subparser=p)
    return p


def run_check(args: argparse.Namespace) -> int:
    """Run ``seqspec check``; 0 when every comparison passed, 1 otherwise."""
    if (args.weights or args.inputs) and len(args.specs) != 1:
        args.subparser.error("--weights and --inputs go with exactly one spec")
    if args.batch * args.steps > MAX_VALUES:
        args.subparser.error(f"--batch {args.batch} x --steps {args.steps} is over "
                             f"{MAX_VALUES:,} steps of input; check needs a small batch")
    if args.keep is not None:
        try:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            args.subparser.error(f"--keep {args.keep}: cannot use it as a folder "
                                 f"({exc.strerror})")
    reports = check(args.specs, tuple(args.backends), args.dtype, args.seed, args.batch,
                    args.steps, args.keep, args.jobs, args.timeout, args.weights, args.inputs)
    ok = all(not r.failures(args.strict) for r in reports)
    if args.format == "json":
        print(json.dumps({"passed": ok, "specs": [r.as_dict(args.strict) for r in reports]},
                         indent=2))
    else:
        print("\n\n".join(format_text(r, args.verbose, args.strict) for r in reports))
        if len(reports) > 1:
            bad = sum(1 for r in reports if r.failures(args.strict))
            print(f"\n{len(reports) - bad} of {len(reports)} specs passed")
    return 0 if ok else 1
