"""How the Keras backend runs each cell kind: one small hook module per kind, found here.

Each module ``<kind>.py`` names its ``KIND`` (a key of :data:`seqspec.cells.KINDS`), its
``TEMPLATE`` (``_cell_<kind>.py.j2``, which renders the classes in ``classes``), and:

* ``class_name(layer) -> str``: the generated class that runs one direction of ``layer``;
* ``arguments(layer, units) -> list[str]``: that class's constructor arguments before
  ``dtype`` and ``name``, as Python source (``units``: the expression of the hidden size);
* ``references(layer) -> list[str]``: the papers to cite in model.py's header;
* optionally ``native_parameters(layer) -> (Keras minus canonical per direction, why) | None``.

The generated class is a Keras layer run over (B, T, I) as
``layer(x, mask=..., initial_state=..., training=...) -> [outputs, *final states]`` (what
``keras.layers.RNN(..., return_sequences=True, return_state=True)`` returns), with static
``to_keras(weights, prefix)`` and ``from_keras(values, prefix, gradients=False)`` between
seqspec's canonical layout and its ``layer.weights``. Adding a cell kind adds a module here and
its template; nothing else in the backend changes.
"""

from __future__ import annotations

from types import ModuleType

from seqspec.registry import discover

#: Every hook by the cell kind it runs.
HOOKS: dict[str, ModuleType] = discover(__name__)


def get(kind: str) -> ModuleType:
    """The hook of cell kind ``kind``."""
    return HOOKS[kind]
