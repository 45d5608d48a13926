"""Cell kinds: one module per kind (``seqspec/cells/<kind>.py``).

Each module holds everything seqspec knows about its cell kind: its spec model (``Spec``), its
typed IR node (``Settings``), gates, states, parameter table, equations and citation, and
feature names. The modules are found by listing this package, so adding a kind is adding a
module (docs/cells.md); nothing else dispatches on the kind.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from seqspec import ir
from seqspec.errors import SpecPath
from seqspec.registry import discover

if TYPE_CHECKING:
    from seqspec.cells.base import CellBase

#: What every cell module defines (tests/spec/test_cells.py holds each module to it).
REQUIRED = ("KIND", "DESCRIPTION", "CITATION", "EQUATIONS", "FEATURES", "GATES", "STATES",
            "Spec", "Settings", "settings", "params", "state_sizes", "step_output_size",
            "features")


#: Every cell kind by the name the spec's ``cell:`` key uses.
# ORDER in a module lists its kind in the order users meet them (schema, error messages)
KINDS: dict[str, ModuleType] = discover(__name__)


def get(kind: str) -> ModuleType:
    """The module of cell kind ``kind``."""
    return KINDS[kind]


def describe(layer: ir.Layer) -> str:
    """``gru(32)``, or what the kind's own ``describe`` says (``jordan(16, output 4)``)."""
    own = getattr(get(layer.cell), "describe", None)
    return own(layer) if own is not None else f"{layer.cell}({layer.hidden_size})"


def check(cell: CellBase, path: SpecPath, error: Callable[[SpecPath, str], None]) -> None:
    """The kind's own checks of a spec cell, when it has any (``error(path, message)``)."""
    own = getattr(get(cell.cell), "check", None)
    if own is not None:
        own(cell, path, error)
