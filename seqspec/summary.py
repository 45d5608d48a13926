"""What ``seqspec inspect`` shows: one row per part of a normalized model, with sizes and counts.

Rows are built from the IR (:mod:`seqspec.ir`); their parameter counts add up, per group, to
:func:`seqspec.lower.parameter_count_by_layer` and in total to ``model.parameter_count``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from seqspec import ir

#: How parameters are counted; printed under the table and written in docs/spec.md.
COUNTING_NOTE = (
    "Parameters are every weight scalar of the canonical weights. Biases are parameters and are "
    "counted when bias: true (the default); with bias: false a cell has no b_*, bhn or bo and a "
    "head no b. Each direction of a bidirectional layer has its own parameters; LSTM peepholes "
    "add 3H per direction; a one-hot input has none."
)


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    group: str  # the parameter_count_by_layer group, e.g. "encoder.layers.0"; "" for none
    part: str  # encoder | decoder | input | bridge | head | ar | mlp
    layer: str  # layer index, "input", or ""
    kind: str  # cell, input encoding, bridge or head kind
    directions: str  # "forward", "forward+backward (concat)", or ""
    input_size: int
    output_size: int
    states: dict[str, int]
    parameters: int


def _input_rows(stack: ir.Stack) -> list[Row]:
    inp = stack.input
    params = sum(p.size for p in inp.params)
    group = f"{stack.name}.embedding" if inp.params else ""
    if inp.kind == "tokens":
        kind, size = f"tokens, {inp.encoding}", inp.vocab_size
    else:
        kind, size = "features", inp.step_size
    return [Row(group, stack.name, "input", kind, "", size, inp.step_size, {}, params)]


def _layer_row(stack: ir.Stack, layer: ir.Layer) -> Row:
    directions = f"forward+backward ({layer.merge_mode})" if layer.bidirectional else "forward"
    states = dict(zip(layer.state_names, layer.state_sizes, strict=True))
    return Row(
        layer.prefix,
        stack.name,
        str(layer.index),
        layer.cell,
        directions,
        layer.input_size,
        layer.output_size,
        states,
        sum(p.size for p in layer.params),
    )


def rows(model: ir.Model) -> list[Row]:
    """Every row of the table, bottom of the model first."""
    out: list[Row] = []
    if model.scheme == "one_to_many":
        out.append(Row("", "input", "", "vector", "", model.vector_size, model.vector_size, {}, 0))
    for stack in model.stacks:
        if stack.name == "decoder" and model.bridge is not None:
            out.extend(_bridge_rows(model.bridge, stack))
        out.extend(_input_rows(stack))
        out.extend(_layer_row(stack, layer) for layer in stack.layers)
    head = model.head
    if head is not None:
        out.append(
            Row(
                "head",
                "head",
                "",
                head.kind,
                "",
                head.in_size,
                head.out_size,
                {},
                sum(p.size for p in head.params),
            )
        )
    if model.ar is not None:
        out.extend(_ar_rows(model.ar))
    return out


def _bridge_rows(bridge: ir.Bridge, decoder: ir.Stack) -> list[Row]:
    if bridge.kind == "copy":
        return [Row("", "bridge", "", "copy", "", bridge.summary_size, bridge.summary_size, {}, 0)]
    out = []
    for layer in decoder.layers:
        params = [p for p in bridge.params if p.name.startswith(f"bridge.layers.{layer.index}.")]
        out.append(
            Row(
                "bridge",
                "bridge",
                str(layer.index),
                f"dense ({bridge.activation})",
                "",
                bridge.summary_size,
                params[0].shape[0],
                {},
                sum(p.size for p in params),
            )
        )
    return out


def _ar_rows(ar: ir.AR) -> list[Row]:
    if ar.kind == "linear":
        return [
            Row("ar", "ar", "", "ar_linear", "", ar.order, 1, {}, sum(p.size for p in ar.params))
        ]
    out = []
    for k in range(len(ar.hidden) + 1):
        w = next(p for p in ar.params if p.name == f"mlp.layers.{k}.W")
        b = next(p for p in ar.params if p.name == f"mlp.layers.{k}.b")
        kind = f"dense ({ar.activation})" if k < len(ar.hidden) else "dense (linear)"
        out.append(Row("ar", "mlp", str(k), kind, "", w.shape[1], w.shape[0], {}, w.size + b.size))
    return out


@dataclass(frozen=True)
class NativeCount:
    """A framework's own parameter count of the generated model, and why it differs."""

    backend: str
    total: int
    #: (layer prefix, native minus canonical, reason), one per layer that differs.
    differences: tuple[tuple[str, int, str], ...]


