"""Render the PyTorch ``model.py`` from the normalized model.

Every decision is taken in Python, from the IR: which layers become one fused ``nn.LSTM`` /
``nn.GRU`` / ``nn.RNN`` (cuDNN on GPU, oneDNN or ATen's native loop on CPU) and which need an
explicit cell, how each native parameter is assembled from canonical ones (``LAYOUT``; both in
:mod:`.grouping`), which final-state keys each layer group reads and writes. Templates only
loop and branch over these values; spec text reaches them only through the filters of
:mod:`seqspec.render`.
"""

from __future__ import annotations

import textwrap
from typing import Any

from seqspec.backends.torch.grouping import EXPLICIT, groups, layout
from seqspec.backends.torch.source import comment_block, literal_tuple, wrapped

from seqspec import ir
from seqspec.generated import config_fields
from seqspec.render import docstring, environment
from seqspec.training import render_train

#: Every feature :mod:`seqspec.lower` can report; the torch backend supports all of them.
FEATURES = frozenset(
    {
        # schemes
        "many_to_many", "many_to_one", "one_to_many", "seq2seq", "ar_linear", "ar_mlp",
        # cells and their variants
        "elman", "jordan", "lstm", "lstm_peepholes", "gru", "gru_reset_after", "gru_reset_before",
        # inputs
        "features", "embedding", "one_hot", "vector", "variable_length",
        # topology
        "bidirectional", "dropout",
        # heads, pooling, bridges
        "softmax", "regression", "pooling_last", "pooling_mean", "pooling_max",
        "bridge_copy", "bridge_dense",
    }
)


def _wrap(text: str) -> list[str]:
    """Spec text for the module docstring: escaped by the ``docstring`` filter, then wrapped."""
    lines: list[str] = []
    for paragraph in docstring(text).split("\n"):
        lines += textwrap.wrap(paragraph, width=92, break_long_words=False,
                               break_on_hyphens=False) or [""]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _activations(model: ir.Model) -> list[str]:
    """Nonlinearities the generated ACTIVATIONS table needs (bridge, AR network, Jordan)."""
    used: set[str] = set()
    for stack in model.stacks:
        for layer in stack.layers:
            if layer.cell == "jordan":
                used.update((layer.activation, layer.output_activation))
    if model.bridge is not None and model.bridge.kind == "dense":
        used.add(model.bridge.activation)
    if model.ar is not None and model.ar.kind == "mlp":
        used.add(model.ar.activation)
    return [a for a in ("tanh", "sigmoid", "relu", "linear") if a in used]


def _top_keys(stack: ir.Stack) -> tuple[str, ...]:
    """Final-state keys holding the top layer's last output, per direction (for pooling 'last')."""
    top = stack.layers[-1]
    part = "y" if top.cell == "jordan" else "h"
    return tuple(f"{d.prefix}.{part}" for d in top.directions)


def context(model: ir.Model) -> dict[str, Any]:
    """Everything the templates read."""
    stack_groups = {s.name: groups(s) for s in model.stacks}
    all_groups = [g for gs in stack_groups.values() for g in gs]
    explicit = [c for c in EXPLICIT if any(not g.fused and g.cls == c for g in all_groups)]
    stacks = list(model.stacks)
    variable = [s for s in stacks if s.input.variable_length]
    return {
        "model": model,
        "description": _wrap(model.description),
        "params": model.params,
        "config": config_fields(model),
        "stacks": stacks,
        "groups": stack_groups,
        "layout": layout(model, stack_groups),
        "explicit": explicit,
        "jordan": "Jordan" in explicit,
        "activations": _activations(model),
        "fused": any(g.fused for g in all_groups),
        "packing": any(g.fused for s in variable for g in stack_groups[s.name]),
        "left": any(
            s.input.padding == "left" and any(g.fused for g in stack_groups[s.name])
            for s in variable
        ),
        "variable_length": bool(variable),
        "merges": sorted({g.merge for g in all_groups if g.merge}),
        "tokens": any(s.input.kind == "tokens" for s in stacks),
        "one_hot_fused": any(g.one_hot and g.fused for g in all_groups),
        "functional": bool(explicit)
        or any(g.one_hot and g.fused for g in all_groups)
        or any(s.dropout > 0 and len(stack_groups[s.name]) > 1 for s in stacks),
        "explicit_one_hot": any(g.one_hot and not g.fused for g in all_groups),
        "incremental": all(not layer.bidirectional for s in stacks for layer in s.layers),
        "top_keys": {s.name: _top_keys(s) for s in stacks},
        "top_merge": {s.name: s.layers[-1].merge_mode for s in stacks},
    }


def emit(model: ir.Model) -> dict[str, str]:
    """The generated files: one standalone ``model.py``, ``train.py`` and ``predict.py``."""
    env = environment("seqspec.backends.torch")
    env.globals.update(wrapped=wrapped, literal_tuple=literal_tuple, comment_block=comment_block)
    text = env.get_template("model.py.j2").render(**context(model))
    return {"model.py": text, **render_train(env, model, "torch")}
