"""Python source text for the generated torch code: literals, wrapped calls, comments.

Everything here keeps generated lines within ``LINE`` columns and laid out the way
``ruff format`` lays them out, so the generated files pass ``ruff format --check``.
"""

from __future__ import annotations

import textwrap

from seqspec.render import pyrepr

#: The longest line the generated code may have (ruff's E501 at --line-length 100).
LINE = 100


def wrapped(indent: int, head: str, items: list[str], tail: str) -> str:
    """``head item, item, ... tail`` laid out like ``ruff format`` would, within 100 columns.

    On one line when it fits; else the items on one indented line between ``head`` and
    ``tail``; else one item per line with a trailing comma. ``head`` ends with an opening
    bracket and ``tail`` starts with the closing one.
    """
    pad, inner = " " * indent, " " * (indent + 4)
    flat = f"{pad}{head}{', '.join(items)}{tail}"
    if len(flat) <= LINE:
        return flat
    if len(inner) + len(", ".join(items)) <= LINE:
        return f"{pad}{head}\n{inner}{', '.join(items)}\n{pad}{tail}"
    return "\n".join([f"{pad}{head}", *(f"{inner}{item}," for item in items), f"{pad}{tail}"])


def comment_block(indent: int, text: str) -> str:
    """``# text`` at ``indent``, wrapped within the line length (``text`` is never spec text)."""
    pad = " " * indent
    lines = textwrap.wrap(text, width=LINE - indent - 2, break_long_words=False)
    return "\n".join(f"{pad}# {line}" for line in lines)


def literal_tuple(indent: int, name: str, values: tuple[str, ...]) -> str:
    """``name = (values...)`` as Python source, wrapped like :func:`wrapped`."""
    items = [pyrepr(v) for v in values]
    if len(items) == 1:
        return f"{' ' * indent}{name} = ({items[0]},)"
    return wrapped(indent, f"{name} = (", items, ")")