def native_counts(model: ir.Model) -> list[NativeCount]:
    """Each registered backend's native count (torch's ``parameters()``, Keras'
    ``count_params()``), computed from the IR by the backend's own rule, never by importing a
    framework. A backend without a rule holds exactly the canonical parameters."""
    from seqspec import registry

    out = []
    for name in registry.names():
        try:
            backend = registry.get(name)
        except Exception:  # a broken plug-in: inspect still shows everything else
            continue
        rule = backend.native_parameters
        differences = tuple(rule(model)) if rule is not None else ()
        out.append(NativeCount(name, model.parameter_count + sum(d for _, d, _ in differences),
                               differences))
    return out


def _native_lines(counts: list[NativeCount]) -> list[str]:
    """The text block under the table: one line per backend, then each reason once."""
    width = max(len(c.backend) for c in counts)
    digits = max(len(f"{c.total:,}") for c in counts)
    lines = ["native parameter counts (each framework's own count of the generated model):"]
    for c in counts:
        diff = sum(d for _, d, _ in c.differences)
        note = "the canonical layout" if not c.differences else f"{diff:+,}"
        lines.append(f"  {c.backend.ljust(width)}  {c.total:>{digits},}  {note}")
        reasons: dict[str, list[str]] = {}
        for prefix, d, reason in c.differences:
            reasons.setdefault(reason, []).append(f"{prefix} {d:+,}")
        for reason, layers in reasons.items():
            lines.append(f"    {reason}: {', '.join(layers)}")
    return lines


def as_json(model: ir.Model, file: str) -> dict[str, object]:
    """The ``--format json`` document."""
    return {
        "file": file,
        "name": model.name,
        "scheme": model.scheme,
        "rows": [asdict(r) for r in rows(model)],
        "total_parameters": model.parameter_count,
        "counting": COUNTING_NOTE,
        "native_parameters": {
            c.backend: {"total": c.total, "differences": [
                {"layer": prefix, "difference": d, "reason": reason}
                for prefix, d, reason in c.differences]}
            for c in native_counts(model)
        },
    }


def as_table(model: ir.Model, file: str) -> str:
    """The text table, with a title line, the total and how parameters are counted."""
    header = ("part", "layer", "kind", "directions", "input", "output", "state", "parameters")
    body = [
        (
            r.part,
            r.layer,
            r.kind,
            r.directions or "-",
            f"{r.input_size:,}",
            f"{r.output_size:,}",
            ", ".join(f"{k}={v:,}" for k, v in r.states.items()) or "-",
            f"{r.parameters:,}",
        )
        for r in rows(model)
    ]
    total = ("total", "", "", "", "", "", "", f"{model.parameter_count:,}")
    widths = [max(len(line[i]) for line in (header, *body, total)) for i in range(len(header))]
    right = {4, 5, 7}  # numbers are right-aligned

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [
        f"{model.name} ({model.scheme}) from {file}",
        "",
        fmt(header),
        rule,
        *(fmt(line) for line in body),
        rule,
        fmt(total),
        "",
        *_native_lines(native_counts(model)),
        "",
        _wrap(COUNTING_NOTE),
    ]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 88) -> str:
    import textwrap

    return textwrap.fill(text, width)
