"""Turn pydantic's validation errors into located, human problems with "did you mean" hints."""

from __future__ import annotations

import collections
import difflib
import functools
import re
import typing
from typing import Any

import pydantic
from pydantic import BaseModel

from seqspec import spec
from seqspec.errors import Problem, SpecPath, format_path

_DISCRIMINATORS = ("scheme", "cell", "kind")

#: pydantic error type -> what the value must be (the value is appended as "(got ...)").
_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string (quote it if YAML read it as something else)",
}


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    """Every key that appears anywhere in the spec language."""
    names: set[str] = set()
    seen: set[type] = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for name, field in tp.model_fields.items():
                names.add(name)
                visit(field.annotation)
                for meta in field.metadata:
                    visit(meta)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    visit(spec.Spec)
    return tuple(sorted(names))


def _members(tp: Any) -> list[Any]:
    """The alternatives inside ``tp`` (unwrapping Annotated, Optional, unions and lists)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Annotated:
        return _members(args[0])
    if args and typing.get_origin(tp) is not typing.Literal:
        return [m for a in args for m in _members(a)]
    return [tp]


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The spec model class that a pydantic location points into, or None."""
    current: Any = spec.Spec
    for part in loc:
        models = [m for m in _members(current) if isinstance(m, type)
                  and issubclass(m, BaseModel)]
        if isinstance(part, int):
            continue  # a list index: the item type is among the members already
        chosen = None
        for model in models:
            if part in model.model_fields:
                chosen = model.model_fields[part].annotation
                break
        if chosen is None:
            tagged = [m for m in models if any(
                part in typing.get_args(m.model_fields[d].annotation)
                for d in _DISCRIMINATORS if d in m.model_fields)]
            if len(tagged) != 1:
                return None
            current = tagged[0]  # a union tag such as 'lstm': the member it names
            continue
        current = chosen
    models = [m for m in _members(current) if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def _close(word: str, candidates: typing.Iterable[str]) -> str | None:
    """The candidate closest to ``word`` in spelling, ignoring case; None if none is close."""
    by_lower = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def _hint(word: str, candidates: typing.Iterable[str]) -> str:
    match = _close(word, candidates)
    return f"; did you mean {match!r}?" if match else ""


def _show(value: Any) -> str:
    """A value as YAML would show it, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_path(loc: tuple[str | int, ...], data: Any) -> SpecPath:
    """Drop the union tags that pydantic puts into locations, by walking the data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            if isinstance(part, str) and part in node:
                path.append(part)
                node = node[part]
                continue
            if any(node.get(d) == part for d in _DISCRIMINATORS):
                continue  # a union tag such as 'lstm' in ('layers', 0, 'lstm', 'hidden_size')
            path.append(part)
            node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        else:
            if isinstance(part, str) and part.startswith(("function-", "lax-or-strict")):
                continue
            path.append(part)
            node = None
    return tuple(path)


#: Names other tools use for a key, checked when spelling does not find it.
_SYNONYMS = {
    "lr": "learning_rate",
    "units": "hidden_size",
    "num_units": "hidden_size",
    "hidden_dim": "hidden_size",
    "hidden_units": "hidden_size",
    "type": "cell",
    "rnn": "cell",
    "vocab": "vocab_size",
    "num_tokens": "vocab_size",
    "embed_dim": "embedding_dim",
    "embedding_size": "embedding_dim",
    "num_classes": "classes",
    "n_classes": "classes",
    "input_size": "size",
    "input_dim": "size",
    "bidirectional_merge": "merge_mode",
    "merge": "merge_mode",
    "p": "order",
    "lags": "order",
}


#: Values other tools (or another key of seqspec) use for an allowed value, checked when
#: spelling does not find it: ``pooling: avg`` -> mean, ``merge_mode: avg`` -> ave.
_VALUE_SYNONYMS = {
    "avg": ("mean", "ave"),
    "average": ("mean", "ave"),
    "mean": ("ave",),
    "ave": ("mean",),
    "add": ("sum",),
    "multiply": ("mul",),
    "product": ("mul",),
    "prod": ("mul",),
    "concatenate": ("concat",),
    "cat": ("concat",),
    "final": ("last",),
    "maximum": ("max",),
    "rnn": ("elman",),
    "simple": ("elman",),
    "simplernn": ("elman",),
    "simple_rnn": ("elman",),
    "vanilla": ("elman",),
    "onehot": ("one_hot",),
    "one-hot": ("one_hot",),
    "embeddings": ("embedding",),
    "classification": ("softmax",),
    "classifier": ("softmax",),
    "categorical": ("softmax",),
    "linear": ("regression",),
    "regressor": ("regression",),
    "cudnn": ("reset_after",),
    "v3": ("reset_after",),
    "v1": ("reset_before",),
    "encoder_decoder": ("seq2seq",),
    "ar": ("ar_linear",),
    "mlp": ("ar_mlp",),
}


def _suggest(value: str, options: list[str]) -> str | None:
    """The allowed value that ``value`` is a known synonym of, else the closest by spelling,
    else None (a synonym first: ``rnn`` means elman, though it is spelled like indrnn)."""
    match = next((o for o in _VALUE_SYNONYMS.get(value.lower(), ()) if o in options), None)
    return match if match is not None else _close(value, options)


def _value_hint(value: str, options: list[str]) -> str:
    """``; did you mean X?`` (:func:`_suggest`); empty when there is no suggestion."""
    match = _suggest(value, options)
    return f"; did you mean {match!r}?" if match else ""


def _nested_models(model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """(field, model) for every field of ``model`` that holds spec models (or lists of them)."""
    return [(name, m) for name, field in model.model_fields.items()
            for m in _members(field.annotation)
            if isinstance(m, type) and issubclass(m, BaseModel)]


def _elsewhere(key: str, loc: tuple[str | int, ...], model: type[BaseModel]) -> str:
    """Where ``key`` belongs when it is a key one level up or one level down, else ''."""
    for cut in range(len(loc) - 2, -1, -1):  # the nearest enclosing model other than this one
        parent = _model_at(loc[:cut])
        if parent is not None and parent is not model:
            if key in parent.model_fields and key not in _DISCRIMINATORS:
                where = format_path(tuple(p for p in loc[:cut] if p not in _tagged_models()))
                where = "the top level" if where == "<document>" else where
                return f"; {key!r} belongs one level up, in {where}"
            break
    here = tuple(p for p in loc[:-1] if p not in _tagged_models())
    below = sorted({name for name, child in _nested_models(model)
                    if key in child.model_fields})
    if below:
        inside = " or ".join(format_path((*here, name)) for name in below)
        return f"; {key!r} belongs one level down, in {inside}"
    return ""


def _unknown_key(loc: tuple[str | int, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}{_hint(key, _vocabulary())}"
    # The discriminating key (cell, kind, scheme) first, then the others in declaration order.
    allowed = sorted(model.model_fields, key=lambda k: k not in _DISCRIMINATORS)
    match = _SYNONYMS.get(key.lower())
    if match not in allowed:
        match = _close(key, allowed)
    if match:
        return f"unknown key {key!r}; did you mean {match!r}?"
    elsewhere = _elsewhere(key, loc, model)
    if elsewhere:
        return f"unknown key {key!r}{elsewhere}"
    return f"unknown key {key!r} (allowed here: {', '.join(allowed)})"


def _expected_tags(ctx: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))


def _message(err: Any) -> tuple[str, str]:
    """(rule id, message) for one pydantic error; rule ids: :data:`seqspec.errors.RULES`."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    loc = err["loc"]
    if kind == "extra_forbidden":
        return "unknown-key", _unknown_key(tuple(loc))
    if kind == "missing":
        return "missing-key", f"missing required key {loc[-1]!r}"
    if kind == "union_tag_invalid":
        expected = _expected_tags(ctx)
        tag = ctx.get("tag")
        hint = _value_hint(str(tag), expected)
        checked = "; the rest is checked as that" if hint else ""
        return "unknown-value", (
            f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} {tag!r}{hint} "
            f"(expected one of: {', '.join(expected)}){checked}")
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return "missing-key", f"missing required key {disc!r}"
    if kind == "literal_error":
        if tuple(loc) == ("seqspec",):
            return "version", f"the spec language version must be 1 (got {_show(value)})"
        expected = re.findall(r"'([^']*)'|(\d+)", ctx.get("expected", ""))
        options = [a or b for a, b in expected]
        return "unknown-value", (f"{_show(value)} is not allowed"
                                 f"{_value_hint(str(value), options)} "
                                 f"(expected one of: {', '.join(options)})")
    if kind == "string_pattern_mismatch":
        return "format", (f"{_show(value)} is not an identifier: use letters, digits and "
                          "underscores, not starting with a digit, at most 64 characters")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "type", f"must be a mapping of keys, not {_show(value)}"
    if kind == "list_type":
        return "type", f"must be a list, not {_show(value)}"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        items = "item" if bound == 1 else "items"
        word = "at least" if kind == "too_short" else "at most"
        return "range", f"must have {word} {bound} {items} (got {ctx.get('actual_length')})"
    if kind in _TYPE_MESSAGES:
        return "type", f"{_TYPE_MESSAGES[kind]} (got {_show(value)})"
    msg = str(err.get("msg", kind))
    msg = re.sub(r"^(Input|String|List|Value) should (be|have)", r"must \2", msg)
    msg = re.sub(r"^Value error, ", "", msg)
    msg = msg[0].lower() + msg[1:] if msg else msg
    if kind == "value_error":
        rule = "version" if tuple(loc) == ("seqspec",) else "format"
        return rule, msg
    return "range", f"{msg} (got {_show(value)})"


def _drop_explained_missing(problems: list[Problem]) -> list[Problem]:
    """A missing key that a misspelled sibling explains is reported once, at the misspelling."""
    suggested = set()
    for p in problems:
        m = re.match(r"unknown key '[^']*'; did you mean '([^']*)'\?$", p.message)
        if m:
            suggested.add((*p.path[:-1], m.group(1)))
    return [p for p in problems
            if not (p.message.startswith("missing required key") and p.path in suggested)]


#: At most this many problems are reported per spec: a generated 1 MB spec with 40,000
#: mistakes is refused in a fraction of a second, and the first hundred say what is wrong.
MAX_PROBLEMS = 100


@functools.cache
def _tagged_models() -> dict[str, tuple[str, type[BaseModel]]]:
    """Discriminator value -> (discriminator key, the union member it selects)."""
    out: dict[str, tuple[str, type[BaseModel]]] = {}
    seen: set[type] = set()

    def visit(tp: Any) -> None:
        for m in _members(tp):
            if not (isinstance(m, type) and issubclass(m, BaseModel)) or m in seen:
                continue
            seen.add(m)
            for d in _DISCRIMINATORS:
                field = m.model_fields.get(d)
                if field is not None and field.is_required():
                    for tag in typing.get_args(field.annotation):
                        out[str(tag)] = (d, m)
            for field in m.model_fields.values():
                visit(field.annotation)

    visit(spec.Spec)
    return out


def _node_at(data: Any, path: SpecPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _recover(err: Any, data: Any) -> list[tuple[tuple[str | int, ...], SpecPath, Any]]:
    """Check an object whose ``cell``/``kind``/``scheme`` is misspelled as the closest kind.

    Returns (pydantic-style location, data path, error) for each problem in the rest of the
    object, so one CI round reports them all instead of only the misspelling.
    """
    ctx = err.get("ctx") or {}
    match = _suggest(str(ctx.get("tag")), _expected_tags(ctx))
    if match is None or match not in _tagged_models():
        return []
    disc, model = _tagged_models()[match]
    base_loc = tuple(err["loc"])
    base_path = _data_path(base_loc, data)
    node = _node_at(data, base_path)
    if not isinstance(node, dict):
        return []
    try:
        model.model_validate({**node, disc: match})
    except pydantic.ValidationError as inner:
        return [((*base_loc, match, *e["loc"]), (*base_path, *_data_path(tuple(e["loc"]), node)),
                 e) for e in inner.errors(include_url=False)]
    return []


def problems_from(exc: pydantic.ValidationError, data: Any) -> list[Problem]:
    """One :class:`Problem` per pydantic error, located by spec path (not yet by line)."""
    out: list[Problem] = []
    seen: set[tuple[SpecPath, str]] = set()
    raw = exc.errors(include_url=False)
    errors = collections.deque((tuple(e["loc"]), None, e) for e in raw[:MAX_PROBLEMS])
    hidden = max(0, len(raw) - MAX_PROBLEMS)
    while errors:
        loc, path, err = errors.popleft()
        if len(out) >= MAX_PROBLEMS:
            hidden += 1
            continue
        if path is None:
            path = _data_path(loc, data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            if err["type"] == "union_tag_invalid":
                errors.extendleft(reversed(_recover(err, data)))
            # Point at the `cell:` / `kind:` / `scheme:` key itself (or where it is missing).
            path = (*path, str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
        rule, message = _message({**err, "loc": loc})
        if (path, message) not in seen:
            seen.add((path, message))
            out.append(Problem(path, message, rule=rule))
    out = _drop_explained_missing(out)
    if hidden:
        out.append(Problem(out[-1].path, f"... and {hidden:,} more problems not shown (only "
                           f"the first {MAX_PROBLEMS} are reported)", rule=out[-1].rule))
    return out
