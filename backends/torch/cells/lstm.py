"""LSTM layers: nn.LSTM without peepholes, the explicit ``PeepholeLSTM`` class with them."""

from __future__ import annotations

from seqspec import ir

KIND = "lstm"
FUSED_GATES = ("i", "f", "g", "o")
#: The blocks of bias_hh: "+" marks torch's redundant second bias (see LAYOUT)
FUSED_BIAS_HH = ("+b_i", "+b_f", "+b_g", "+b_o")
FUSED_NOTE = ""  # for the LAYOUT comment
EXTRA_BIAS = (4, "nn.LSTM keeps two bias vectors (bias_ih, bias_hh: 4H each) where the "
                 "canonical layout has one b (4H)")


def fused(layer: ir.Layer) -> str | None:
    return None if layer.settings.peepholes else "nn.LSTM"


def explicit_class(layer: ir.Layer) -> str:
    return "PeepholeLSTM"


def arguments(layer: ir.Layer, fused: bool) -> list[tuple[str, object]]:
    return []


def explicit_layout(layer: ir.Layer, add) -> None:
    add("weight_ih", *(f"Wx_{g}" for g in layer.gates))
    add("weight_hh", *(f"Wh_{g}" for g in layer.gates))
    if layer.bias:
        add("bias", *(f"b_{g}" for g in layer.gates))
    for g in ("i", "f", "o"):
        add(f"p_{g}", f"p_{g}")


def describe(layer: ir.Layer) -> str:
    return f"lstm{' with peepholes' if layer.settings.peepholes else ''}({layer.hidden_size})"


def activations(layer: ir.Layer) -> set[str]:
    return set()
