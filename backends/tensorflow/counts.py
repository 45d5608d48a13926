"""How many parameters the generated Keras Model has, next to the canonical count.

Keras keeps some weights in its own shapes (a GRU's biases): the cell kind's hook
(``cells/<kind>.py``) says by how much, and why, in ``native_parameters``. SimpleRNN, LSTM,
dense layers and the custom cells hold exactly the canonical parameters.
"""

from __future__ import annotations

from seqspec.backends.tensorflow import cells

from seqspec import ir


def native_parameters(model: ir.Model) -> list[tuple[str, int, str]]:
    """(layer prefix, Keras minus canonical, why) for every layer whose count differs."""
    out = []
    for stack in model.stacks:
        for layer in stack.layers:
            count = getattr(cells.get(layer.cell), "native_parameters", None)
            differs = count(layer) if count is not None else None
            if differs is not None:
                out.append((layer.prefix, differs[0] * len(layer.directions), differs[1]))
    return out
