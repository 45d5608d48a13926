"""IndRNN layers: always the explicit ``IndRNN`` class (torch has no layer with an
elementwise recurrent weight)."""

from __future__ import annotations

from seqspec import ir

KIND = "indrnn"


def fused(layer: ir.Layer) -> str | None:
    return None


def explicit_class(layer: ir.Layer) -> str:
    return "IndRNN"


def arguments(layer: ir.Layer, fused: bool) -> list[tuple[str, object]]:
    return [("activation", layer.settings.activation)]


def explicit_layout(layer: ir.Layer, add) -> None:
    add("weight_ih", "Wx_h")
    add("weight_hh", "u_h")  # a vector (H,): one recurrent weight per unit
    if layer.bias:
        add("bias", "b_h")


def describe(layer: ir.Layer) -> str:
    return f"indrnn {layer.settings.activation}({layer.hidden_size})"


def activations(layer: ir.Layer) -> set[str]:
    return set()  # relu or tanh, called directly
