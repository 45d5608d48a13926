"""How the torch backend runs a stack: which layers share one fused torch module.

Cells torch computes exactly (nn.LSTM without peepholes, the reset-after nn.GRU, tanh / relu
nn.RNN) run on its fused layers; consecutive ones of the same cell, size and direction share
one multi-layer module. The other cells get explicit classes. ``layout`` says how every native
parameter of the generated Model is assembled from canonical ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqspec.backends.torch.source import pyrepr

from seqspec import ir

#: torch's fused layer for each cell kind it can run exactly.
FUSED = {"lstm": "nn.LSTM", "gru": "nn.GRU", "elman": "nn.RNN"}

#: Explicit cell classes of the generated file, in the order they are emitted.
EXPLICIT = ("PeepholeLSTM", "ResetBeforeGRU", "SigmoidRNN", "Jordan")

#: Gate order of torch's fused layers (canonical GRU order is z, r, n; torch's is r, z, n).
TORCH_GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "elman": ("h",)}


def fusable(layer: ir.Layer) -> bool:
    """Whether torch has a fused layer computing exactly this cell."""
    if layer.cell == "lstm":
        return not layer.peepholes
    if layer.cell == "gru":
        return layer.gru_variant == "reset_after"
    if layer.cell == "elman":
        return layer.activation in ("tanh", "relu")
    return False


def explicit_class(layer: ir.Layer) -> str:
    """The generated class that runs a layer torch has no fused layer for."""
    if layer.cell == "lstm":
        return "PeepholeLSTM"
    if layer.cell == "gru":
        return "ResetBeforeGRU"
    if layer.cell == "elman":
        return "SigmoidRNN"
    return "Jordan"


def _joins(prev: ir.Layer, layer: ir.Layer) -> bool:
    """Whether ``layer`` can be one more layer of the fused module that runs ``prev``.

    A multi-layer nn.LSTM feeds layer k+1 exactly [forward | backward] of layer k, so the
    previous layer must not merge its directions in any other way than concatenation.
    """
    return (
        fusable(prev)
        and fusable(layer)
        and (prev.cell, prev.hidden_size, prev.bias, prev.bidirectional, prev.activation)
        == (layer.cell, layer.hidden_size, layer.bias, layer.bidirectional, layer.activation)
        and (not prev.bidirectional or prev.merge_mode == "concat")
        and layer.input_size == prev.output_size
    )


@dataclass
class Group:
    """Consecutive layers run by one module of the generated ``ModuleList``."""

    stack: str
    index: int
    layers: list[ir.Layer]
    one_hot: bool  # the group reads one-hot tokens
    vocab_size: int = 0
    native: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def first(self) -> ir.Layer:
        return self.layers[0]

    @property
    def last(self) -> ir.Layer:
        return self.layers[-1]

    @property
    def fused(self) -> bool:
        return fusable(self.first)

    @property
    def cls(self) -> str:
        return FUSED[self.first.cell] if self.fused else explicit_class(self.first)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Layer-direction prefixes in torch's h_n order (layer * D + direction)."""
        return tuple(d.prefix for layer in self.layers for d in layer.directions)

    @property
    def parts(self) -> tuple[str, ...]:
        return self.first.state_names

    @property
    def merge(self) -> str:
        """How the top layer's directions merge, when not simply concatenated."""
        last = self.last
        return last.merge_mode if last.bidirectional and last.merge_mode != "concat" else ""

    @property
    def span(self) -> str:
        ks = [layer.index for layer in self.layers]
        return f"layer {ks[0]}" if len(ks) == 1 else f"layers {ks[0]}-{ks[-1]}"

    @property
    def step_size(self) -> int:
        """Per-step width of what the group emits before merging directions."""
        return self.last.step_output_size * len(self.last.directions)

    @property
    def state_shapes(self) -> str:
        n = len(self.layers) * len(self.first.directions)
        return ", ".join(f"({n}, B, {s})" for s in self.first.state_sizes)

    def constructor(self, dropout: float) -> tuple[str, list[str]]:
        """The class and arguments that build the module (numbers and names via ``pyrepr``)."""
        first = self.first
        size = self.vocab_size if self.one_hot else first.input_size
        args = [pyrepr(size), pyrepr(first.hidden_size)]
        if first.cell == "jordan":
            args.append(pyrepr(first.step_output_size))
        kw: list[tuple[str, Any]] = []
        if self.fused:
            if len(self.layers) > 1:
                kw.append(("num_layers", len(self.layers)))
            if first.cell == "elman":
                kw.append(("nonlinearity", first.activation))
            if not first.bias:
                kw.append(("bias", False))
            kw.append(("batch_first", True))
            if len(self.layers) > 1 and dropout > 0:
                kw.append(("dropout", dropout))
        else:
            if first.cell == "jordan":
                kw += [
                    ("activation", first.activation),
                    ("output_activation", first.output_activation),
                    ("context_decay", first.context_decay),
                ]
            if not first.bias:
                kw.append(("bias", False))
        if first.bidirectional:
            kw.append(("bidirectional", True))
        args += [f"{k}={pyrepr(v)}" for k, v in kw]
        return self.cls, args

    def describe(self) -> str:
        """A one-line comment on what the group computes."""
        first = self.first
        if first.cell == "jordan":
            cell = f"jordan({first.hidden_size}, output {first.step_output_size})"
        elif first.cell == "elman":
            cell = f"elman {first.activation}({first.hidden_size})"
        elif first.cell == "gru":
            cell = f"gru {first.gru_variant}({first.hidden_size})"
        else:
            cell = f"lstm{' with peepholes' if first.peepholes else ''}({first.hidden_size})"
        n = len(self.layers)
        text = f"{self.span}: {cell}{f' x {n}' if n > 1 else ''}"
        if first.bidirectional:
            text += f", bidirectional ({self.last.merge_mode})"
        if not self.fused:
            return f"{text} -> {self.cls}, an explicit cell"
        if n > 1:
            return f"{text} -> one {self.cls} of {n} layers (one cuDNN call)"
        return f"{text} -> {self.cls} (cuDNN on a GPU)"


