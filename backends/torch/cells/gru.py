"""GRU layers: nn.GRU for the reset-after form, the explicit ``GRUResetBefore`` class for the
paper's reset-before form."""

from __future__ import annotations

from seqspec import ir

KIND = "gru"
FUSED_GATES = ("r", "z", "n")  # canonical order is z, r, n
#: The blocks of bias_hh: "+" marks torch's redundant second bias (see LAYOUT)
FUSED_BIAS_HH = ("+b_r", "+b_z", "bhn")
FUSED_NOTE = " (canonical z, r, n); bias_hh holds bhn"  # for the LAYOUT comment
EXTRA_BIAS = (2, "nn.GRU keeps two bias vectors (bias_ih, bias_hh: 3H each) where the "
                 "canonical layout has b (3H) and bhn (H)")


def fused(layer: ir.Layer) -> str | None:
    return "nn.GRU" if layer.settings.variant == "reset_after" else None


def explicit_class(layer: ir.Layer) -> str:
    return "GRUResetBefore"


def arguments(layer: ir.Layer, fused: bool) -> list[tuple[str, object]]:
    return []


def explicit_layout(layer: ir.Layer, add) -> None:
    add("weight_ih", *(f"Wx_{g}" for g in layer.gates))
    add("weight_hh", *(f"Wh_{g}" for g in layer.gates))
    if layer.bias:
        add("bias", *(f"b_{g}" for g in layer.gates))
        add("bias_hn", "bhn")


def describe(layer: ir.Layer) -> str:
    return f"gru {layer.settings.variant}({layer.hidden_size})"


def activations(layer: ir.Layer) -> set[str]:
    return set()
