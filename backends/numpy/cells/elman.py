"""NumPy hook of the Elman cell."""

from __future__ import annotations

from typing import Any

KIND = "elman"
TEMPLATE = "_cell_elman.py.j2"


def class_name(layer) -> str:
    return "Elman"


def options(layer) -> dict[str, Any]:
    return {"activation": layer.settings.activation}


def reference(layer) -> str:
    return "J. L. Elman, Finding structure in time, Cognitive Science 14 (1990)."
