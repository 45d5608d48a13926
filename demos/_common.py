"""What every demo shares: compile a spec, run its generated train.py, record machine and time.

A demo is one command (``python demos/<name>.py``) that makes its data, compiles its specs from
``examples/demos/`` with the seqspec CLI exactly as a user would, trains them with the generated
``train.py`` and writes what it measured to ``docs/results/<name>.md`` (a table),
``docs/results/<name>.json`` (the numbers) and PNG plots next to them. ``--quick`` is the
reduced version CI runs: smaller data and budgets, results in the run folder only, and the
direction of each result still visible (``tests/demos/``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "examples" / "demos"
DATA = SPECS / "data"  # made by the demos (gitignored): nothing is downloaded
RESULTS = ROOT / "docs" / "results"


@dataclass
class Demo:
    """A demo's command line, resolved: where it runs, how big it is, where results go."""

    name: str
    quick: bool
    backend: str
    out: Path  # compiled code and training runs
    results: Path  # the .md / .json / .png the demo writes
    options: list[str] = field(default_factory=list)  # the command line, but --out / --results
    stem: str = ""  # the results' file names, when not the demo's name (a variant's own results)
    started: float = field(default_factory=time.perf_counter)

    def spec(self, stem: str) -> Path:
        return SPECS / f"{stem}.yaml"

    def compile(self, stem: str, backend: str | None = None, spec: Path | None = None) -> Path:
        """``seqspec compile examples/demos/STEM.yaml --backend B -o OUT/code/STEM-B`` (spec:
        another spec file to compile instead)."""
        backend = backend or self.backend
        folder = self.out / "code" / f"{stem}-{backend}"
        run([sys.executable, "-m", "seqspec", "compile", str(spec or self.spec(stem)),
             "--backend", backend, "-o", str(folder)])
        return folder

    def train(self, code: Path, run_name: str, *args: str) -> dict:
        """Run ``CODE/train.py --out OUT/runs/RUN_NAME ARGS``; its final.json, plus history.

        The returned dict holds final.json's metrics, ``history`` (metrics.jsonl's records),
        ``seconds`` (wall time of the run) and ``out`` (the run folder).
        """
        out = self.out / "runs" / run_name
        if "--resume" not in args:  # a demo run again replaces its own earlier run
            args = ("--overwrite", *args)
        start = time.perf_counter()
        run([sys.executable, str(code / "train.py"), "--out", str(out), "--no-progress", *args])
        result = json.loads((out / "final.json").read_text(encoding="utf-8"))
        result["seconds"] = round(time.perf_counter() - start, 1)
        result["history"] = read_jsonl(out / "metrics.jsonl")
        result["out"] = str(out)
        return result

    def sample(self, code: Path, run_name: str, *args: str) -> str:
        """The text ``train.py --sample ...`` generates from a run's latest weights."""
        out = self.out / "runs" / run_name
        proc = run([sys.executable, str(code / "train.py"), "--out", str(out), *args],
                   capture=True)
        return proc.stdout

    @property
    def command(self) -> str:
        """The command that reproduces this run (its folders aside)."""
        return shlex.join(["python", f"demos/{self.name}.py", *self.options])

    def finish(self, markdown: str, numbers: dict) -> None:
        """Write RESULTS/NAME.md (with machine, time and the command) and RESULTS/NAME.json."""
        command = self.command
        minutes = (time.perf_counter() - self.started) / 60
        info = machine()
        footer = (
            f"\nReproduce: `{command}` ({minutes:.1f} min on {info['cpu']}, "
            f"{info['cores']} cores, {info['date']}; {info['software']}).\n"
        )
        self.results.mkdir(parents=True, exist_ok=True)
        stem = self.stem or self.name
        (self.results / f"{stem}.md").write_text(markdown.rstrip("\n") + "\n" + footer,
                                                 encoding="utf-8")
        record = {"demo": self.name, "quick": self.quick, "minutes": round(minutes, 2),
                  "machine": info, **numbers}
        (self.results / f"{stem}.json").write_text(
            json.dumps(record, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
        print(f"{self.name}: {minutes:.1f} min; results in {self.results}/{stem}.md")
        if self.results == RESULTS.resolve():
            write_results_page()

    def png(self, stem: str) -> Path:
        """Where a plot goes: RESULTS/STEM.png."""
        self.results.mkdir(parents=True, exist_ok=True)
        return self.results / f"{stem}.png"


def parse(name: str, description: str, argv: list[str] | None = None,
          backend: str = "torch", extra=None) -> tuple[Demo, argparse.Namespace]:
    """The command line every demo takes; ``extra(parser)`` adds a demo's own options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="the reduced CI version: small data and budgets; results stay in --out")
    p.add_argument("--backend", default=backend, choices=["numpy", "torch", "tensorflow"],
                   help="the backend that trains the models (default: %(default)s)")
    p.add_argument("--out", default=None,
                   help="folder for compiled code and runs (default: runs/demos/NAME)")
    p.add_argument("--results", default=None,
                   help="folder for the .md/.json/.png results (default: docs/results, or "
                        "OUT/results with --quick)")
    if extra is not None:
        extra(p)
    argv = sys.argv[1:] if argv is None else argv
    args = p.parse_args(argv)
    out = Path(args.out) if args.out else ROOT / "runs" / "demos" / name
    default_results = out / "results" if args.quick else RESULTS  # quick runs stay out of docs
    results = Path(args.results) if args.results else default_results
    demo = Demo(name=name, quick=args.quick, backend=args.backend, out=out.resolve(),
                results=results.resolve(), options=_without_folders(argv))
    return demo, args


def _without_folders(argv: list[str]) -> list[str]:
    """argv without --out / --results and their values: where a run writes is not what it is."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--out", "--results"):
            skip = True
        elif not arg.startswith(("--out=", "--results=")):
            kept.append(arg)
    return kept


def pyplot():
    """matplotlib.pyplot drawing to files (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


ORDER = ["char_lm", "adding", "sunspots", "digits", "digits_spell"]  # char_lm: also generation
PAGE_HEADER = """\
# Results: what the generated models learn

Every number on this page was measured by a demo: one command that makes its data (nothing is
downloaded), compiles specs from `examples/demos/` with `seqspec compile`, trains them with the
generated `train.py` and writes its section below (`docs/results/<name>.md`, with the numbers in
`<name>.json`); the page is rebuilt from those sections after each demo (or by
`python demos/report.py`). CI runs each demo's reduced version (`--quick`, `pytest -m demo`) and
asserts the direction of its result.
"""


def write_results_page() -> Path:
    """docs/results.md: the demos' sections in ORDER, and the commands of those not run yet."""
    def natural(name):  # adding_T500 before adding_T1000
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]

    extra = sorted((p.stem for p in RESULTS.glob("*.md") if p.stem not in ORDER), key=natural)
    names = []
    for name in ORDER:  # a demo's other runs (adding_T500, char_lm_stateful) follow its own
        names += [name, *(e for e in extra if e.startswith(f"{name}_"))]
    names += [e for e in extra if e not in names]
    parts, missing = [PAGE_HEADER], []
    for name in names:
        section = RESULTS / f"{name}.md"
        if section.exists():
            # sections link their plots as ./name.png; the page lives one folder up
            parts.append(section.read_text(encoding="utf-8").replace("](./", "](results/"))
        else:
            missing.append(f"`python demos/{name}.py`")
    if missing:
        parts.append("Not run yet: " + ", ".join(missing) + ".\n")
    page = ROOT / "docs" / "results.md"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page


