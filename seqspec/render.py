"""Jinja environments for backends, with filters that keep spec text inert in generated code.

Spec text reaches generated code only through these filters: ``pyrepr`` (a Python literal made
by ``repr``), ``ident`` (a checked identifier), ``comment`` (one line, no control characters)
and ``docstring`` (backslashes and quotes escaped). Templates use ``StrictUndefined``, so a
missing IR field fails the render instead of printing nothing.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

import jinja2

from seqspec import __version__
from seqspec.generated import input_specs, state_sizes

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def pyrepr(value: Any) -> str:
    """A Python literal for plain data (str, int, float, bool, None, tuples and lists of them).

    Strings come from ``repr`` (every character escaped); one without any quote character is
    put in double quotes, as ``ruff format`` writes it: its escaped body reads the same there.
    """
    if isinstance(value, str):
        text = repr(value)
        return f'"{text[1:-1]}"' if "'" not in value and '"' not in value else text
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be rendered")
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(pyrepr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(pyrepr(v) for v in value) + "]"
    raise TypeError(f"refusing to render {type(value).__name__} as a literal")


def ident(value: str) -> str:
    """An identifier, checked: anything else is a bug in lowering, never rendered."""
    if not isinstance(value, str) or not _IDENT.match(value) or keyword.iskeyword(value):
        raise ValueError(f"not a safe identifier: {value!r}")
    return value


def comment(value: str) -> str:
    """Text for a ``#`` comment: one line, printable characters only."""
    text = " ".join(str(value).split())
    return "".join(ch for ch in text if ch.isprintable())


def docstring(value: str) -> str:
    """Text for the inside of a triple-quoted docstring: escapes make every character inert."""
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch in "\n")
    return text.replace("\\", "\\\\").replace('"', '\\"')


def environment(package: str) -> jinja2.Environment:
    """An environment that finds a backend's templates first, then seqspec's shared ones."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates"),
                jinja2.PackageLoader("seqspec", "templates"),
            ]
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(pyrepr=pyrepr, ident=ident, comment=comment, docstring=docstring)
    env.globals.update(
        seqspec_version=__version__, input_specs=input_specs, state_sizes=state_sizes
    )
    return env