def _blocks(direction: ir.Direction, names: tuple[str, ...]) -> tuple[str, ...]:
    """Canonical names for short names; a leading '+' marks torch's redundant second bias."""
    out = []
    for short in names:
        plus = short.startswith("+")
        full = direction.param(short.lstrip("+")).name
        out.append(f"+{full}" if plus else full)
    return tuple(out)


def _group_layout(group: Group) -> list[tuple[str, tuple[str, ...]]]:
    """native parameter name (within the Model) -> canonical blocks stacked on dim 0."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for j, layer in enumerate(group.layers):
        for direction in layer.directions:
            sfx = "_reverse" if direction.name == "backward" else ""

            def add(native: str, *shorts: str, d: ir.Direction = direction) -> None:
                rows.append((f"{group.stack}.{group.index}.{native}", _blocks(d, shorts)))

            if group.fused:  # torch's names and gate order, torch's two biases
                gates, cell = TORCH_GATES[layer.cell], layer.cell
                add(f"weight_ih_l{j}{sfx}", *(f"Wx_{g}" for g in gates))
                add(f"weight_hh_l{j}{sfx}", *(f"Wh_{g}" for g in gates))
                if layer.bias:
                    add(f"bias_ih_l{j}{sfx}", *(f"b_{g}" for g in gates))
                    add(f"bias_hh_l{j}{sfx}",
                        *("bhn" if (cell, g) == ("gru", "n") else f"+b_{g}" for g in gates))
            elif layer.cell == "jordan":
                add(f"weight_ih{sfx}", "Wx_h")
                add(f"weight_yh{sfx}", "Wy_h")
                if layer.bias:
                    add(f"bias{sfx}", "b_h")
                add(f"weight_ho{sfx}", "Wo")
                if layer.bias:
                    add(f"bias_o{sfx}", "bo")
            else:  # our own cells keep the canonical gate order
                add(f"weight_ih{sfx}", *(f"Wx_{g}" for g in layer.gates))
                add(f"weight_hh{sfx}", *(f"Wh_{g}" for g in layer.gates))
                if layer.bias:
                    add(f"bias{sfx}", *(f"b_{g}" for g in layer.gates))
                    if layer.cell == "gru":
                        add(f"bias_hn{sfx}", "bhn")
                if layer.cell == "lstm":
                    for g in ("i", "f", "o"):
                        add(f"p_{g}{sfx}", f"p_{g}")
    return rows


def groups(stack: ir.Stack) -> list[Group]:
    """Split a stack into the modules that run it, bottom first."""
    out: list[Group] = []
    for layer in stack.layers:
        if out and _joins(out[-1].last, layer):
            out[-1].layers.append(layer)
            continue
        one_hot = layer.index == 0 and stack.input.encoding == "one_hot"
        out.append(Group(stack.name, len(out), [layer], one_hot, stack.input.vocab_size))
    for group in out:
        group.native = _group_layout(group)
    return out


def layout(model: ir.Model,
           stack_groups: dict[str, list[Group]]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(comment, native name, canonical blocks) for every native parameter of the Model."""
    rows: list[tuple[str, str, tuple[str, ...]]] = []
    for stack in model.stacks:
        if stack.input.encoding == "embedding":
            rows.append(("", f"{stack.name}_embedding.weight", (f"{stack.name}.embedding",)))
        for group in stack_groups[stack.name]:
            note = f"{stack.name} {group.span}: {group.cls}"
            if group.fused and group.first.cell == "gru":
                note += ", gates r, z, n (canonical z, r, n); bias_hh holds bhn"
            elif group.fused and group.first.cell == "lstm":
                note += ", gates i, f, g, o"
            elif not group.fused and group.first.cell != "jordan":
                note += f", gates {', '.join(group.first.gates)}"
            for i, (name, blocks) in enumerate(group.native):
                rows.append((note if i == 0 else "", name, blocks))
    if model.bridge is not None:
        for p in model.bridge.params:
            k = p.name.split(".")[2]
            rows.append(("", f"bridge.{k}.{'weight' if p.name.endswith('.W') else 'bias'}",
                         (p.name,)))
    if model.head is not None:
        rows.append(("", "head.weight", ("head.W",)))
        if model.head.bias:
            rows.append(("", "head.bias", ("head.b",)))
    if model.ar is not None:
        for p in model.ar.params:
            if p.name.startswith("mlp."):
                k = p.name.split(".")[2]
                native = f"mlp.{k}.{'weight' if p.name.endswith('.W') else 'bias'}"
            else:
                native = p.name.split(".")[1]
            rows.append(("", native, (p.name,)))
    covered = sorted(b.lstrip("+") for _, _, blocks in rows for b in blocks if b[0] != "+")
    expected = sorted(p.name for p in model.params)
    if covered != expected:  # every canonical parameter is exactly one '=' block
        raise AssertionError(f"torch layout does not cover the parameters: {covered} != {expected}")
    return rows
