"""What a generated ``train.py`` needs to know, decided once here instead of in templates.

Every backend renders its ``train.py.j2`` with :func:`render_train`; the template receives
``model`` (the IR) and ``train``, a :class:`TrainPlan` that says which data reader, which
targets, which loss and which metrics the script uses. The shared, framework-free pieces of
the script live in ``seqspec/templates/_train_*.py.j2``.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seqspec import ir

if TYPE_CHECKING:
    import jinja2


def str_literal(value: str | None) -> str:
    """``pyrepr(value)``, double-quoted where that needs no escape (what ``ruff format`` writes)."""
    from seqspec.render import pyrepr  # render loads jinja2, which seqspec validate must not

    text = pyrepr(value)
    if value is not None and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


@dataclass(frozen=True)
class TrainPlan:
    """How the generated training script reads data, batches it and scores the model."""

    trainable: bool  # False: train.py only explains why (``reason``) and exits
    reason: str
    reason_literal: str
    fmt: str  # text | npz | csv: the data file's format
    reads: str  # text | npz | csv (a series) | table (a CSV of sequences): train.py's reader
    data_path: str | None  # default --data, relative to the output folder (or absolute)
    data_literal: str  # data_path as a Python literal (made by str_literal)
    data_outside: bool  # data.source leaves the spec's folder (absolute, or up through "..")
    column_literal: str  # the CSV column as a Python literal
    lm: bool  # a language model over one token stream (text data): vocab, TBPTT, sampling
    level: str  # char | word (text only)
    sequence_length: int  # steps per training sequence (text), window (csv)
    validation: float
    test: float
    shuffle: bool
    softmax: bool  # cross-entropy over classes, else mean squared error
    per_step: bool  # one target per step (masked by the lengths) or one per sequence
    out_size: int  # classes or regression outputs
    x_tokens: bool  # the encoder reads token ids (else float features)
    x_var: bool  # the model takes the encoder's lengths
    x_padding: str
    y_tokens: bool  # a decoder reads token ids (teacher forcing)
    y_var: bool
    y_padding: str
    y_lengths_key: str  # "lengths" (one_to_many) | "y_lengths" (seq2seq) | ""
    carry_state: bool  # TBPTT carries the final state into the next chunk
    free_decode: bool  # exact match by free-running generate (token decoders)
    metrics: tuple[str, ...]  # the validation metrics besides the loss, in print order
    monitors: tuple[str, ...]  # what --monitor may name: the records of an epoch
    target: str  # the headline validation metric (the summary line names it)
    exact: bool  # the model is linear in its weights: --optimizer lstsq solves it in closed form
    columns: ir.Columns | None  # table: which CSV columns are what
    defaults: dict[str, object] = field(default_factory=dict)


def _ar_window(model: ir.Model) -> int:
    assert model.ar is not None
    return model.ar.order


def _data_path(model: ir.Model) -> str | None:
    """Where train.py finds the data: compile_spec's path, else the spec's own string."""
    if model.data is None:
        return None
    return model.data.path or model.data.source


def source_outside_folder(source: str) -> bool:
    """Whether a spec's ``data.source`` names a file outside the spec's own folder tree.

    Decided on the text alone (absolute, or climbing out through ``..``), so the answer does not
    depend on where the spec is compiled; the generated train.py then reads such a file only
    with ``--allow-outside-data``.
    """
    if os.path.isabs(source) or source.startswith(("/", "\\")) or ":" in source[:3]:
        return True
    parts = source.replace("\\", "/").split("/")
    depth = 0
    for part in parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


#: What a CSV time series (``data.column``) trains: the one refusal message, for both.
SERIES_MODELS = ("a CSV time series trains AR models, or recurrent forecasters over one "
                 "feature (size 1) with a regression head of 1 output; a CSV of sequences "
                 "takes columns instead")


def data_problems(model: ir.Model) -> list[tuple[tuple[str, ...], str]]:
    """What keeps train.py from reading this model's data: (key under ``data``, message) pairs.

    The one definition of each rule: ``seqspec validate`` reports them at the spec's ``data``
    keys, and :func:`plan` makes train.py refuse (and say why) where no data section was checked.
    """
    data = model.data
    fmt = _format(model)
    if fmt == "text" and not (model.scheme == "many_to_many" and model.can_generate):
        return [(("format",), "text data trains a language model: many_to_many over tokens "
                 "with a softmax head whose classes equal the vocab_size")]
    if fmt != "csv":
        return []
    if data is not None and data.columns is not None:
        return _columns_problems(model, data.columns)
    if model.ar is not None:
        if data is not None and data.window not in (None, model.ar.order):
            return [(("window",), f"window ({data.window}) must equal the model's order "
                     f"({model.ar.order}): the model reads windows of that many values")]
        return []
    enc, head = model.encoder, model.head
    ok = (
        model.scheme in ("many_to_many", "many_to_one")
        and enc is not None
        and enc.input.kind == "features"
        and enc.input.step_size == 1
        and head is not None
        and head.kind == "regression"
        and head.out_size == 1
    )
    return [] if ok else [(("column",), SERIES_MODELS)]


def _columns_problems(model: ir.Model, columns: ir.Columns) -> list[tuple[tuple[str, ...], str]]:
    """A CSV of sequences feeds the features of a many_to_one or many_to_many encoder."""
    enc, head = model.encoder, model.head
    if model.scheme not in ("many_to_one", "many_to_many") or enc is None or head is None:
        return [(("columns",), f"a CSV of sequences trains many_to_one and many_to_many "
                 f"models, and this one is {model.scheme}; use npz data")]
    if enc.input.kind != "features":
        return [(("columns",), "a CSV of sequences feeds feature columns, and this model reads "
                 "token ids; use npz or text data")]
    problems: list[tuple[tuple[str, ...], str]] = []
    if len(columns.features) != enc.input.step_size:
        problems.append((("columns", "features"), f"{len(columns.features)} feature columns "
                         f"for an input of size {enc.input.step_size}; name one per input value"))
    role, other = ("label", "target") if model.scheme == "many_to_one" else ("target", "label")
    if getattr(columns, other):
        what = "per sequence" if other == "label" else "per step"
        problems.append((("columns", other), f"{other} columns give one value {what}, and "
                         f"{model.scheme} needs {role} columns"))
    given = getattr(columns, role)
    want = 1 if head.kind == "softmax" else head.out_size
    if not given:
        problems.append((("columns",), f"{model.scheme} needs {role}: the column(s) of what "
                         "the model predicts"))
    elif len(given) != want:
        what = "class id" if head.kind == "softmax" else f"{want} regression outputs"
        problems.append((("columns", role), f"{len(given)} {role} columns for a head of "
                         f"{what}; name {want}"))
    return problems


def _format(model: ir.Model) -> str:
    """The data format train.py reads: the spec's, or what the scheme implies."""
    if model.data is not None:
        return model.data.format
    if model.ar is not None:
        return "csv"
    if model.scheme == "many_to_many" and model.can_generate:
        return "text"
    return "npz"


