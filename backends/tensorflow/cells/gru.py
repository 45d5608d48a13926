"""GRU layers run as Keras' fused GRU: ``GRU`` (reset_after, cuDNN's variant) or
``GRUResetBefore`` (reset_after=False)."""

from __future__ import annotations

from seqspec.backends.tensorflow.formatting import lit

from seqspec import ir

KIND = "gru"
TEMPLATE = "_cell_gru.py.j2"

_AFTER = ("Keras GRU(reset_after=True) keeps a (2, 3H) bias, input and recurrent rows, where "
          "the canonical layout has b (3H) and bhn (H)")
_BEFORE = ("Keras GRU(reset_after=False) keeps one (3H) bias: b_n and bhn only appear as a sum "
           "there, so they are one parameter")


def class_name(layer: ir.Layer) -> str:
    return "GRU" if layer.settings.variant == "reset_after" else "GRUResetBefore"


def arguments(layer: ir.Layer, units: str) -> list[str]:
    return [units, f"use_bias={lit(layer.bias)}"]


def references(layer: ir.Layer) -> list[str]:
    return ["Cho et al. (2014), Learning phrase representations using RNN encoder-decoder."]


def native_parameters(layer: ir.Layer) -> tuple[int, str] | None:
    """Keras' biases minus the canonical ones, per direction."""
    if not layer.bias:
        return None
    if layer.settings.variant == "reset_after":
        return 2 * layer.hidden_size, _AFTER
    return -layer.hidden_size, _BEFORE
