"""The per-backend worker of ``seqspec check``: ``python -m seqspec.check.worker REQUEST.json``.

``seqspec check`` starts one worker process per backend, so one framework's global settings
(thread pools, TF32, determinism flags, default dtypes) never reach another. The request names
the backend's framework, its runner module and a list of jobs; each job points at a compiled
model folder and the ``.npz`` files of the shared weights, inputs and output cotangent. The
worker writes each job's result as an ``.npz`` (keys ``outputs/<name>``, ``states/<key>``,
``grads/<name>``) and a status JSON next to the request. It never raises: a framework that
cannot be imported makes every job "not installed"; a runner failure is that job's "error".

Self-test hook: ``SEQSPEC_CHECK_CORRUPT=BACKEND:ACTION[:PARAMETER]`` makes the worker of
``BACKEND`` corrupt the canonical weights it hands to the runner, which is what a broken weight
conversion looks like from outside. Actions: ``swap_gates`` (swap the input weights of the first
two gates of the first recurrent layer, or two rows of an Elman/Jordan ``Wx_h``), ``zero:NAME``
(set a parameter to zero, e.g. a GRU's ``bhn``), ``perturb:NAME`` (add 1e-3 to one entry). The
report marks a corrupted backend; the hook exists so tests can prove that ``check`` fails.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

CORRUPT_ENV = "SEQSPEC_CHECK_CORRUPT"


def _load(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def corruption(backend: str) -> str:
    """The corruption requested for ``backend`` by the environment ("" when none)."""
    spec = os.environ.get(CORRUPT_ENV, "")
    name, _, action = spec.partition(":")
    return action if name == backend and action else ""


def corrupt(weights: dict[str, np.ndarray], action: str) -> dict[str, np.ndarray]:
    """A copy of ``weights`` broken as ``action`` says (see the module docstring)."""
    out = {k: np.array(v, copy=True) for k, v in weights.items()}
    kind, _, name = action.partition(":")
    if kind == "swap_gates":
        layer = min((k.rsplit(".", 1)[0] for k in out if ".layers.0.forward.Wx_" in k),
                    default=None)
        if layer is None:
            raise ValueError("swap_gates: the model has no recurrent layer")
        gates = sorted(k for k in out if k.startswith(f"{layer}.Wx_"))
        if len(gates) >= 2:
            a, b = gates[0], gates[1]
            out[a], out[b] = out[b], out[a]
        else:  # one gate (Elman, Jordan): swap two rows, i.e. two hidden units' input weights
            w = out[gates[0]]
            if w.shape[0] < 2:
                raise ValueError("swap_gates: a one-unit layer has nothing to swap")
            w[[0, 1]] = w[[1, 0]]
        return out
    if kind in ("zero", "perturb"):
        if name not in out:
            raise ValueError(f"{kind}: no parameter named {name!r}")
        if kind == "zero":
            out[name] = np.zeros_like(out[name])
        else:
            out[name].reshape(-1)[0] += 1e-3
        return out
    raise ValueError(f"unknown corruption {action!r} (swap_gates, zero:NAME, perturb:NAME)")


def _flatten(result: dict[str, Any]) -> dict[str, np.ndarray]:
    flat = {}
    for group in ("outputs", "states", "grads"):
        for key, value in (result.get(group) or {}).items():
            flat[f"{group}/{key}"] = np.asarray(value)
    return flat


def _run_job(runner: Any, job: dict[str, Any], action: str) -> dict[str, Any]:
    weights = _load(job["weights"])
    if action:
        weights = corrupt(weights, action)
    inputs = _load(job["inputs"])
    d_outputs = _load(job["d_outputs"])["d_outputs"]
    start = time.perf_counter()
    result = runner.run(job["model_dir"], weights, inputs, d_outputs, job["dtype"])
    seconds = time.perf_counter() - start
    np.savez(job["result"], **_flatten(result))
    return {"status": "ok", "seconds": seconds, "corrupted": action}


def main(argv: list[str] | None = None) -> int:
    """Run every job of the request; write the status file; exit 0 unless the request is bad."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seqspec.check.worker REQUEST.json", file=sys.stderr)
        return 2
    request = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    statuses: dict[str, dict[str, Any]] = {}
    try:
        importlib.import_module(request["framework"])
    except ImportError as exc:
        reason = f"not installed ({exc})"
        statuses = {job["id"]: {"status": "skipped", "reason": reason}
                    for job in request["jobs"]}
    else:
        try:
            runner = importlib.import_module(request["runner"])
        except Exception as exc:
            statuses = {job["id"]: {"status": "error",
                                    "reason": f"cannot import {request['runner']}: {exc!r}"}
                        for job in request["jobs"]}
        else:
            action = corruption(request["backend"])
            for job in request["jobs"]:
                try:
                    statuses[job["id"]] = _run_job(runner, job, action)
                except Exception as exc:
                    tail = traceback.format_exc().strip().splitlines()[-8:]
                    statuses[job["id"]] = {"status": "error",
                                           "reason": f"{type(exc).__name__}: {exc}",
                                           "traceback": "\n".join(tail)}
    Path(request["status"]).write_text(json.dumps(statuses, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
