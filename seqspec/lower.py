"""Lowering: a validated :class:`~seqspec.spec.Spec` -> the normalized :class:`~seqspec.ir.Model`.

Every default is resolved here and every semantic rule that types cannot express is checked
here (sizes that must agree, the head that fits the scheme, the parameter budget). All
problems are collected and raised together as one :class:`~seqspec.errors.SpecError`.
"""

from __future__ import annotations

from seqspec import cells, ir, spec
from seqspec.cells.base import Make
from seqspec.errors import Problem, SpecError, SpecPath

#: The parameter constructors every cell module's ``params`` builds its table with.
_MAKE = Make()


class _Lowering:
    """Collects problems and feature sites while building the IR."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.sites: list[tuple[str, SpecPath]] = []

    def error(self, path: SpecPath, message: str) -> None:
        self.problems.append(Problem(path, message))

    def use(self, feature: str, path: SpecPath) -> None:
        if all(f != feature for f, _ in self.sites):
            self.sites.append((feature, path))

    # ------------------------------------------------------------------ layers, stacks

    def layer(self, stack_name: str, index: int, cell: spec.Cell, input_size: int,
              path: SpecPath) -> ir.Layer:
        kind = cells.get(cell.cell)  # everything that depends on the cell kind asks its module
        prefix = f"{stack_name}.layers.{index}"
        step_out = kind.step_output_size(cell)
        directions = ["forward", "backward"] if cell.bidirectional else ["forward"]
        if "merge_mode" in cell.model_fields_set and not cell.bidirectional:
            self.error((*path, "merge_mode"), "merge_mode needs bidirectional: true")
        cells.check(cell, path, self.error)
        if not cell.bias and "bias" in cell.init.model_fields_set:
            self.error((*path, "init", "bias"), "init.bias has nothing to initialise: this "
                       "cell has bias: false")
        output_size = step_out
        if cell.bidirectional:
            self.use("bidirectional", (*path, "bidirectional"))
            if cell.merge_mode == "concat":
                output_size = 2 * step_out
        for feature, site in kind.features(cell, path):
            self.use(feature, site)
        return ir.Layer(
            index=index,
            prefix=prefix,
            path=path,
            cell=cell.cell,
            input_size=input_size,
            hidden_size=cell.hidden_size,
            step_output_size=step_out,
            output_size=output_size,
            bias=cell.bias,
            settings=kind.settings(cell),
            bidirectional=cell.bidirectional,
            merge_mode=cell.merge_mode if cell.bidirectional else "concat",
            gates=kind.GATES,
            state_names=kind.STATES,
            state_sizes=kind.state_sizes(cell),
            directions=tuple(
                ir.Direction(d, f"{prefix}.{d}",
                             kind.params(f"{prefix}.{d}", cell, input_size, _MAKE))
                for d in directions
            ),
        )

    def sequence_input(self, stack_name: str, inp: spec.TokenInput | spec.FeatureInput,
                       path: SpecPath) -> ir.SequenceInput:
        if inp.variable_length:
            self.use("variable_length", (*path, "variable_length"))
        elif "padding" in inp.model_fields_set:
            self.error((*path, "padding"), "padding applies to variable-length input; add "
                       "variable_length: true")
        if isinstance(inp, spec.FeatureInput):
            self.use("features", path)
            return ir.SequenceInput("features", 0, "", 0, inp.size, inp.variable_length,
                                    inp.padding, ())
        params: tuple[ir.Param, ...] = ()
        if inp.encoding == "embedding":
            self.use("embedding", (*path, "encoding"))
            if inp.embedding_dim is None:
                self.error((*path, "embedding_dim"),
                           "embedding_dim is required with encoding: embedding")
                step = 1
            else:
                step = inp.embedding_dim
                params = (ir.Param(f"{stack_name}.embedding", (inp.vocab_size, step), "normal",
                                   "token id -> embedding row", scale=1.0, fan_in=step,
                                   fan_out=inp.vocab_size),)
        else:
            self.use("one_hot", (*path, "encoding"))
            if inp.embedding_dim is not None:
                self.error((*path, "embedding_dim"),
                           "embedding_dim is only meaningful with encoding: embedding")
            step = inp.vocab_size
        return ir.SequenceInput("tokens", inp.vocab_size, inp.encoding,
                                inp.embedding_dim or 0, step, inp.variable_length, inp.padding,
                                params)

    def stack(self, name: str, seq: spec._Sequence, path: SpecPath) -> ir.Stack:
        inp = self.sequence_input(name, seq.input, (*path, "input"))
        layers: list[ir.Layer] = []
        size = inp.step_size
        for k, cell in enumerate(seq.layers):
            layer = self.layer(name, k, cell, size, (*path, "layers", k))
            layers.append(layer)
            size = layer.output_size
        if seq.dropout > 0:
            if len(seq.layers) == 1:
                self.error((*path, "dropout"),
                           "dropout acts between layers, and this stack has one layer")
            self.use("dropout", (*path, "dropout"))
        return ir.Stack(name, inp, tuple(layers), seq.dropout)

    def head(self, head: spec.Head, in_size: int, per_step: bool, path: SpecPath) -> ir.Head:
        self.use(head.kind, path)
        if isinstance(head, spec.SoftmaxHead) and head.classes < 2:
            self.error((*path, "classes"), "a softmax over 1 class is always 1; use at least "
                       "2 classes, or a regression head")
        out = head.classes if isinstance(head, spec.SoftmaxHead) else head.outputs
        params = [ir.Param("head.W", (out, in_size), "uniform", "features -> outputs",
                           fan_in=in_size, fan_out=out)]
        if head.bias:
            params.append(ir.Param("head.b", (out,), "zeros", "output bias"))
        return ir.Head(head.kind, in_size, out, head.bias, per_step, tuple(params))

    def bridge(self, bridge: spec.Bridge, summary_size: int, encoder: ir.Stack | None,
               decoder: ir.Stack, path: SpecPath) -> ir.Bridge:
        self.use(f"bridge_{bridge.kind}", path)
        if bridge.kind == "dense":
            params: list[ir.Param] = []
            for layer in decoder.layers:
                size = layer.state_sizes[0]
                params.append(ir.Param(f"bridge.layers.{layer.index}.W", (size, summary_size),
                                       "glorot_uniform", f"summary -> decoder layer "
                                       f"{layer.index} initial {layer.state_names[0]}",
                                       fan_in=summary_size, fan_out=size))
                params.append(ir.Param(f"bridge.layers.{layer.index}.b", (size,), "zeros",
                                       "bridge bias"))
            return ir.Bridge("dense", bridge.activation, summary_size, tuple(params))
        if "activation" in bridge.model_fields_set:
            self.error((*path, "activation"), "a copy bridge has no activation; it is only "
                       "used with kind: dense")
        if encoder is None:
            self.error((*path, "kind"), "a copy bridge needs an encoder; use kind: dense")
        else:
            self._check_copy(encoder, decoder, path)
        return ir.Bridge("copy", bridge.activation, summary_size, ())

    def _check_copy(self, encoder: ir.Stack, decoder: ir.Stack, path: SpecPath) -> None:
        if len(encoder.layers) != len(decoder.layers):
            self.error((*path, "kind"),
                       f"a copy bridge needs as many decoder layers as encoder layers "
                       f"({len(decoder.layers)} != {len(encoder.layers)})")
            return
        for enc, dec in zip(encoder.layers, decoder.layers, strict=True):
            if enc.bidirectional:
                self.error((*enc.path, "bidirectional"),
                           "a copy bridge needs a unidirectional encoder; use kind: dense")
            elif enc.cell != dec.cell or enc.state_sizes != dec.state_sizes:
                self.error(dec.path, f"a copy bridge needs matching layers: encoder layer "
                           f"{enc.index} is {cells.describe(enc)}, decoder layer {dec.index} is "
                           f"{cells.describe(dec)}")

    def decoder_feedback(self, decoder: ir.Stack, head: ir.Head, path: SpecPath) -> None:
        inp = decoder.input
        if head.kind == "softmax":
            if inp.kind != "tokens":
                self.error((*path, "input", "kind"),
                           "a decoder with a softmax head feeds tokens back: its input must be "
                           "tokens")
            elif inp.vocab_size != head.out_size:
                self.error((*path, "input", "vocab_size"),
                           f"the decoder's vocab_size ({inp.vocab_size}) must equal the head's "
                           f"classes ({head.out_size}): generated tokens are fed back")
        elif inp.kind != "features" or inp.step_size != head.out_size:
            self.error((*path, "input"),
                       f"a decoder with a regression head feeds its outputs back: its input "
                       f"must be features of size {head.out_size}")
        for layer in decoder.layers:
            if layer.bidirectional:
                self.error((*layer.path, "bidirectional"),
                           "a decoder generates step by step and cannot be bidirectional")


def _training(t: spec.Training, model: spec.Model, head: ir.Head | None,
              lowering: _Lowering) -> ir.Training:
    if t.optimizer == "lstsq" and not isinstance(model, spec.ARLinear):
        lowering.error(("training", "optimizer"), f"lstsq solves a linear least-squares problem "
                       f"exactly: only the ar_linear scheme is linear in its weights, and this "
                       f"model is {model.scheme}; use sgd, momentum, adam or adamw")
    if head is None and t.tbptt is not None:
        lowering.error(("training", "tbptt"), "tbptt truncates backpropagation through time, and "
                       "an autoregressive window model has no recurrence")
    natural = "cross_entropy" if head is not None and head.kind == "softmax" else "mse"
    loss = natural if t.loss == "auto" else t.loss
    if loss != natural:
        lowering.error(("training", "loss"),
                       f"loss {loss} does not fit this model's output; use {natural} or auto")
    return ir.Training(t.optimizer, t.learning_rate, t.epochs, t.batch_size, loss, t.clip_norm,
                       t.tbptt, t.seed, t.checkpoint_every, monitor=t.monitor, mode=t.mode,
                       patience=t.patience, min_delta=t.min_delta, restore_best=t.restore_best,
                       schedule=t.schedule, warmup_steps=t.warmup_steps, lr_decay=t.lr_decay,
                       lr_decay_epochs=t.lr_decay_epochs, weight_decay=t.weight_decay,
                       stateful=t.stateful)


def _data(d: spec.Data | None, lowering: _Lowering) -> ir.Data | None:
    """The data section on its own; whether it fits the model is :func:`_check_data`'s."""
    if d is None:
        return None
    if d.format == "csv" and d.column is None and d.columns is None:
        lowering.error(("data", "column"), "csv data needs the column of the time series "
                       "(or columns: the columns of a CSV of sequences)")
    if d.column is not None and d.columns is not None:
        lowering.error(("data", "columns"), "column names one time series and columns a CSV of "
                       "sequences; give one of them")
    for key, what in (("column", "column names a CSV column"), ("columns", "columns name the "
                                                                 "columns of a CSV")):
        if d.format != "csv" and getattr(d, key) is not None:
            lowering.error(("data", key), f"{what}, and the format is {d.format}")
    if d.format != "text" and "level" in d.model_fields_set:
        lowering.error(("data", "level"), f"level says how text is tokenised, and the format is "
                       f"{d.format}")
    if d.columns is not None and d.window is not None:
        lowering.error(("data", "window"), "window cuts a time series; a CSV of sequences "
                       "has its own (set sequence_length, the longest allowed)")
    if d.split.validation + d.split.test >= 1:
        lowering.error(("data", "split"), f"validation + test ({d.split.validation:g} + "
                       f"{d.split.test:g}) leaves no data for training; keep the sum below 1")
    columns = _columns(d.columns, lowering) if d.columns is not None else None
    return ir.Data(d.source, d.format, d.level, d.sequence_length, d.column, d.window,
                   d.split.validation, d.split.test, d.split.shuffle, columns=columns)


