"""IR -> ``model.py`` for Keras 3 on TensorFlow.

Every choice that depends on the framework is made here, in Python, and handed to the
templates as plain data: which Keras layer or custom cell implements each recurrent layer,
the attribute names, the converter functions of every weight-carrying part, the ``Config``
fields and the references. The templates only loop and test flags.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from seqspec.backends.tensorflow.formatting import fmt_call, lit

from seqspec import ir
from seqspec.generated import config_fields
from seqspec.render import environment
from seqspec.training import render_train

#: Everything the lowering can ask for: every cell, topology, input, head and scheme.
FEATURES = frozenset(
    {
        "many_to_many", "many_to_one", "one_to_many", "seq2seq", "ar_linear", "ar_mlp",
        "elman", "jordan", "lstm", "gru", "lstm_peepholes", "gru_reset_after",
        "gru_reset_before", "bidirectional", "variable_length", "features", "embedding",
        "one_hot", "vector", "dropout", "softmax", "regression", "pooling_last", "pooling_mean",
        "pooling_max", "bridge_copy", "bridge_dense",
    }
)

#: How each kind of layer runs in Keras: a fused Keras layer or a custom cell.
_FUSED = {"elman": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "gru_reset_before": "GRU"}

_REFERENCES = {
    "elman": ["Elman (1990), Finding structure in time."],
    "jordan": ["Jordan (1986), Serial order: a parallel distributed processing approach."],
    "lstm": [
        "Hochreiter & Schmidhuber (1997), Long short-term memory.",
        "Gers, Schmidhuber & Cummins (2000), Learning to forget: continual prediction with LSTM.",
    ],
    "peephole_lstm": [
        "Hochreiter & Schmidhuber (1997), Long short-term memory.",
        "Gers & Schmidhuber (2000), Recurrent nets that time and count (peepholes).",
    ],
    "gru": ["Cho et al. (2014), Learning phrase representations using RNN encoder-decoder."],
    "bidirectional": [
        "Schuster & Paliwal (1997), Bidirectional recurrent neural networks.",
        "Graves & Schmidhuber (2005), Framewise phoneme classification with bidirectional LSTM.",
    ],
    "seq2seq": ["Sutskever, Vinyals & Le (2014), Sequence to sequence learning with neural nets."],
}


@dataclass(frozen=True)
class DirectionView:
    """One direction of a recurrent layer as the template sees it."""

    name: str  # forward | backward
    prefix: str  # canonical prefix, e.g. "encoder.layers.0.forward"
    keras_name: str  # the Keras layer's name, e.g. "encoder_layers_0_forward"


@dataclass(frozen=True)
class LayerView:
    """One recurrent layer: its IR node and how Keras runs it."""

    layer: ir.Layer
    impl: str  # elman | lstm | gru | gru_reset_before | peephole_lstm | jordan
    fused: str  # the Keras layer class, or "" for a custom cell
    keras_name: str
    directions: tuple[DirectionView, ...]
    calls: tuple[str, ...]  # the direction constructors, formatted for 20 columns of indent


@dataclass(frozen=True)
class StackView:
    """An encoder or decoder stack."""

    stack: ir.Stack
    name: str
    layers: tuple[LayerView, ...]
    left_padding: bool


@dataclass(frozen=True)
class Part:
    """A weight-carrying Keras layer with its canonical name and layout converters."""

    attr: str  # Python expression of the layer, relative to the model
    prefix: str  # canonical name or prefix
    convert: str  # a key of LAYOUTS in the generated code

    @property
    def line(self) -> str:
        """The entry of ``Model._parts``, formatted for 12 columns of indent."""
        return fmt_call("", [self.attr, lit(self.prefix), lit(self.convert)], 12)


def _impl(layer: ir.Layer) -> str:
    if layer.cell == "lstm":
        return "peephole_lstm" if layer.peepholes else "lstm"
    if layer.cell == "gru":
        return "gru" if layer.gru_variant == "reset_after" else "gru_reset_before"
    return layer.cell


def _keras_name(prefix: str) -> str:
    return prefix.replace(".", "_")


def _direction_call(layer: ir.Layer, impl: str, direction: str, keras_name: str) -> str:
    """The constructor of one direction, e.g. ``lstm_direction(32, True, dtype, "...")``."""
    size, bias, tail = lit(layer.hidden_size), lit(layer.bias), ["dtype", lit(keras_name)]
    if impl == "elman":
        args = [size, lit(layer.activation), bias]
    elif impl in ("gru", "gru_reset_before"):
        args = [size, lit(impl == "gru"), bias]
        impl = "gru"
    elif impl == "jordan":
        args = [size, lit(layer.step_output_size), lit(layer.activation),
                lit(layer.output_activation), lit(layer.context_decay), bias]
    else:  # lstm, peephole_lstm
        args = [size, bias]
    return fmt_call(f"{direction}={impl}_direction", args + tail, 20)


def _stack_view(stack: ir.Stack) -> StackView:
    layers = []
    for layer in stack.layers:
        impl = _impl(layer)
        directions = tuple(
            DirectionView(d.name, d.prefix, _keras_name(d.prefix)) for d in layer.directions
        )
        calls = tuple(_direction_call(layer, impl, d.name, d.keras_name) for d in directions)
        layers.append(LayerView(layer, impl, _FUSED.get(impl, ""), _keras_name(layer.prefix),
                                directions, calls))
    left = stack.input.variable_length and stack.input.padding == "left"
    return StackView(stack, stack.name, tuple(layers), left)


def _parts(model: ir.Model, stacks: list[StackView]) -> list[Part]:
    parts = []
    for view in stacks:
        if view.stack.input.encoding == "embedding":
            parts.append(Part(f"self.{view.name}.embedding", f"{view.name}.embedding", "embedding"))
        for k, lv in enumerate(view.layers):
            for d in lv.directions:
                attr = f"self.{view.name}.recurrent_layers[{k}].{d.name}_layer"
                parts.append(Part(attr, d.prefix, lv.impl))
    if model.bridge is not None and model.bridge.kind == "dense":
        assert model.decoder is not None
        for k in range(len(model.decoder.layers)):
            parts.append(Part(f"self.bridge_layers[{k}]", f"bridge.layers.{k}", "dense"))
    if model.head is not None:
        parts.append(Part("self.head", "head", "dense"))
    if model.ar is not None and model.ar.kind == "linear":
        parts.append(Part("self.ar", "ar", "ar"))
    if model.ar is not None and model.ar.kind == "mlp":
        for k in range(len(model.ar.hidden) + 1):
            parts.append(Part(f"self.mlp_layers[{k}]", f"mlp.layers.{k}", "dense"))
    return parts


def _float_inputs(model: ir.Model) -> tuple[str, ...]:
    names: list[str] = []
    if model.ar is not None:
        return ("windows",)
    if model.encoder is not None and model.encoder.input.kind == "features":
        names.append("x")
    if model.scheme == "one_to_many":
        names.append("features")
    if model.decoder is not None and model.decoder.input.kind == "features":
        names.append("y_in")
    return tuple(names)


@dataclass(frozen=True)
class Arg:
    """One argument of ``Model.forward``."""

    name: str
    optional: bool  # defaults to None
    doc: str


def _sequence_doc(inp: ir.SequenceInput, steps: str = "T") -> str:
    if inp.kind == "tokens":
        return f"(B, {steps}) int token ids in [0, {inp.vocab_size})"
    return f"(B, {steps}, {inp.step_size}) float features"


def _lengths_doc(inp: ir.SequenceInput) -> str:
    side = "first" if inp.padding == "right" else "last"
    return f"(B,) int valid steps per row (the {side} ones), or None for all"


def _signature(model: ir.Model) -> tuple[list[Arg], str]:
    """The arguments of forward() and a description of its outputs."""
    if model.ar is not None:
        p = model.ar.order
        return [Arg("windows", False, f"(B, {p}) float: x_{{t-{p}}} .. x_{{t-1}}, oldest first")], \
            "(B, 1) the next value"
    assert model.head is not None
    out = "logits" if model.head.kind == "softmax" else "values"
    args: list[Arg] = []
    enc, dec = model.encoder, model.decoder
    if model.scheme in ("many_to_many", "many_to_one"):
        assert enc is not None
        args.append(Arg("x", False, _sequence_doc(enc.input)))
        if enc.input.variable_length:
            args.append(Arg("lengths", True, _lengths_doc(enc.input)))
        if model.scheme == "many_to_many":
            args.append(Arg("initial_state", True, "{state key: (B, size)} or None (zeros)"))
            return args, f"(B, T, {model.head.out_size}) {out}"
        return args, f"(B, {model.head.out_size}) {out}"
    assert dec is not None
    if model.scheme == "one_to_many":
        args.append(Arg("features", False, f"(B, {model.vector_size}) float conditioning vector"))
        length_name = "lengths"
    else:
        assert enc is not None
        args.append(Arg("x", False, _sequence_doc(enc.input)))
        if enc.input.variable_length:
            args.append(Arg("x_lengths", True, _lengths_doc(enc.input)))
        length_name = "y_lengths"
    teacher = " (teacher forcing: start token, then targets[:-1])"
    args.append(Arg("y_in", False, _sequence_doc(dec.input, "T_dec") + teacher))
    if dec.input.variable_length:
        args.append(Arg(length_name, True, _lengths_doc(dec.input)))
    return args, f"(B, T_dec, {model.head.out_size}) {out}"


def _serving_inputs(model: ir.Model, args: list[Arg]) -> list[tuple[str, str, str]]:
    """(name, TensorSpec shape, dtype) of each forward input a SavedModel serves (no states)."""
    sizes = {}
    for stack, names in ((model.encoder, ("x",)), (model.decoder, ("y_in",))):
        if stack is not None:
            for name in names:
                tokens = stack.input.kind == "tokens"
                sizes[name] = ("(None, None)", "int64") if tokens else \
                    (f"(None, None, {stack.input.step_size})", "float32")
    if model.scheme == "one_to_many":
        sizes["features"] = (f"(None, {model.vector_size})", "float32")
    if model.ar is not None:
        sizes["windows"] = (f"(None, {model.ar.order})", "float32")
    for name in ("lengths", "x_lengths", "y_lengths"):
        sizes[name] = ("(None,)", "int64")
    return [(a.name, *sizes[a.name]) for a in args if a.name in sizes]


def _references(model: ir.Model, stacks: list[StackView]) -> list[str]:
    keys = []
    for view in stacks:
        for lv in view.layers:
            key = "gru" if lv.impl == "gru_reset_before" else lv.impl
            keys.append(key)
            if lv.layer.bidirectional:
                keys.append("bidirectional")
    if model.scheme == "seq2seq":
        keys.append("seq2seq")
    return list(dict.fromkeys(ref for k in keys for ref in _REFERENCES[k]))


def context(model: ir.Model) -> dict[str, object]:
    """Everything the templates read, computed from the IR."""
    stacks = [_stack_view(s) for s in model.stacks]
    impls = sorted({lv.impl for view in stacks for lv in view.layers})
    layers = [lv for view in stacks for lv in view.layers]
    inputs = [view.stack.input for view in stacks]
    generate = ""
    if model.can_generate:
        if model.scheme == "many_to_many":
            bidirectional = any(lv.layer.bidirectional for lv in layers)
            generate = "lm_rerun" if bidirectional else "lm"
        else:
            assert model.decoder is not None
            tokens = model.decoder.input.kind == "tokens"
            generate = "decoder_tokens" if tokens else "decoder_values"
    signature = _signature(model)
    args = sorted(signature[0], key=lambda a: a.optional)  # required ones first
    parts = _parts(model, stacks)
    return {
        "model": model,
        # the spec's free text, wrapped; it still goes through the docstring filter
        "description": textwrap.fill(model.description or model.name, 88),
        "params": model.params,
        "stacks": stacks,
        "impls": impls,
        "bidirectional": any(lv.layer.bidirectional for lv in layers),
        "left_padding": any(view.left_padding for view in stacks),
        "variable_length": any(inp.variable_length for inp in inputs),
        "embedding": any(inp.encoding == "embedding" for inp in inputs),
        "one_hot": any(inp.encoding == "one_hot" for inp in inputs),
        "dense": model.head is not None or (model.ar is not None and model.ar.kind == "mlp")
        or (model.bridge is not None and model.bridge.kind == "dense"),
        "parts": parts,
        "layouts": list(dict.fromkeys(p.convert for p in parts)),
        "fields": config_fields(model),
        "float_inputs": _float_inputs(model),
        "args": args,
        "outputs_doc": signature[1],
        "forward_params": [a.name + ("=None" if a.optional else "") for a in args],
        "packed": "dict(" + ", ".join(f"{a.name}={a.name}" for a in args) + ")",
        "references": _references(model, stacks),
        "serving_inputs": _serving_inputs(model, args),
        "generate": generate,
        "serializable_package": f"seqspec_{model.name}",
    }


def emit(model: ir.Model) -> dict[str, str]:
    """The files of a compiled model: ``model.py``, the shared ``train.py`` and ``predict.py``."""
    env = environment("seqspec.backends.tensorflow")
    env.filters["lit"] = lit
    env.globals["fmt_call"] = fmt_call
    text = env.get_template("model.py.j2").render(**context(model))
    return {"model.py": text, **render_train(env, model, "tensorflow")}
