"""Render the NumPy ``model.py`` and ``numpy_runtime.py`` from the normalized model.

``numpy_runtime.py`` is rendered without the model: it is the same, byte for byte, for every
spec. ``model.py`` holds what depends on the spec, and imports exactly the runtime names it
uses. Everything the templates need is worked out here from the IR; what is particular to a
cell kind comes from its hook module in ``cells/`` (found there, never dispatched on here).
Templates only loop and branch over these values; spec text reaches them only through the
filters of :mod:`seqspec.render`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Any

from seqspec.backends.numpy.cells import hooks

from seqspec import ir
from seqspec.features import supported
from seqspec.generated import config_fields
from seqspec.render import (
    attach_section_comments,
    docstring,
    environment,
    ident,
    pyrepr,
    runtime_import,
)
from seqspec.training import render_train

#: Every common feature and every cell kind this backend has a hook for.
FEATURES = supported(hooks())

#: The runtime module's name: model.py imports it from its own folder.
RUNTIME = "numpy_runtime"

_REFERENCES = {
    "bidirectional": "M. Schuster, K. Paliwal, Bidirectional recurrent neural networks (1997);"
    " A. Graves, J. Schmidhuber, Framewise phoneme classification with bidirectional LSTM (2005).",
    "seq2seq": "I. Sutskever, O. Vinyals, Q. Le, Sequence to sequence learning (2014).",
    "dropout": "N. Srivastava et al., Dropout: a simple way to prevent overfitting (2014).",
    "bptt": "P. Werbos, Backpropagation through time (1990); truncated: R. Williams, J. Peng"
    " (1990).",
    "ar": "G. Box, G. Jenkins, Time series analysis: forecasting and control (1970).",
}


@dataclass(frozen=True)
class LayerBuild:
    """How the generated code builds one layer: make_layer(...) and a comment."""

    cls: str
    comment: str
    args: tuple[str, ...]  # the arguments of make_layer(...), as code


@dataclass(frozen=True)
class CellClass:
    """One cell class model.py defines, and the template that renders it."""

    cls: str
    template: str


def cell_class(layer: ir.Layer) -> str:
    """The generated class that runs ``layer``'s cell."""
    return hooks()[layer.cell].class_name(layer)


def _layer_build(stack: ir.Stack, k: int, layer: ir.Layer) -> LayerBuild:
    hook = hooks()[layer.cell]
    size = f"{layer.cell}({layer.hidden_size}"
    if layer.step_output_size != layer.hidden_size:
        size += f", output {layer.step_output_size}"
    text = f"{size}), {layer.input_size} -> {layer.output_size} per step"
    if layer.bidirectional:
        text += f", bidirectional ({layer.merge_mode})"
    cls = hook.class_name(layer)
    args = [ident(cls), "w", pyrepr(layer.prefix), "dt"]
    if layer.bidirectional:
        args.append(f"merge=CONFIG.{ident(stack.name)}_merge_modes[{k}]")
    args += [f"{ident(k)}={pyrepr(v)}" for k, v in hook.options(layer).items()]
    return LayerBuild(cls=cls, comment=text, args=tuple(args))


def _references(model: ir.Model) -> list[str]:
    """The docstring's numbered list of references, one line each (no spec text in them)."""
    texts: list[str] = [_REFERENCES["ar"]] if model.ar is not None else []
    for stack in model.stacks:
        for layer in stack.layers:
            text = hooks()[layer.cell].reference(layer)
            if text not in texts:
                texts.append(text)
    for key in ("bidirectional", "dropout"):
        if key in model.features:
            texts.append(_REFERENCES[key])
    if model.scheme == "seq2seq":
        texts.append(_REFERENCES["seq2seq"])
    if model.stacks:
        texts.append(_REFERENCES["bptt"])
    lines = []
    for number, text in enumerate(texts, start=1):
        wrapped = textwrap.wrap(text, width=90)
        lines.append(f"    {number}. {wrapped[0]}")
        lines += [f"       {more}" for more in wrapped[1:]]
    return lines


def _wrap(text: str) -> list[str]:
    """Spec text for the module docstring: escaped by the ``docstring`` filter, then wrapped.

    Words are never split, so an escape sequence stays whole; a line is longer than the width
    only when a single word is.
    """
    lines: list[str] = []
    for paragraph in docstring(text).split("\n"):
        lines += textwrap.wrap(paragraph, width=92, break_long_words=False,
                               break_on_hyphens=False) or [""]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def context(model: ir.Model) -> dict[str, Any]:
    """Everything the templates read."""
    layers = {
        s.name: [_layer_build(s, k, layer) for k, layer in enumerate(s.layers)]
        for s in model.stacks
    }
    cells: list[CellClass] = []
    for stack in model.stacks:
        for layer in stack.layers:
            cell = CellClass(cell_class(layer), hooks()[layer.cell].TEMPLATE)
            if cell not in cells:
                cells.append(cell)
    stacks = list(model.stacks)
    # Config values the generated code reads, which a user may change without new weights
    editable = [f"{s.name}_dropout" for s in stacks if "dropout" in model.features]
    editable += [f"{s.name}_padding" for s in stacks if s.input.variable_length]
    if model.bridge is not None and model.bridge.kind == "dense":
        editable.append("bridge_activation")
    if model.scheme in ("one_to_many", "seq2seq"):
        editable.append("max_length")
    if model.ar is not None and model.ar.kind == "mlp":
        editable.append("activation")
    return {
        "editable": editable,
        "model": model,
        "summary": f"a seqspec {model.scheme.replace('_', '-')} model.",
        "description": _wrap(model.description),
        "params": model.params,
        "config": config_fields(model),
        "references": _references(model),
        "cells": cells,
        "layers": layers,
        "stacks": stacks,
        "bidirectional": "bidirectional" in model.features,
        "merge_config": "bidirectional" in model.features,
        "dropout": "dropout" in model.features,
        "incremental": all(
            not layer.bidirectional for s in stacks for layer in s.layers
        ),
    }


@cache
def runtime() -> str:
    """The text of ``numpy_runtime.py``: rendered without any model, the same for every spec."""
    return environment("seqspec.backends.numpy").get_template("numpy_runtime.py.j2").render()


def emit(model: ir.Model) -> dict[str, str]:
    """The generated files: ``model.py``, ``numpy_runtime.py``, ``train.py``, ``predict.py``."""
    env = environment("seqspec.backends.numpy")
    text = env.get_template("model.py.j2").render(**context(model))
    text = attach_section_comments(runtime_import(text, runtime(), RUNTIME))
    return {"model.py": text, f"{RUNTIME}.py": runtime(), **render_train(env, model, "numpy")}