def _columns(c: spec.Columns, lowering: _Lowering) -> ir.Columns:
    def names(value: str | list[str] | None) -> tuple[str, ...]:
        return () if value is None else (value,) if isinstance(value, str) else tuple(value)

    roles = {"features": names(c.features), "sequence": (c.sequence,), "step": names(c.step),
             "label": names(c.label), "target": names(c.target)}
    seen: dict[str, str] = {}
    for role, taken in roles.items():
        for name in taken:
            if name in seen:
                lowering.error(("data", "columns", role), f"column {name!r} is already the "
                               f"{seen[name]} column; each column has one role")
            seen.setdefault(name, role)
    return ir.Columns(roles["features"], c.sequence, c.step, roles["label"], roles["target"])


def _check_data(model: ir.Model, lowering: _Lowering) -> None:
    """The data must be what the generated train.py reads for this model (one definition of
    each rule: :func:`seqspec.training.data_problems`, which train.py's plan uses too)."""
    from seqspec.training import data_problems

    reported = {p.path for p in lowering.problems}  # one problem a key: the first to fix
    for where, message in data_problems(model):
        if ("data", *where) not in reported:
            lowering.error(("data", *where), message)


def _ar(model: spec.ARLinear | spec.ARNetwork, lowering: _Lowering) -> ir.AR:
    lowering.use(model.scheme, ("model", "scheme"))
    if isinstance(model, spec.ARLinear):
        params = [ir.Param("ar.phi", (model.order,), "zeros", "phi_1..phi_p: weights of x_{t-1}"
                           "..x_{t-p}")]
        if model.bias:
            params.append(ir.Param("ar.c", (1,), "zeros", "the constant c"))
        return ir.AR("linear", model.order, model.bias, (), "", tuple(params))
    sizes = [model.order, *model.hidden, 1]
    params = []
    for k in range(len(sizes) - 1):
        params.append(ir.Param(f"mlp.layers.{k}.W", (sizes[k + 1], sizes[k]), model.init.input,
                               "window -> hidden" if k == 0 else "hidden -> next",
                               scale=0.01 * model.init.scale if model.init.input == "normal"
                               else model.init.scale, fan_in=sizes[k], fan_out=sizes[k + 1]))
        params.append(ir.Param(f"mlp.layers.{k}.b", (sizes[k + 1],), "zeros", "bias"))
    return ir.AR("mlp", model.order, True, tuple(model.hidden), model.activation, tuple(params))