def _metrics(model: ir.Model, lm: bool) -> tuple[str, ...]:
    """The validation metrics besides the loss, in print order."""
    head, dec = model.head, model.decoder
    softmax = head is not None and head.kind == "softmax"
    level = model.data.level if model.data is not None else "char"
    if softmax and lm:
        return ("bpc",) if level == "char" else ("perplexity",)
    if softmax and dec is not None and dec.input.kind == "tokens":
        return ("accuracy", "exact_match")  # exact_match: decoding freely, with argmax
    return ("accuracy",) if softmax else ("rmse",)


def monitors(model: ir.Model) -> tuple[str, ...] | None:
    """What training.monitor may name for this model (None: train.py cannot train it).

    Light on purpose: ``seqspec validate`` calls it and must not load jinja2 or numpy.
    """
    fmt = _format(model)
    if data_problems(model):
        return None
    return ("train_loss", "val_loss", *(f"val_{m}" for m in _metrics(model, fmt == "text")))


def plan(model: ir.Model) -> TrainPlan:
    """Decide everything the training script needs from the IR."""
    t = model.training
    data = model.data
    fmt = _format(model)
    problems = data_problems(model)
    reason = problems[0][1] if problems else ""
    path = _data_path(model)
    enc, dec, head = model.encoder, model.decoder, model.head
    softmax = head is not None and head.kind == "softmax"
    per_step = model.scheme in ("many_to_many", "one_to_many", "seq2seq")
    lm = fmt == "text" and not reason
    columns = data.columns if data is not None and fmt == "csv" else None
    if model.ar is not None:
        seq_len = _ar_window(model)
    elif data is not None and fmt == "csv" and columns is None:
        seq_len = data.window or data.sequence_length
    else:
        seq_len = data.sequence_length if data is not None else 100
    level = data.level if data is not None else "char"
    metrics = _metrics(model, lm)
    carry = lm and enc is not None and not any(layer.bidirectional for layer in enc.layers)
    out_size = head.out_size if head is not None else 1
    y_key = {"one_to_many": "lengths", "seq2seq": "y_lengths"}
    defaults: dict[str, object] = {
        "optimizer": t.optimizer,
        "lr": t.learning_rate,
        "weight_decay": t.weight_decay,
        "epochs": t.epochs,
        "batch_size": t.batch_size,
        "clip_norm": t.clip_norm,
        "tbptt": t.tbptt,
        "seed": t.seed,
        "checkpoint_every": t.checkpoint_every,
        "monitor": t.monitor,
        "mode": t.mode,
        "patience": t.patience or 0,
        "min_delta": t.min_delta,
        "restore_best": t.restore_best,
        "schedule": t.schedule,
        "warmup_steps": t.warmup_steps,
        "lr_decay": t.lr_decay,
        "lr_decay_epochs": t.lr_decay_epochs,
    }
    return TrainPlan(
        trainable=not reason,
        reason=reason,
        reason_literal=str_literal(reason),
        fmt=fmt,
        reads="table" if columns is not None else fmt,
        data_path=path,
        data_literal=str_literal(path),
        data_outside=data is not None and source_outside_folder(data.source),
        column_literal=str_literal(data.column if data is not None else None),
        lm=lm,
        level=level,
        sequence_length=seq_len,
        validation=data.validation if data is not None else 0.1,
        test=data.test if data is not None else 0.0,
        shuffle=data.shuffle if data is not None else True,
        softmax=softmax,
        per_step=per_step,
        out_size=out_size,
        x_tokens=enc is not None and enc.input.kind == "tokens",
        x_var=enc is not None and enc.input.variable_length,
        x_padding=enc.input.padding if enc is not None else "right",
        y_tokens=dec is not None and dec.input.kind == "tokens",
        y_var=dec is not None and dec.input.variable_length,
        y_padding=dec.input.padding if dec is not None else "right",
        y_lengths_key=y_key.get(model.scheme, "") if dec is not None else "",
        carry_state=carry,
        free_decode=softmax and dec is not None and dec.input.kind == "tokens",
        metrics=metrics,
        monitors=("train_loss", "val_loss", *(f"val_{m}" for m in metrics)),  # = monitors()
        target=metrics[0],
        exact=model.ar is not None and model.ar.kind == "linear",
        columns=columns,
        defaults=defaults,
    )


