"""Elman layers: nn.RNN for tanh and relu, the explicit ``Elman`` class for sigmoid."""

from __future__ import annotations

from seqspec import ir

KIND = "elman"
FUSED_GATES = ("h",)
#: The blocks of bias_hh: "+" marks torch's redundant second bias (see LAYOUT)
FUSED_BIAS_HH = ("+b_h",)
FUSED_NOTE = ""  # for the LAYOUT comment
EXTRA_BIAS = (1, "nn.RNN keeps two bias vectors (bias_ih, bias_hh: H each) where the canonical "
                 "layout has one b (H)")


def fused(layer: ir.Layer) -> str | None:
    return "nn.RNN" if layer.settings.activation in ("tanh", "relu") else None


def explicit_class(layer: ir.Layer) -> str:
    return "Elman"


def arguments(layer: ir.Layer, fused: bool) -> list[tuple[str, object]]:
    return [("nonlinearity", layer.settings.activation)] if fused else []


def explicit_layout(layer: ir.Layer, add) -> None:
    add("weight_ih", "Wx_h")
    add("weight_hh", "Wh_h")
    if layer.bias:
        add("bias", "b_h")


def describe(layer: ir.Layer) -> str:
    return f"elman {layer.settings.activation}({layer.hidden_size})"


def activations(layer: ir.Layer) -> set[str]:
    return set()
