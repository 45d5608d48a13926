"""Render the NumPy ``model.py`` from the normalized model.

Everything the templates need is worked out here from the IR: which cell classes to emit, how
each layer is built, the ``Config`` fields, the references. Templates only loop and branch over
these values; spec text reaches them only through the filters of :mod:`seqspec.render`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from seqspec import ir
from seqspec.generated import config_fields
from seqspec.render import docstring, environment, ident, pyrepr
from seqspec.training import render_train

#: Every feature :mod:`seqspec.lower` can report; the NumPy reference supports all of them.
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

#: The class of the generated file that implements each cell kind.
CELL_CLASSES = ("Elman", "Jordan", "LSTM", "PeepholeLSTM", "GRU", "GRUResetBefore")

_REFERENCES = {
    "elman": "J. L. Elman, Finding structure in time, Cognitive Science 14 (1990).",
    "jordan": "M. I. Jordan, Serial order: a parallel distributed processing approach (1986).",
    "LSTM": "S. Hochreiter, J. Schmidhuber, Long short-term memory, Neural Computation 9 (1997);"
    " F. Gers, J. Schmidhuber, F. Cummins, Learning to forget (2000).",
    "PeepholeLSTM": "F. Gers, J. Schmidhuber, Recurrent nets that time and count (2000).",
    "gru": "K. Cho et al., Learning phrase representations using RNN encoder-decoder (2014).",
    "bidirectional": "M. Schuster, K. Paliwal, Bidirectional recurrent neural networks (1997);"
    " A. Graves, J. Schmidhuber, Framewise phoneme classification with bidirectional LSTM (2005).",
    "seq2seq": "I. Sutskever, O. Vinyals, Q. Le, Sequence to sequence learning (2014).",
    "dropout": "N. Srivastava et al., Dropout: a simple way to prevent overfitting (2014).",
    "bptt": "P. Werbos, Backpropagation through time: what it does and how to do it (1990);"
    " R. Williams, J. Peng, An efficient gradient-based algorithm for on-line training of"
    " recurrent network trajectories (1990).",
    "clip": "R. Pascanu, T. Mikolov, Y. Bengio, On the difficulty of training recurrent neural"
    " networks (2013).",
    "ar": "G. Box, G. Jenkins, Time series analysis: forecasting and control (1970).",
}


@dataclass(frozen=True)
class LayerBuild:
    """How the generated code builds one layer: a cell per direction, then the merge."""

    cls: str
    comment: str
    args: tuple[str, ...]  # the arguments of make_layer(...), as code


def cell_class(layer: ir.Layer) -> str:
    """The generated class that runs ``layer``'s cell."""
    if layer.cell == "lstm":
        return "PeepholeLSTM" if layer.peepholes else "LSTM"
    if layer.cell == "gru":
        return "GRU" if layer.gru_variant == "reset_after" else "GRUResetBefore"
    return "Elman" if layer.cell == "elman" else "Jordan"


def _layer_build(layer: ir.Layer) -> LayerBuild:
    kwargs: tuple[tuple[str, Any], ...] = ()
    if layer.cell == "elman":
        kwargs = (("activation", layer.activation),)
    elif layer.cell == "jordan":
        kwargs = (
            ("activation", layer.activation),
            ("output_activation", layer.output_activation),
            ("context_decay", layer.context_decay),
        )
    size = f"{layer.cell}({layer.hidden_size})"
    if layer.cell == "jordan":
        size = f"jordan({layer.hidden_size}, output {layer.step_output_size})"
    text = f"{size}, {layer.input_size} -> {layer.output_size} per step"
    if layer.bidirectional:
        text += f", bidirectional ({layer.merge_mode})"
    cls = cell_class(layer)
    args = [ident(cls), "w", pyrepr(layer.prefix), "dt"]
    if layer.bidirectional:
        args += ['("forward", "backward")', pyrepr(layer.merge_mode)]
    args += [f"{ident(k)}={pyrepr(v)}" for k, v in kwargs]
    return LayerBuild(cls=cls, comment=text, args=tuple(args))


def _references(model: ir.Model, classes: list[str]) -> list[str]:
    """The docstring's numbered list of references, one line each (no spec text in them)."""
    keys: list[str] = []
    cells = {layer.cell for stack in model.stacks for layer in stack.layers}
    for key in ("elman", "jordan"):
        if key in cells:
            keys.append(key)
    keys += [c for c in ("LSTM", "PeepholeLSTM") if c in classes]
    if "gru" in cells:
        keys.append("gru")
    if "bidirectional" in model.features:
        keys.append("bidirectional")
    if model.scheme == "seq2seq":
        keys.append("seq2seq")
    if "dropout" in model.features:
        keys.append("dropout")
    keys += ["bptt", "clip"] if model.stacks else ["clip"]
    if model.ar is not None:
        keys.insert(0, "ar")
    lines = []
    for number, key in enumerate(keys, start=1):
        wrapped = textwrap.wrap(_REFERENCES[key], width=90)
        lines.append(f"    {number}. {wrapped[0]}")
        lines += [f"       {more}" for more in wrapped[1:]]
    return lines


def _activations(model: ir.Model) -> list[str]:
    """Nonlinearities that the helpers must provide (beyond the cells' own sigmoid/tanh)."""
    used: set[str] = set()
    for stack in model.stacks:
        for layer in stack.layers:
            if layer.cell in ("elman", "jordan"):
                used.add(layer.activation)
            if layer.cell == "jordan":
                used.add(layer.output_activation)
    if model.bridge is not None and model.bridge.kind == "dense":
        used.add(model.bridge.activation)
    if model.ar is not None and model.ar.kind == "mlp":
        used.update((model.ar.activation, "linear"))
    return [a for a in ("tanh", "sigmoid", "relu", "linear") if a in used]


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
    layers = {s.name: [_layer_build(layer) for layer in s.layers] for s in model.stacks}
    classes = [
        c for c in CELL_CLASSES
        if any(b.cls == c for builds in layers.values() for b in builds)
    ]
    stacks = list(model.stacks)
    any_tokens = any(s.input.kind == "tokens" for s in stacks)
    return {
        "model": model,
        "summary": f"a seqspec {model.scheme.replace('_', '-')} model.",
        "description": _wrap(model.description),
        "params": model.params,
        "config": config_fields(model),
        "references": _references(model, classes),
        "classes": classes,
        "activations": _activations(model),
        "layers": layers,
        "stacks": stacks,
        "one_hot": any(s.input.encoding == "one_hot" for s in stacks),
        "embedding": any(s.input.encoding == "embedding" for s in stacks),
        "tokens": any_tokens,
        "variable_length": any(s.input.variable_length for s in stacks),
        "bidirectional": "bidirectional" in model.features,
        "dropout": "dropout" in model.features,
        "merges": sorted({layer.merge_mode for s in stacks for layer in s.layers
                          if layer.bidirectional}),
        "incremental": all(
            not layer.bidirectional for s in stacks for layer in s.layers
        ),
    }


def emit(model: ir.Model) -> dict[str, str]:
    """The generated files: the standalone ``model.py``, ``train.py`` and ``predict.py``."""
    env = environment("seqspec.backends.numpy")
    text = env.get_template("model.py.j2").render(**context(model))
    return {"model.py": text, **render_train(env, model, "numpy")}
