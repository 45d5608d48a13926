"""Whole-process wall time of ``seqspec validate``: one spec, and 100 specs in one call.

Usage::

    python benchmarks/validate_startup.py [--runs 7] [--check]

Each measurement starts a fresh process (what pre-commit and editors do) and reports the median
of ``--runs`` runs. For context it also times a bare ``python -c pass`` and, in-process, the
import of the validation path and the check of one spec. ``--check`` exits 1 when one spec takes
longer than the target (0.3 s on the development machine; slower machines will differ).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
TARGET_ONE_SPEC_S = 0.3


def command() -> list[str]:
    """The installed console script next to this Python, else ``python -m seqspec``."""
    script = Path(sys.executable).with_name("seqspec")
    return [str(script)] if script.exists() else [sys.executable, "-m", "seqspec"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(args: list[str], runs: int, cwd: Path) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``args`` over ``runs`` fresh processes, after a warm-up.

    CPU time (user + system of the child) hardly changes when other work loads the machine;
    wall time does, so both are reported.
    """
    subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu0)
        if proc.returncode != 0:
            raise SystemExit(f"{args[:3]}... failed:\n{proc.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def in_process() -> tuple[float, float, float]:
    """(import of seqspec.api, first spec, second spec) in a fresh interpreter, in seconds."""
    code = (
        "import time; t0 = time.perf_counter(); import seqspec.api as a; "
        "t1 = time.perf_counter(); a.load({0!r}); t2 = time.perf_counter(); a.load({0!r}); "
        "t3 = time.perf_counter(); print(t1 - t0, t2 - t1, t3 - t2)"
    ).format(str(ROOT / "examples" / "elman_lm.yaml"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    imp, first, second = (float(x) for x in out)
    return imp, first, second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument("--check", action="store_true", help="exit 1 above the target")
    args = parser.parse_args()

    cmd = command()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs = []
        for i in range(100):
            target = folder / f"spec_{i:03d}.yaml"
            shutil.copy2(EXAMPLES[i % len(EXAMPLES)], target)
            specs.append(target.name)
        bare = wall([sys.executable, "-c", "pass"], args.runs, folder)
        one = wall([*cmd, "validate", "-q", specs[0]], args.runs, folder)
        hundred = wall([*cmd, "validate", "-q", *specs], args.runs, folder)

    imports = [in_process() for _ in range(args.runs)]
    imp = statistics.median(x[0] for x in imports)
    first = statistics.median(x[1] for x in imports)
    second = statistics.median(x[2] for x in imports)

    print(f"command: {' '.join(Path(c).name for c in cmd)} validate -q ... "
          f"(median of {args.runs} fresh processes)")
    print(f"  {'':30} {'wall':>7} {'CPU':>7}")
    print(f"  {'python -c pass':30} {bare[0]:6.3f}s {bare[1]:6.3f}s  (interpreter start-up)")
    print(f"  {'validate 1 spec':30} {one[0]:6.3f}s {one[1]:6.3f}s  "
          f"(target <= {TARGET_ONE_SPEC_S} s wall)")
    print(f"  {'validate 100 specs':30} {hundred[0]:6.3f}s {hundred[1]:6.3f}s  "
          f"({(hundred[0] - one[0]) / 99 * 1000:.1f} ms wall per extra spec)")
    print("in one process:")
    print(f"  import seqspec.api             {imp:6.3f} s   (pydantic, PyYAML, the spec models)")
    print(f"  first spec (builds validators) {first:6.3f} s")
    print(f"  next spec                      {second:6.3f} s")
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs (a busy machine inflates wall time)")
    met = one[0] <= TARGET_ONE_SPEC_S
    print(f"target {'met' if met else 'MISSED'}: {one[0]:.3f} s wall for one spec")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
