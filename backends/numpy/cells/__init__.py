"""The NumPy backend's hook for each cell kind, one module per kind, found by the emitter.

A hook module names its cell kind and says how the generated code runs a layer of it:

    KIND                       the spec's ``cell:`` name (seqspec/cells/<KIND>.py)
    TEMPLATE                   the one template of the kind, rendered with ``cls`` set
    class_name(layer) -> str   the generated class of this layer's variant
    options(layer) -> dict     keyword arguments of that class's constructor, from layer.settings
    reference(layer) -> str    the citation of the variant, for model.py's docstring

Adding a cell kind is a new module here and a new template: no existing file changes.
"""

from __future__ import annotations

from types import ModuleType

from seqspec.registry import discover


def hooks() -> dict[str, ModuleType]:
    """Every hook module of this package, by cell kind."""
    return discover(__name__)
