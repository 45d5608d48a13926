"""How many parameters the generated torch Model has, next to the canonical count.

torch's fused layers (:func:`~seqspec.backends.torch.grouping.fusable`) keep two bias vectors,
``bias_ih`` and ``bias_hh``, one per gate each, because cuDNN adds them separately. The
canonical layout has one bias per gate where the two only ever appear as a sum, so torch counts
more parameters for the same function. Explicit cells hold exactly the canonical parameters.
"""

from __future__ import annotations

from seqspec.backends.torch.grouping import HOOKS, fusable

from seqspec import ir


def native_parameters(model: ir.Model) -> list[tuple[str, int, str]]:
    """(layer prefix, torch minus canonical, why) for every layer whose count differs."""
    out = []
    for stack in model.stacks:
        for layer in stack.layers:
            if layer.bias and fusable(layer):
                directions = 2 if layer.bidirectional else 1
                units, why = HOOKS[layer.cell].EXTRA_BIAS  # H-sized blocks torch adds
                out.append((layer.prefix, units * layer.hidden_size * directions, why))
    return out