def _npz_arrays(model: ir.Model, train: TrainPlan) -> tuple[dict[str, object], tuple]:
    """The .npz arrays the model trains on, name -> (shape, bound of its token ids or None), and
    the (lengths array, the array whose steps it counts) pairs."""
    scheme, enc, dec = model.scheme, model.encoder, model.decoder
    y_steps = "Ty" if scheme in ("seq2seq", "one_to_many") else "T"
    if dec is not None and train.y_tokens:
        y_ids: int | None = min(train.out_size, dec.input.vocab_size)
    else:
        y_ids = train.out_size if train.softmax else None
    if train.softmax:
        y_dims: tuple = ("N", y_steps) if train.per_step else ("N",)
    else:
        y_dims = ("N", y_steps, train.out_size) if train.per_step else ("N", train.out_size)
    arrays: dict[str, object] = {}
    if model.ar is not None:
        arrays["windows"] = (("N", model.ar.order), None)
    elif scheme == "one_to_many":
        arrays["features"] = (("N", model.vector_size), None)
    else:
        assert enc is not None
        x_dims = ("N", "T") if train.x_tokens else ("N", "T", enc.input.step_size)
        arrays["x"] = (x_dims, enc.input.vocab_size if train.x_tokens else None)
    arrays["y"] = (y_dims, y_ids)
    lengths = {
        "many_to_many": (("lengths", "x"),), "many_to_one": (("lengths", "x"),),
        "one_to_many": (("lengths", "y"),), "seq2seq": (("x_lengths", "x"), ("y_lengths", "y")),
    }.get(scheme, ())
    for key, _ in lengths:
        arrays[key] = (("N",), None)
    return arrays, lengths


