"""How each cell kind is exported to ONNX: one module per kind (``cells/<kind>.py``).

Each module defines ``layer(g, w, layer, x, seq, init)``, which adds one layer (both
directions) to the graph and returns the per-direction step outputs (T, B, size), zero past
each sequence's length, and the final states by their key (``<prefix>.<state>``); a kind that
maps onto a standard operator also names that operator's gate order (``ONNX_GATES``). The
modules are found by listing this package (each names its ``KIND``): adding a kind is adding
a module.
"""

from __future__ import annotations

from types import ModuleType

from seqspec.registry import discover, module_names

#: The cell kinds that have an exporter; listing names imports nothing (onnx loads on export).
KINDS = frozenset(module_names(__name__))


def get(kind: str) -> ModuleType:
    """The exporter module of cell kind ``kind`` (``KeyError`` if it has none)."""
    if kind not in KINDS:
        raise KeyError(kind)
    return discover(__name__)[kind]
