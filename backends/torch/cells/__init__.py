"""One hook module per cell kind: how the torch backend runs a layer of that kind.

Each module names its ``KIND`` (a key of :mod:`seqspec.cells`) and answers, for one layer:
``fused(layer)`` the torch layer that computes it exactly (``"nn.LSTM"``) or None,
``explicit_class(layer)`` the generated class otherwise (from ``_cell_<kind>.py.j2``),
``arguments(layer, fused)`` the constructor's keyword arguments beyond sizes, bias and
direction, ``explicit_layout(layer, add)`` the explicit class's native parameters,
``describe(layer)`` a short comment and ``activations(layer)`` the nonlinearities the
explicit class looks up by name. Fused layers also give ``FUSED_GATES`` (torch's gate order)
and ``EXTRA_BIAS`` (how many H-sized bias blocks torch keeps beyond the canonical ones, why).
Adding a cell kind is adding a module here and its template: :func:`hooks` finds it.
"""

from __future__ import annotations

from types import ModuleType

from seqspec.registry import discover


def hooks() -> dict[str, ModuleType]:
    """Every hook module of this package, by cell kind."""
    return discover(__name__)