def run(argv: list[str], capture: bool = False) -> subprocess.CompletedProcess:
    """Run a command, echoing it; stop the demo with its output when it fails."""
    print("$ " + shlex.join(str(a) for a in argv), flush=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(argv, text=True, capture_output=capture, env=env, cwd=ROOT)
    if proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"failed with status {proc.returncode}: {shlex.join(argv)}")
    return proc


def load_generated(code: Path, stem: str = "model"):
    """Import a compiled folder's ``model.py`` or ``train.py`` as a module of its own name.

    Each folder gets its own module, so several compiled models live side by side.
    ``train.py`` does ``from model import ...``: while it loads, its folder goes first on
    sys.path and any other folder's ``model`` module is set aside.
    """
    import hashlib
    import importlib.util

    folder = hashlib.sha1(str(code.resolve()).encode("utf-8")).hexdigest()[:12]
    name = f"seqspec_{folder}_{stem}"  # one module per folder and file, wherever it lives
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, code / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    other_model = sys.modules.pop("model", None)
    sys.path.insert(0, str(code))
    try:
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("model", None)
        if other_model is not None:
            sys.modules["model"] = other_model
    return module


def split_test_indices(code: Path, n: int, seed: int):
    """The test part of n samples exactly as the generated train.py splits them (its own
    ``split_indices``, a seeded shuffle), so a demo scores baselines on the models' test set."""
    train = load_generated(code, "train")
    runtime = sys.modules[train.run_train.__module__]  # <backend>_train_runtime
    return runtime.split_indices(n, seed, train.TASK)[2]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def machine() -> dict:
    """The CPU, core count, date and library versions, for the results' footers."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = []
    for package in ("numpy", "torch", "tensorflow-cpu", "tensorflow", "scikit-learn",
                    "statsmodels"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    software = f"Python {platform.python_version()}, " + ", ".join(versions)
    return {"cpu": cpu, "cores": os.cpu_count(), "date": datetime.date.today().isoformat(),
            "software": software}


def table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table; floats as given (format them before)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
