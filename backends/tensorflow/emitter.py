"""IR -> ``model.py`` + ``tensorflow_runtime.py`` for Keras 3 on TensorFlow.

``model.py`` holds what the spec decides; ``tensorflow_runtime.py`` everything else, rendered
without a spec (the same bytes for every model). Every choice that depends on the framework
is made here, in Python, and handed to the templates as plain data: which generated class runs
each recurrent layer (the cell kind's hook in ``cells/``), the attribute names, the ``Config``
expressions construction reads, and the references. The templates only loop and test flags.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from seqspec.backends.tensorflow import cells
from seqspec.backends.tensorflow.formatting import LINE, fmt_call, lit

from seqspec import __version__, ir
from seqspec.features import supported
from seqspec.generated import config_fields
from seqspec.render import attach_section_comments, environment, runtime_import
from seqspec.training import render_train

#: Every common feature and every cell kind this backend has a hook for.
FEATURES = supported(cells.HOOKS)

_REFERENCES = {
    "bidirectional": [
        "Schuster & Paliwal (1997), Bidirectional recurrent neural networks.",
        "Graves & Schmidhuber (2005), Framewise phoneme classification with bidirectional LSTM.",
    ],
    "seq2seq": ["Sutskever, Vinyals & Le (2014), Sequence to sequence learning with neural nets."],
}

#: The model's runtime module: the same file for every spec of this backend.
RUNTIME = "tensorflow_runtime"


@dataclass(frozen=True)
class LayerView:
    """One recurrent layer: its IR node and the generated class that runs each direction."""

    layer: ir.Layer
    class_name: str  # Elman | Jordan | LSTM | PeepholeLSTM | GRU | GRUResetBefore | ...
    template: str  # the cell kind's template, e.g. "_cell_lstm.py.j2"
    keras_name: str
    input_size: str  # the Config expression of what the layer reads per step
    calls: tuple[str, ...]  # the direction constructors, formatted for 20 columns of indent


@dataclass(frozen=True)
class StackView:
    """An encoder or decoder stack."""

    stack: ir.Stack
    name: str
    layers: tuple[LayerView, ...]


def _keras_name(prefix: str) -> str:
    return prefix.replace(".", "_")


def _stack_view(stack: ir.Stack) -> StackView:
    layers = []
    s = stack.name
    for k, layer in enumerate(stack.layers):
        hook = cells.get(layer.cell)
        units = f"CONFIG.{s}_hidden_sizes[{k}]"
        size = f"CONFIG.{s}_input_size" if k == 0 else f"CONFIG.{s}_output_sizes[{k - 1}]"
        name = hook.class_name(layer)
        calls = tuple(
            fmt_call(f"{d.name}={name}", [*hook.arguments(layer, units), "dtype=dtype",
                                         f"name={lit(_keras_name(d.prefix))}"], 20)
            for d in layer.directions
        )
        layers.append(LayerView(layer, name, hook.TEMPLATE, _keras_name(layer.prefix), size,
                                calls))
    return StackView(stack, s, tuple(layers))


def _parts(model: ir.Model, stacks: list[StackView]) -> list[str]:
    """Every weight-carrying layer: (Python expression, canonical name or prefix), formatted
    as the entries of ``Model._parts`` (12 columns of indent)."""
    parts = []
    for view in stacks:
        if view.stack.input.encoding == "embedding":
            parts.append((f"self.{view.name}.embedding", f"{view.name}.embedding"))
        for k, lv in enumerate(view.layers):
            for d in lv.layer.directions:
                parts.append((f"self.{view.name}.recurrent_layers[{k}].{d.name}_layer", d.prefix))
    if model.bridge is not None and model.bridge.kind == "dense":
        assert model.decoder is not None
        for k in range(len(model.decoder.layers)):
            parts.append((f"self.bridge_layers[{k}]", f"bridge.layers.{k}"))
    if model.head is not None:
        parts.append(("self.head", "head"))
    if model.ar is not None and model.ar.kind == "linear":
        parts.append(("self.ar", "ar"))
    if model.ar is not None and model.ar.kind == "mlp":
        for k in range(len(model.ar.hidden) + 1):
            parts.append((f"self.mlp_layers[{k}]", f"mlp.layers.{k}"))
    return [fmt_call("", [attr, lit(prefix)], 12) for attr, prefix in parts]


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


_DROPOUT_SEEDS_DOC = "(B, n) ints seeding each row's dropout masks, or None (Keras' own)"


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
    """(name, shape, dtype) of each forward input a SavedModel serves (no states)."""
    sizes = {}
    for stack, name in ((model.encoder, "x"), (model.decoder, "y_in")):
        if stack is not None:
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
    refs = []
    for view in stacks:
        for lv in view.layers:
            refs += cells.get(lv.layer.cell).references(lv.layer)
            if lv.layer.bidirectional:
                refs += _REFERENCES["bidirectional"]
    if model.scheme == "seq2seq":
        refs += _REFERENCES["seq2seq"]
    return list(dict.fromkeys(refs))


def _cell_templates(stacks: list[StackView]) -> list[tuple[str, list[str]]]:
    """(template, the class names it renders) of every cell kind this model uses, in the
    order of first use."""
    used: dict[str, list[str]] = {}
    for view in stacks:
        for lv in view.layers:
            names = used.setdefault(lv.template, [])
            if lv.class_name not in names:
                names.append(lv.class_name)
    return list(used.items())


def _head_inputs(model: ir.Model) -> str:
    """The Config expression of what the head reads: the top stack's merged outputs."""
    if model.head is None:
        return ""
    top = model.decoder or model.encoder
    assert top is not None and top.output_size == model.head.in_size
    return f"CONFIG.{top.name}_output_sizes[-1]"


