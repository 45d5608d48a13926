"""Jordan layers: always the explicit ``Jordan`` class (torch has no layer that feeds its
output back)."""

from __future__ import annotations

from seqspec import ir

KIND = "jordan"


def fused(layer: ir.Layer) -> str | None:
    return None


def explicit_class(layer: ir.Layer) -> str:
    return "Jordan"


def arguments(layer: ir.Layer, fused: bool) -> list[tuple[str, object]]:
    s = layer.settings
    return [("output_size", s.output_size), ("activation", s.activation),
            ("output_activation", s.output_activation), ("context_decay", s.context_decay)]


def explicit_layout(layer: ir.Layer, add) -> None:
    add("weight_ih", "Wx_h")
    add("weight_yh", "Wy_h")
    if layer.bias:
        add("bias", "b_h")
    add("weight_ho", "Wo")
    if layer.bias:
        add("bias_o", "bo")


def describe(layer: ir.Layer) -> str:
    return f"jordan({layer.hidden_size}, output {layer.settings.output_size})"


def activations(layer: ir.Layer) -> set[str]:
    return {layer.settings.activation, layer.settings.output_activation}
