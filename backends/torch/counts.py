"""How many parameters the generated torch Model has, next to the canonical count.

torch's fused layers (:func:`~seqspec.backends.torch.grouping.fusable`) keep two bias vectors,
``bias_ih`` and ``bias_hh``, one per gate each, because cuDNN adds them separately. The
canonical layout has one bias per gate where the two only ever appear as a sum, so torch counts
more parameters for the same function. Explicit cells hold exactly the canonical parameters.
"""

from __future__ import annotations

from seqspec.backends.torch.grouping import fusable

from seqspec import ir

_REASONS = {
    "elman": "nn.RNN keeps two bias vectors (bias_ih, bias_hh: H each) where the canonical "
             "layout has one b (H)",
    "lstm": "nn.LSTM keeps two bias vectors (bias_ih, bias_hh: 4H each) where the canonical "
            "layout has one b (4H)",
    "gru": "nn.GRU keeps two bias vectors (bias_ih, bias_hh: 3H each) where the canonical "
           "layout has b (3H) and bhn (H)",
}
#: Extra parameters per direction, in units of H.
_EXTRA = {"elman": 1, "lstm": 4, "gru": 2}


def native_parameters(model: ir.Model) -> list[tuple[str, int, str]]:
    """(layer prefix, torch minus canonical, why) for every layer whose count differs."""
    out = []
    for stack in model.stacks:
        for layer in stack.layers:
            if layer.bias and fusable(layer):
                directions = 2 if layer.bidirectional else 1
                extra = _EXTRA[layer.cell] * layer.hidden_size * directions
                out.append((layer.prefix, extra, _REASONS[layer.cell]))
    return out
