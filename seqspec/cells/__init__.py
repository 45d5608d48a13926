"""Cell kinds: one module per kind (``seqspec/cells/<kind>.py``).

Each module holds everything seqspec knows about its cell kind: its typed IR node
(``Settings``), gates, states, parameter table, equations and citation, and feature names.
Backends read a cell's module; nothing else dispatches on the kind.
"""

from __future__ import annotations

from types import ModuleType

from seqspec.cells import elman, gru, jordan, lstm

#: Every cell kind by the name the spec's ``cell:`` key uses.
KINDS: dict[str, ModuleType] = {m.KIND: m for m in (elman, jordan, lstm, gru)}


def get(kind: str) -> ModuleType:
    """The module of cell kind ``kind``."""
    return KINDS[kind]