def _bridge_summary(model: ir.Model) -> str:
    """The Config expression of the dense bridge's input width."""
    if model.bridge is None or model.bridge.kind != "dense":
        return ""
    if model.scheme == "one_to_many":
        return "CONFIG.vector_size"
    assert model.encoder is not None
    return "CONFIG.encoder_output_sizes[-1]"


def _serving_signature(inputs: list[tuple[str, str, str]]) -> str:
    """``serving_signature = {...}``, on one line when it fits at 4 columns of indent."""
    entries = [f"{lit(name)}: ({shape}, {lit(dtype)})" for name, shape, dtype in inputs]
    one = "serving_signature = {" + ", ".join(entries) + "}"
    if 4 + len(one) <= LINE:
        return one
    return "serving_signature = {\n" + "".join(f"        {e},\n" for e in entries) + "    }"


def _header(model: ir.Model) -> str:
    """model.py's docstring after its first line: where it comes from, what the user may edit."""
    source = (f"A Keras 3 (TensorFlow) model generated by seqspec {__version__} from the spec "
              f"{model.name}.")
    edit = ("This file holds what the spec decides: Config, the weight table PARAMETERS, the "
            "input tables, the cells this model uses and the Model class, whose constructor "
            f"reads Config. You may edit {_editable(model)} in Config; sizes must match "
            "PARAMETERS: change them in the spec and compile again. tensorflow_runtime.py "
            "beside this file runs every compiled Keras model (weights, input checks, "
            "sequences, the compiled passes); it is the same file for every spec.")
    return "\n".join([textwrap.fill(source, 96), f"Spec file: {model.source_name}",
                      f"Spec sha256: {model.spec_sha256}", "", textwrap.fill(edit, 96)])


def _editable(model: ir.Model) -> str:
    """What the header tells the user to edit in Config."""
    names = [f"{s.name}_dropout" for s in model.stacks]
    if model.scheme in ("one_to_many", "seq2seq"):
        names += ["max_length", "start_token", "end_token"]
    if model.ar is not None and model.ar.kind == "mlp":
        names.append("activation")
    if not names:
        return "nothing"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def context(model: ir.Model) -> dict[str, object]:
    """Everything the templates read, computed from the IR."""
    stacks = [_stack_view(s) for s in model.stacks]
    layers = [lv for view in stacks for lv in view.layers]
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
    dropout = "dropout" in model.features
    if dropout:  # what train.py passes: the masks of dropout_masks, as in every backend
        args.append(Arg("dropout_seeds", True, _DROPOUT_SEEDS_DOC))
    return {
        "model": model,
        "dropout": dropout,
        # the spec's free text, wrapped; it still goes through the docstring filter
        "description": textwrap.fill(model.description or model.name, 88),
        "params": model.params,
        "stacks": stacks,
        "cell_templates": _cell_templates(stacks),
        "variable_length": any(s.input.variable_length for s in model.stacks),
        "parts": _parts(model, stacks),
        "config": config_fields(model),
        "header": _header(model),
        "serving_signature": _serving_signature(_serving_inputs(model, args)),
        "head_inputs": _head_inputs(model),
        "bridge_summary": _bridge_summary(model),
        "float_inputs": _float_inputs(model),
        "args": args,
        "outputs_doc": signature[1],
        "forward_params": [a.name + ("=None" if a.optional else "") for a in args],
        "packed": "dict(" + ", ".join(f"{a.name}={a.name}" for a in args) + ")",
        "packed_args": [f"{a.name}={a.name}" for a in args],
        "references": _references(model, stacks),
        "serving_inputs": _serving_inputs(model, args),
        "generate": generate,
        "serializable_package": f"seqspec_{model.name}",
    }


def _environment():
    env = environment("seqspec.backends.tensorflow")
    env.filters["lit"] = lit
    env.globals["fmt_call"] = fmt_call
    return env


def render_runtime() -> str:
    """``tensorflow_runtime.py``: rendered without a spec, the same bytes for every model."""
    return _environment().get_template(f"{RUNTIME}.py.j2").render()


def emit(model: ir.Model) -> dict[str, str]:
    """The files of a compiled model: ``model.py``, its runtime ``tensorflow_runtime.py``, the
    shared ``train.py`` and ``predict.py``."""
    env = _environment()
    runtime = render_runtime()
    text = env.get_template("model.py.j2").render(**context(model))
    text = attach_section_comments(runtime_import(text, runtime, RUNTIME))
    return {"model.py": text, f"{RUNTIME}.py": runtime, **render_train(env, model, "tensorflow")}