def task_fields(model: ir.Model, train: TrainPlan) -> list[tuple[str, str, str]]:
    """The fields of train.py's ``Task(...)``: (name, Python literal, comment), only those that
    mean something for this spec (the others keep the runtime's defaults)."""
    from seqspec.render import pyrepr

    fields: list[tuple[str, str, str]] = [
        ("name", str_literal(model.name), ""),
        ("reads", pyrepr(train.reads), "the data file's format"),
        ("data", train.data_literal, "the default --data, relative to this folder"),
        ("data_outside_spec", pyrepr(train.data_outside),
         "True: reading it needs --allow-outside-data"),
        ("here", "os.path.dirname(os.path.abspath(__file__))", ""),
        ("defaults", "DEFAULTS", ""),
        ("scheme", pyrepr(model.scheme), ""),
        ("softmax", pyrepr(train.softmax),
         "cross-entropy over classes" if train.softmax else "mean squared error"),
        ("out_size", pyrepr(train.out_size), "classes" if train.softmax else "outputs"),
        ("per_step", pyrepr(train.per_step), ""),
        ("metrics", pyrepr(train.metrics), "besides the loss; the first is the headline"),
        ("validation", pyrepr(train.validation), "fraction held out for validation"),
        ("test", pyrepr(train.test), "fraction held out for the final test"),
    ]
    if train.fmt != "text":
        fields.append(("shuffle", pyrepr(train.shuffle), ""))
    if train.fmt == "text":
        assert model.encoder is not None
        fields += [
            ("level", pyrepr(train.level), ""),
            ("vocab_size", pyrepr(model.encoder.input.vocab_size), "id 0: unknown tokens"),
            ("sequence_length", pyrepr(train.sequence_length), "steps per training row"),
            ("carry_state", pyrepr(train.carry_state), "TBPTT carries the state across chunks"),
        ]
        if model.training.stateful:
            fields.append(("stateful", "True", "a row's final state starts its stream's next row"))
    elif train.columns is not None:
        fields += _table_fields(model, train.columns, train.sequence_length)
    elif train.fmt == "csv":
        fields += [
            ("window", pyrepr(train.sequence_length), "past values per prediction"),
            ("column", train.column_literal, "the default --column"),
        ]
    else:
        _, lengths = _npz_arrays(model, train)
        fields.append(("arrays", "ARRAYS", ""))
        if lengths:
            fields.append(("lengths", pyrepr(lengths), "(lengths, the array whose steps)"))
        if model.decoder is not None:
            fields.append(("decoder_input", pyrepr("tokens" if train.y_tokens else "features"),
                           "teacher forcing: the targets shifted by one"))
            if train.y_tokens:
                fields.append(("start_token", pyrepr(model.start_token), ""))
    if train.x_var:
        fields.append(("x_padding", pyrepr(train.x_padding), "where short inputs are padded"))
    if train.y_var:
        fields.append(("y_padding", pyrepr(train.y_padding), ""))
    if train.y_lengths_key:
        fields.append(("y_lengths_key", pyrepr(train.y_lengths_key), ""))
    if train.free_decode:
        fields.append(("free_decode", "True", "validation decodes freely too: exact_match"))
    if "dropout" in model.features:
        fields.append(("dropout", "True", "training steps draw dropout masks"))
    if train.exact:
        assert model.ar is not None
        fields.append(("least_squares", "True", "--optimizer lstsq solves it exactly"))
        fields.append(("ar_bias", pyrepr(model.ar.bias), ""))
    return fields


