"""Python literals and calls rendered the way ``ruff format`` leaves them.

Generated code must pass ``ruff format --check``: strings in double quotes, and a call either
on one line (when it fits) or one argument per line with a magic trailing comma.
"""

from __future__ import annotations

from seqspec.render import pyrepr

LINE = 100  # ruff's line length for generated code


def lit(value: object) -> str:
    """:func:`seqspec.render.pyrepr` with plain strings in double quotes, ruff format's style.

    A string holding a quote, a backslash or an unprintable character keeps pyrepr's form.
    """
    if isinstance(value, str):
        if any(ch in value for ch in "'\"\\") or not value.isprintable():
            return pyrepr(value)
        return f'"{value}"'
    if isinstance(value, tuple):
        inner = ", ".join(lit(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    return pyrepr(value)


def fmt_call(head: str, args: list[str], indent: int, tail: str = ",") -> str:
    """``head(args)`` on one line when it fits at ``indent``, else one argument per line with a
    magic trailing comma: both forms are what ruff format keeps."""
    one = f"{head}({', '.join(args)}){tail}"
    if indent + len(one) <= LINE:
        return one
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{a},\n" for a in args)
    return f"{head}(\n{body}{' ' * indent}){tail}"
