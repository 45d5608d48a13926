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
from functools import cache
from typing import Any

from seqspec.backends.torch.cells import hooks
from seqspec.backends.torch.grouping import groups, layout
from seqspec.backends.torch.source import comment_block, literal_tuple, wrapped

from seqspec import ir
from seqspec.features import supported
from seqspec.generated import config_fields
from seqspec.render import attach_section_comments, docstring, environment, runtime_import
from seqspec.training import render_train

#: Every common feature and every cell kind: this backend has code for each.
FEATURES = supported(hooks())


def _wrap(text: str) -> list[str]:
    """Spec text for the module docstring: escaped by the ``docstring`` filter, then wrapped."""
    lines: list[str] = []
    for paragraph in docstring(text).split("\n"):
        lines += textwrap.wrap(paragraph, width=92, break_long_words=False,
                               break_on_hyphens=False) or [""]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _top_keys(stack: ir.Stack) -> tuple[str, ...]:
    """Final-state keys holding the top layer's last output, per direction (for pooling 'last')."""
    top = stack.layers[-1]
    part = top.state_names[0]  # a step's output is its first state (h, or y for Jordan)
    return tuple(f"{d.prefix}.{part}" for d in top.directions)


def context(model: ir.Model) -> dict[str, Any]:
    """Everything the templates read."""
    stack_groups = {s.name: groups(s) for s in model.stacks}
    all_groups = [g for gs in stack_groups.values() for g in gs]
    explicit_groups = [g for g in all_groups if not g.fused]
    explicit = sorted({g.cls for g in explicit_groups})
    explicit_kinds = sorted({g.first.cell for g in explicit_groups})
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
        "explicit_kinds": explicit_kinds,
        "fused": any(g.fused for g in all_groups),
        # the explicit cells carry padded steps through only where a stack has lengths
        "masks": any(not g.fused for s in variable for g in stack_groups[s.name]),
        # and read a sequence backwards only where one of them is bidirectional
        "reverse": any(not g.fused and g.first.bidirectional for g in all_groups),
        "variable_length": bool(variable),
        "incremental": all(not layer.bidirectional for s in stacks for layer in s.layers),
        "top_keys": {s.name: _top_keys(s) for s in stacks},
        "top_merge": {s.name: s.layers[-1].merge_mode for s in stacks},
    }


@cache
def runtime() -> str:
    """torch_runtime.py: rendered from no spec, so the same bytes for every model."""
    return environment("seqspec.backends.torch").get_template("torch_runtime.py.j2").render()


def emit(model: ir.Model) -> dict[str, str]:
    """The generated files: ``model.py`` with ``torch_runtime.py`` beside it, ``train.py`` and
    ``predict.py``."""
    env = environment("seqspec.backends.torch")
    env.globals.update(wrapped=wrapped, literal_tuple=literal_tuple, comment_block=comment_block)
    text = env.get_template("model.py.j2").render(**context(model))
    text = attach_section_comments(runtime_import(text, runtime(), "torch_runtime"))
    return {"model.py": text, "torch_runtime.py": runtime(), **render_train(env, model, "torch")}