def _table_fields(model: ir.Model, columns: ir.Columns, longest: int) -> list:
    """Task fields of a CSV of sequences: its columns, and the longest sequence it may hold."""
    from seqspec.render import pyrepr

    role = "label" if model.scheme == "many_to_one" else "target"
    fields = [
        ("feature_columns", pyrepr(columns.features), "each step's inputs, in order"),
        ("sequence_column", pyrepr(columns.sequence), "consecutive rows with one id: a sequence"),
    ]
    if columns.step is not None:
        fields.append(("step_column", pyrepr(columns.step), "orders the rows of a sequence"))
    per = "one per sequence" if role == "label" else "one per step"
    fields.append(("target_columns", pyrepr(getattr(columns, role)), f"the {role}: {per}"))
    fields.append(("sequence_length", pyrepr(longest), "the longest sequence allowed"))
    return fields


def task_lines(fields: list[tuple[str, str, str]]) -> list[str]:
    """``name=literal,  # note`` lines of Task(...); a note that would pass 100 columns goes on
    the line above."""
    from seqspec.render import comment

    lines = []
    for name, literal, note in fields:
        line = f"{name}={literal},"
        if len(line) > 96 and literal.startswith("(") and literal.endswith(")"):
            # a long tuple (many CSV columns): one item a line, as ruff format writes it
            from seqspec.render import pyrepr

            if note:
                lines.append(f"# {comment(note)}")
            items = ast.literal_eval(literal)
            lines += [f"{name}=(", *(f"    {pyrepr(item)}," for item in items), "),"]
            continue
        if note and len(line) + len(note) + 8 <= 100:
            line += f"  # {comment(note)}"
        elif note:
            lines.append(f"# {comment(note)}")
        lines.append(line)
    return lines


def npz_arrays_literal(model: ir.Model, train: TrainPlan) -> list[tuple[str, str]]:
    """train.py's ARRAYS entries: (name, literal of (shape, id bound))."""
    from seqspec.render import pyrepr

    arrays, _ = _npz_arrays(model, train)
    return [(name, pyrepr(value)) for name, value in arrays.items()]


RUNTIME = "{backend}_train_runtime.py"  # the training runtime's file name, per backend


def render_train(env: jinja2.Environment, model: ir.Model, backend: str) -> dict[str, str]:
    """train.py, predict.py and the backend's training runtime, by file name.

    The runtime is rendered without the spec: byte-identical for every spec of a backend.
    """
    train = plan(model)
    runtime = RUNTIME.format(backend=backend)
    context = {"model": model, "train": train, "runtime": runtime[:-3], "backend": backend}
    if train.trainable:
        context["task"] = task_lines(task_fields(model, train))
        context["arrays"] = npz_arrays_literal(model, train) if train.fmt == "npz" else []
    files = {
        "train.py": env.get_template("train.py.j2").render(**context),
        "predict.py": env.get_template("predict.py.j2").render(**context),
    }
    if train.trainable:
        files[runtime] = env.get_template("train_runtime.py.j2").render()
    return files


def data_location(source: str, spec_file: str | os.PathLike[str],
                  out_dir: str | os.PathLike[str]) -> str:
    """Where the compiled ``train.py`` finds ``source``: relative to ``out_dir`` when possible.

    ``source`` is relative to the spec file's folder (or absolute). The result uses ``/`` so
    the generated script reads the same on every system.
    """
    if os.path.isabs(source):
        return Path(source).as_posix()
    target = Path(spec_file).resolve().parent / source
    try:
        rel = os.path.relpath(target, Path(out_dir).resolve())
    except ValueError:  # another drive on Windows
        return target.as_posix()
    return Path(rel).as_posix()
