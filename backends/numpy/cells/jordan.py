"""NumPy hook of the Jordan cell."""

from __future__ import annotations

from typing import Any

KIND = "jordan"
TEMPLATE = "_cell_jordan.py.j2"


def class_name(layer) -> str:
    return "Jordan"


def options(layer) -> dict[str, Any]:
    s = layer.settings
    return {"activation": s.activation, "output_activation": s.output_activation,
            "context_decay": s.context_decay}


def reference(layer) -> str:
    return "M. I. Jordan, Serial order: a parallel distributed processing approach (1986)."
