"""NumPy hook of the GRU cell: GRU (reset after, as cuDNN) or GRUResetBefore (Cho et al.)."""

from __future__ import annotations

from typing import Any

KIND = "gru"
TEMPLATE = "_cell_gru.py.j2"


def class_name(layer) -> str:
    return "GRU" if layer.settings.variant == "reset_after" else "GRUResetBefore"


def options(layer) -> dict[str, Any]:
    return {}


def reference(layer) -> str:
    return "K. Cho et al., Learning phrase representations using RNN encoder-decoder (2014)."
