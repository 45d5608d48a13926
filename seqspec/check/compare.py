"""Comparing two backends' results: outputs, final states and gradients, within tolerance.

Used by ``seqspec check`` and by the property tests. A result is what a runner returns
(docs/generated-api.md): ``{"outputs": {...}, "states": {...}, "grads": {...}}`` of arrays.

Tolerances (rnn-semantics.md section 12; docs/check.md):

* float64 (both sides): every entry within 1e-9 absolute;
* float32 (either side): outputs and states within 1e-5 absolute; each gradient within 1e-4 of
  its largest entry, ``max|a - b| <= 1e-4 * max|g|`` with ``max|g|`` the larger of the two sides'
  (a gradient that is exactly 0 on both sides passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GROUPS = ("outputs", "states", "grads")
F64_ATOL = 1e-9
F32_ATOL = 1e-5
F32_GRAD_RTOL = 1e-4


@dataclass(frozen=True)
class Tolerance:
    """``abs``: max|a-b| <= value; ``rel``: max|a-b| <= value * max(max|a|, max|b|)."""

    kind: str
    value: float

    def __str__(self) -> str:
        text = f"{self.value:.0e}"
        if float(text) != self.value:  # a tolerance scaled to the weights' size
            text = f"{self.value:.2e}"
        return f"{self.kind}<={text}"

    def ratio(self, max_abs: float, scale: float) -> float:
        """Error over allowance: <= 1 passes."""
        allowed = self.value * (scale if self.kind == "rel" else 1.0)
        if allowed == 0.0:
            return 0.0 if max_abs == 0.0 else float("inf")
        return max_abs / allowed


def tolerance(group: str, dtype: str, scale: float = 1.0) -> Tolerance:
    """The tolerance for a quantity of ``group`` compared in ``dtype``.

    ``scale`` (>= 1) widens the absolute tolerances for weights and inputs larger than the
    default-init range (:func:`weight_scale`); relative ones are scale-free already.
    """
    if dtype == "float64":
        return Tolerance("abs", F64_ATOL * scale)
    if group == "grads":
        return Tolerance("rel", F32_GRAD_RTOL)
    return Tolerance("abs", F32_ATOL * scale)


def weight_scale(weights: Mapping[str, Any], inputs: Mapping[str, Any]) -> float:
    """How much larger than the default-init range the given weights and float inputs are.

    ``max(1, max|w|) * max(1, max|x|)`` over every weight and every float input: a sum of
    products ``w * x`` rounds with an error proportional to the size of its terms, so the
    absolute tolerances, set for weights and inputs within [-1, 1] (docs/check.md), grow by
    this factor for trained weights or unnormalised inputs. It is 1 for ``check``'s own
    random weights and inputs.
    """
    def largest(arrays: Any) -> float:
        values = [float(np.max(np.abs(a))) for a in arrays
                  if np.issubdtype(np.asarray(a).dtype, np.floating) and np.size(a)]
        return max([1.0, *values])

    return largest(weights.values()) * largest(inputs.values())


@dataclass
class Comparison:
    """One quantity of one pair of backends."""

    group: str  # outputs | states | grads
    name: str  # outputs: "outputs"; states: the state key; grads: the parameter or input
    pair: tuple[str, str]
    max_abs: float
    max_rel: float  # max|a-b| / max(max|a|, max|b|)
    tolerance: Tolerance
    passed: bool
    note: str = ""
    ratio: float = field(default=0.0, repr=False)  # error / allowance, to find the worst

    @property
    def quantity(self) -> str:
        return self.group if self.group == "outputs" else f"{self.group}[{self.name}]"

    def as_dict(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "group": self.group, "name": self.name,
                "pair": list(self.pair), "max_abs": _json_float(self.max_abs),
                "max_rel": _json_float(self.max_rel), "tolerance": str(self.tolerance),
                "passed": self.passed, "note": self.note}


def _json_float(x: float) -> float | str:
    return x if np.isfinite(x) else str(x)


def compare_arrays(group: str, name: str, pair: tuple[str, str], a: Any, b: Any,
                   dtype: str, scale: float = 1.0) -> Comparison:
    """Compare one quantity; missing sides, shape mismatches and NaN/inf fail."""
    tol = tolerance(group, dtype, scale)
    inf = float("inf")
    if a is None or b is None:
        missing = pair[0] if a is None else pair[1]
        return Comparison(group, name, pair, inf, inf, tol, False, f"missing in {missing}", inf)
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a64.shape != b64.shape:
        return Comparison(group, name, pair, inf, inf, tol, False,
                          f"shape {a64.shape} vs {b64.shape}", inf)
    if not (np.isfinite(a64).all() and np.isfinite(b64).all()):
        return Comparison(group, name, pair, inf, inf, tol, False, "non-finite values", inf)
    if a64.size == 0:
        return Comparison(group, name, pair, 0.0, 0.0, tol, True)
    max_abs = float(np.max(np.abs(a64 - b64)))
    scale = float(max(np.max(np.abs(a64)), np.max(np.abs(b64))))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else inf)
    ratio = tol.ratio(max_abs, scale)
    return Comparison(group, name, pair, max_abs, max_rel, tol, ratio <= 1.0, "", ratio)


def compare_results(pair: tuple[str, str], a: Mapping[str, Mapping[str, Any]],
                    b: Mapping[str, Mapping[str, Any]], dtype: str,
                    gradients: bool = True, scale: float = 1.0) -> list[Comparison]:
    """Every quantity of two runner results: outputs, each state, each gradient (if asked).

    ``scale``: :func:`weight_scale` of the weights and inputs both sides ran on.
    """
    out = []
    for group in GROUPS:
        if group == "grads" and not gradients:
            continue
        ga, gb = a.get(group) or {}, b.get(group) or {}
        for name in sorted(set(ga) | set(gb)):
            out.append(compare_arrays(group, name, pair, ga.get(name), gb.get(name), dtype,
                                      scale))
    return out


def summarize(comparisons: list[Comparison]) -> list[Comparison]:
    """One row per (group, pair): the worst member, failing if any member fails."""
    rows: dict[tuple[str, tuple[str, str]], list[Comparison]] = {}
    for c in comparisons:
        rows.setdefault((c.group, c.pair), []).append(c)
    out = []
    for (group, pair), members in rows.items():
        worst = max(members, key=lambda c: c.ratio)
        failed = [c for c in members if not c.passed]
        note = ""
        if failed:
            note = f"{len(failed)} of {len(members)} outside: " + ", ".join(
                c.name for c in failed[:4]) + (" ..." if len(failed) > 4 else "")
        out.append(Comparison(group, f"worst: {worst.name}" if group != "outputs" else group,
                              pair, max(c.max_abs for c in members),
                              max(c.max_rel for c in members), worst.tolerance, not failed,
                              note, worst.ratio))
    return out