def lower(doc: spec.Spec, *, source_name: str = "<spec>", spec_sha256: str = "") -> ir.Model:
    """Build the normalized model; raise :class:`SpecError` with every semantic problem."""
    lw = _Lowering()
    m = doc.model
    encoder = decoder = None
    bridge = None
    head = None
    ar = None
    pooling = ""
    vector_size = 0
    max_length = start_token = 0
    end_token = None
    mp: SpecPath = ("model",)
    lw.use(m.scheme, (*mp, "scheme"))
    if isinstance(m, spec.ManyToMany | spec.ManyToOne):
        encoder = lw.stack("encoder", m, mp)
        per_step = isinstance(m, spec.ManyToMany)
        head = lw.head(m.head, encoder.output_size, per_step, (*mp, "head"))
        if isinstance(m, spec.ManyToOne):
            pooling = m.pooling
            lw.use(f"pooling_{pooling}", (*mp, "pooling"))
    elif isinstance(m, spec.OneToMany | spec.Seq2Seq):
        if isinstance(m, spec.Seq2Seq):
            encoder = lw.stack("encoder", m.encoder, (*mp, "encoder"))
            summary = encoder.output_size
        else:
            lw.use("vector", (*mp, "input"))
            vector_size = summary = m.input.size
        decoder = lw.stack("decoder", m.decoder, (*mp, "decoder"))
        head = lw.head(m.head, decoder.output_size, True, (*mp, "head"))
        lw.decoder_feedback(decoder, head, (*mp, "decoder"))
        bridge = lw.bridge(m.bridge, summary, encoder, decoder, (*mp, "bridge"))
        max_length, start_token, end_token = m.max_length, m.start_token, m.end_token
        if decoder.input.kind == "tokens":
            for key, token in (("start_token", start_token), ("end_token", end_token)):
                if token is not None and token >= decoder.input.vocab_size:
                    lw.error((*mp, key), f"{key} {token} is not below the decoder's "
                             f"vocab_size {decoder.input.vocab_size}")
        else:
            for key in ("start_token", "end_token"):
                if key in m.model_fields_set:
                    lw.error((*mp, key), f"{key} is a token id, and this decoder reads "
                             "features, not tokens")
    else:
        ar = _ar(m, lw)

    model = ir.Model(
        name=doc.name,
        description=doc.description,
        source_name=source_name,
        spec_sha256=spec_sha256,
        scheme=m.scheme,
        encoder=encoder,
        decoder=decoder,
        vector_size=vector_size,
        bridge=bridge,
        pooling=pooling,
        head=head,
        ar=ar,
        max_length=max_length,
        start_token=start_token,
        end_token=end_token,
        training=_training(doc.training, m, head, lw),
        data=_data(doc.data, lw),
        feature_sites=tuple(lw.sites),
    )
    count = model.parameter_count
    if count > spec.MAX_PARAMETERS:
        lw.error(mp, f"the model has {count:,} parameters, over the limit of "
                 f"{spec.MAX_PARAMETERS:,}; refusing before anything is allocated")
    _check_data(model, lw)
    if not lw.problems:
        _check_monitor(model, lw)
        _check_stateful(model, doc.data, lw)
    if lw.problems:
        raise SpecError(lw.problems)
    return model


