"""Turn pydantic's validation errors into located, human problems with "did you mean" hints."""

from __future__ import annotations

import difflib
import functools
import re
import typing
from typing import Any

import pydantic
from pydantic import BaseModel

from seqspec import spec
from seqspec.errors import Problem, SpecPath

_DISCRIMINATORS = ("scheme", "cell", "kind")


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


def _hint(word: str, candidates: typing.Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _show(value: Any) -> str:
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


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    loc = err["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}{_hint(key, _vocabulary())}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "union_tag_invalid":
        expected = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
        tag = ctx.get("tag")
        return (f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} {tag!r}"
                f"{_hint(str(tag), expected)} (expected one of: {', '.join(expected)})")
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return f"missing required key {disc!r}"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'|(\d+)", ctx.get("expected", ""))
        options = [a or b for a, b in expected]
        return (f"{_show(value)} is not allowed{_hint(str(value), options)} "
                f"(expected one of: {', '.join(options)})")
    if kind == "string_pattern_mismatch":
        return (f"{_show(value)} is not an identifier: use letters, digits and underscores, "
                "not starting with a digit, at most 64 characters")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of keys, not {_show(value)}"
    if kind == "list_type":
        return f"must be a list, not {_show(value)}"
    msg = str(err.get("msg", kind))
    msg = re.sub(r"^Input should be", "must be", msg)
    msg = re.sub(r"^Value error, ", "", msg)
    msg = msg[0].lower() + msg[1:] if msg else msg
    return f"{msg} (got {_show(value)})" if value is not None and kind != "value_error" else msg


def problems_from(exc: pydantic.ValidationError, data: Any) -> list[Problem]:
    """One :class:`Problem` per pydantic error, located by spec path (not yet by line)."""
    out: list[Problem] = []
    seen: set[tuple[SpecPath, str]] = set()
    for err in exc.errors(include_url=False):
        path = _data_path(tuple(err["loc"]), data)
        message = _message(err)
        if (path, message) not in seen:
            seen.add((path, message))
            out.append(Problem(path, message))
    return out
