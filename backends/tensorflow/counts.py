"""How many parameters the generated Keras Model has, next to the canonical count.

Keras' GRU keeps its biases in its own shapes: with ``reset_after=True`` (cuDNN's variant) a
(2, 3H) bias, an input and a recurrent row, where the canonical layout has b (3H) and bhn (H);
with ``reset_after=False`` one (3H) bias, because b_n and bhn are added outside the product
with r and are therefore one parameter (the converter folds them). SimpleRNN, LSTM, dense
layers and the custom cells hold exactly the canonical parameters.
"""

from __future__ import annotations

from seqspec import ir

_AFTER = ("Keras GRU(reset_after=True) keeps a (2, 3H) bias, input and recurrent rows, where "
          "the canonical layout has b (3H) and bhn (H)")
_BEFORE = ("Keras GRU(reset_after=False) keeps one (3H) bias: b_n and bhn only appear as a sum "
           "there, so they are one parameter")


def native_parameters(model: ir.Model) -> list[tuple[str, int, str]]:
    """(layer prefix, Keras minus canonical, why) for every layer whose count differs."""
    out = []
    for stack in model.stacks:
        for layer in stack.layers:
            if layer.cell != "gru" or not layer.bias:
                continue
            directions = 2 if layer.bidirectional else 1
            if layer.gru_variant == "reset_after":
                out.append((layer.prefix, 2 * layer.hidden_size * directions, _AFTER))
            else:
                out.append((layer.prefix, -layer.hidden_size * directions, _BEFORE))
    return out
