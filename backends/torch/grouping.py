"""How the torch backend runs a stack: which layers share one fused torch module.

Cells torch computes exactly (nn.LSTM without peepholes, the reset-after nn.GRU, tanh / relu
nn.RNN) run on its fused layers; consecutive ones of the same cell, size and direction share
one multi-layer module. The other cells get explicit classes. ``layout`` says how every native
parameter of the generated Model is assembled from canonical ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqspec.backends.torch.cells import hooks
from seqspec.backends.torch.source import pyrepr

from seqspec import ir

#: The hook module of each cell kind (backends/torch/cells/<kind>.py).
HOOKS = hooks()


def fusable(layer: ir.Layer) -> bool:
    """Whether torch has a fused layer computing exactly this cell."""
    return HOOKS[layer.cell].fused(layer) is not None


def _joins(prev: ir.Layer, layer: ir.Layer) -> bool:
    """Whether ``layer`` can be one more layer of the fused module that runs ``prev``.

    A multi-layer nn.LSTM feeds layer k+1 exactly [forward | backward] of layer k, so the
    previous layer must not merge its directions in any other way than concatenation.
    """
    return (
        fusable(prev)
        and fusable(layer)
        and (prev.cell, prev.settings, prev.hidden_size, prev.bias, prev.bidirectional)
        == (layer.cell, layer.settings, layer.hidden_size, layer.bias, layer.bidirectional)
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
    def hook(self):
        """The hook module of the group's cell kind."""
        return HOOKS[self.first.cell]

    @property
    def cls(self) -> str:
        return self.hook.fused(self.first) or self.hook.explicit_class(self.first)

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

    def constructor(self) -> tuple[str, list[str]]:
        """The class and arguments that build the module (numbers and names via ``pyrepr``)."""
        first, s = self.first, self.stack
        args = [self.input_size_expression(), f"CONFIG.{s}_hidden_sizes[{first.index}]"]
        kw: list[tuple[str, Any]] = []
        if self.fused and len(self.layers) > 1:
            kw.append(("num_layers", len(self.layers)))
        kw += self.hook.arguments(first, self.fused)
        if not first.bias:
            kw.append(("bias", False))
        if self.fused:
            kw.append(("batch_first", True))
        if first.bidirectional:
            kw.append(("bidirectional", True))
        args += [f"{k}={pyrepr(v)}" for k, v in kw]
        return self.cls, args

    def input_size_expression(self) -> str:
        """What the group's module reads per step, as the Config field that holds it."""
        first, s = self.first, self.stack
        if self.one_hot:
            return f"CONFIG.{s}_vocab_size"  # a fused layer reads one-hot rows
        if first.index == 0:
            return f"CONFIG.{s}_input_size"
        return f"CONFIG.{s}_output_sizes[{first.index - 1}]"

    def describe(self) -> str:
        """A one-line comment on what the group computes."""
        first = self.first
        cell = self.hook.describe(first)
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
                gates = group.hook.FUSED_GATES
                add(f"weight_ih_l{j}{sfx}", *(f"Wx_{g}" for g in gates))
                add(f"weight_hh_l{j}{sfx}", *(f"Wh_{g}" for g in gates))
                if layer.bias:
                    add(f"bias_ih_l{j}{sfx}", *(f"b_{g}" for g in gates))
                    add(f"bias_hh_l{j}{sfx}", *group.hook.FUSED_BIAS_HH)
            else:  # our own cells keep the canonical gate order

                def add_explicit(native: str, *shorts: str, sfx: str = sfx, add=add) -> None:
                    add(native + sfx, *shorts)

                group.hook.explicit_layout(layer, add_explicit)
    return rows


def groups(stack: ir.Stack) -> list[Group]:
    """Split a stack into the modules that run it, bottom first."""
    out: list[Group] = []
    for layer in stack.layers:
        # With dropout, a module per layer: the masks between layers are the model's own
        # (dropout_masks, as in every backend), where a fused module would draw its own.
        if out and stack.dropout == 0 and _joins(out[-1].last, layer):
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
            gates = group.hook.FUSED_GATES if group.fused else group.first.gates
            if len(gates) > 1:
                note += f", gates {', '.join(gates)}"
            if group.fused:
                note += group.hook.FUSED_NOTE
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