def _check_monitor(model: ir.Model, lowering: _Lowering) -> None:
    """training.monitor must name a record the generated train.py writes for this model."""
    from seqspec.training import monitors  # what train.py records for this model

    allowed = monitors(model)
    if allowed is not None and model.training.monitor not in allowed:
        lowering.error(("training", "monitor"), f"{model.training.monitor} is not recorded for "
                       f"this model; use one of {', '.join(allowed)}")


def _check_stateful(model: ir.Model, data: spec.Data | None, lowering: _Lowering) -> None:
    """training.stateful needs a language model on text that carries its state forward, and
    reads the text in order: an explicit data.split.shuffle: true contradicts it."""
    from seqspec.training import monitors  # None: train.py cannot train this model

    if not model.training.stateful:
        return
    enc = model.encoder
    lm = model.data is None or model.data.format == "text"
    if not (lm and monitors(model) is not None and model.scheme == "many_to_many"
            and model.can_generate and enc is not None
            and not any(layer.bidirectional for layer in enc.layers)):
        lowering.error(("training", "stateful"), "stateful training carries a language model's "
                       "state from row to row: it needs text data and no bidirectional layer")
    elif data is not None and data.split.shuffle and "shuffle" in data.split.model_fields_set:
        lowering.error(("data", "split", "shuffle"), "stateful training reads the text in order; "
                       "remove shuffle (text is never shuffled then)")


def parameter_count_by_layer(model: ir.Model) -> list[tuple[str, int]]:
    """(group, count) rows for ``seqspec inspect``."""
    rows: list[tuple[str, int]] = []
    for stack in model.stacks:
        if stack.input.params:
            rows.append((f"{stack.name}.embedding", sum(p.size for p in stack.input.params)))
        for layer in stack.layers:
            rows.append((layer.prefix, sum(p.size for p in layer.params)))
    for group, obj in (("bridge", model.bridge), ("head", model.head), ("ar", model.ar)):
        if obj is not None and obj.params:
            rows.append((group, sum(p.size for p in obj.params)))
    return rows
