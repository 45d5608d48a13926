"""Jinja environments for backends, with filters that keep spec text inert in generated code.

Spec text reaches generated code only through these filters: ``pyrepr`` (a Python literal made
by ``repr``), ``ident`` (a checked identifier), ``comment`` (one line, no control characters)
and ``docstring`` (backslashes and quotes escaped). Templates use ``StrictUndefined``, so a
missing IR field fails the render instead of printing nothing.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import sys
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


def dataclass_field(name: str, annotation: str, value: Any, note: str = "",
                    indent: int = 4) -> str:
    """One ``name: annotation = value  # note`` line of a dataclass, as ``ruff format`` writes it:
    past 100 columns (the note counts) a tuple is written one item a line, the note after its
    closing parenthesis."""
    pad = " " * indent
    note = f"  # {comment(note)}" if note else ""
    line = f"{pad}{ident(name)}: {annotation} = {pyrepr(value)}{note}"
    if len(line) <= 100 or not isinstance(value, tuple) or not value:
        return line
    items = "".join(f"{pad}    {pyrepr(item)},\n" for item in value)
    return f"{pad}{ident(name)}: {annotation} = (\n{items}{pad}){note}"


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
    env.globals.update(seqspec_version=__version__, input_specs=input_specs,
                       state_sizes=state_sizes, dataclass_field=dataclass_field)
    return env


# --------------------------------------------------------------------------- runtime inlining
def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """The top-level names a module defines (functions, classes, assignments), by name."""
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        found[name.id] = node
    return found


def _names_in(nodes: list[ast.AST]) -> set[str]:
    """The global names the nodes read: every name read, less a function's own parameters and
    local variables (a local ``train`` must not pull in the runtime's function ``train``)."""
    found: set[str] = set()
    for node in nodes:
        local: set[str] = set()
        for n in ast.walk(node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                a = n.args
                local |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
                local |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                local.add(n.id)
        top = {node.name} if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else set()
        inner = local if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else set()
        found |= {
            n.id for n in ast.walk(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in inner
        } - top
    return found


def _import_order(names: Any) -> list[str]:
    """Names as ruff's isort orders them in one import: CONSTANTS, Classes, functions."""

    def key(name: str) -> tuple[int, str]:
        kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
        return kind, name.lower()

    return sorted(set(names), key=key)


def import_line(module: str, names: list[str]) -> str:
    """``from module import a, b`` (with a newline), wrapped one name a line past 100 columns."""
    line = f"from {module} import {', '.join(names)}\n"
    if len(line) <= 101:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"


def runtime_import(text: str, runtime_text: str, module: str,
                   marker: str = "RUNTIME_IMPORT") -> str:
    """A model.py's imports settled, the same way in every backend: the line ``marker`` becomes
    the one ``from <module> import ...`` naming each top-level definition of ``runtime_text``
    that ``text`` reads and does not define itself (in isort's order, wrapped past 100
    columns), and an ``import x as y`` whose ``y`` it never reads is dropped (a spec without
    explicit cells never writes ``F.``, one without custom Keras cells never writes ``tf.``)."""
    tree = ast.parse(text.replace(marker, ""))
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    provided = set(_definitions(ast.parse(runtime_text))) - set(_definitions(tree))
    text = text.replace(marker, import_line(module, _import_order(read & provided)).rstrip("\n"), 1)
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.asname not in read:
                    text = text.replace(f"import {alias.name} as {alias.asname}\n", "", 1)
    return text


SECTION = re.compile(r"^(# -{75} [^\n]+\n)\n\n(?=(?:class|def|@)\b)", re.MULTILINE)


def attach_section_comments(text: str) -> str:
    """A section rule (``# ---...--- cells``) directly above the first definition it introduces,
    as ``ruff format`` allows: the two blank lines before a top-level definition go above the
    rule instead of also below it, so a section costs one line, not three."""
    return SECTION.sub(r"\1", text)


def _import_entries(node: ast.stmt) -> list[tuple[str, str, str | None]]:
    """(module, name, alias) of each name an import binds; module "" for ``import x``."""
    if isinstance(node, ast.Import):
        return [("", a.name, a.asname) for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    return [(node.module or "", a.name, a.asname) for a in node.names]


def _bound(entry: tuple[str, str, str | None]) -> str:
    module, name, alias = entry
    return alias or (name.split(".")[0] if not module else name)


def _import_block(entries: list[tuple[str, str, str | None]]) -> str:
    """Import statements as ruff's isort writes them: ``__future__``, the standard library, then
    the rest; in each, ``import x`` lines before ``from x import y`` lines, sorted by module."""
    future = sorted({n for m, n, _ in entries if m == "__future__"})
    entries = [e for e in entries if e[0] != "__future__"]
    sections: dict[bool, list[str]] = {True: [], False: []}
    plain = sorted({(n, a) for m, n, a in entries if not m}, key=lambda e: e[0].lower())
    for name, alias in plain:
        text = f"import {name}" + (f" as {alias}" if alias else "") + "\n"
        sections[name.split(".")[0] in sys.stdlib_module_names].append(text)
    froms: dict[str, set[str]] = {}
    for module, name, alias in entries:
        if module:
            froms.setdefault(module, set()).add(name + (f" as {alias}" if alias else ""))
    for module in sorted(froms, key=str.lower):
        text = import_line(module, _import_order(froms[module]))
        sections[module.split(".")[0] in sys.stdlib_module_names].append(text)
    # ``from __future__`` must come first, in a section of its own
    first = [import_line("__future__", _import_order(future))] if future else []
    groups = (first, sections[True], sections[False])
    return "\n".join("".join(lines) for lines in groups if lines)


def inline_runtime(module_text: str, runtime_text: str, runtime_name: str) -> str:
    """``module_text`` with its ``from <runtime_name> import ...`` replaced by the runtime's
    definitions it needs (transitively: nothing it does not reach), after its imports, and the
    imports those definitions use merged into its import block. Raises ValueError when the
    module defines a name the inlined runtime also defines."""
    module = ast.parse(module_text)
    runtime = ast.parse(runtime_text)
    lines = module_text.splitlines(keepends=True)
    imports = [
        n for n in module.body
        if isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno <= _first_code(module)
    ]
    ours = [n for n in imports if isinstance(n, ast.ImportFrom) and n.module == runtime_name]
    if not ours:
        return module_text
    defs = _definitions(runtime)
    wanted = [a.name for node in ours for a in node.names]
    needed: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in needed or name not in defs:
            continue
        needed.add(name)
        wanted.extend(_names_in([defs[name]]) - needed)
    clash = sorted(needed & set(_definitions(module)))
    if clash:
        raise ValueError(f"{runtime_name} and the module both define {', '.join(clash)}")
    chosen = [n for n in runtime.body if any(defs.get(k) is n for k in needed)]
    mentioned = _names_in(chosen)
    entries = [e for n in imports if n not in ours for e in _import_entries(n)]
    for node in runtime.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            entries += [e for e in _import_entries(node) if _bound(e) in mentioned]
    entries = list(dict.fromkeys(entries))
    runtime_lines = runtime_text.splitlines(keepends=True)
    blocks = []
    previous_end = 0
    for node in runtime.body:
        if node in chosen:
            text = "".join(runtime_lines[previous_end : node.end_lineno]).strip("\n")
            blocks.append(text + "\n")
        previous_end = node.end_lineno or previous_end
    head = "".join(lines[: imports[0].lineno - 1])
    tail = "".join(lines[imports[-1].end_lineno :]).lstrip("\n")
    body = "\n\n".join(blocks)
    # ruff's isort: one blank line between the imports and a statement, two before a def
    # (a comment first counts as a statement)
    before_def = isinstance(chosen[0], (ast.FunctionDef, ast.ClassDef))
    gap = "\n\n" if before_def and not blocks[0].startswith("#") else "\n"
    return f"{head}{_import_block(entries)}{gap}{body}\n\n{tail}"


def _first_code(module: ast.Module) -> int:
    """The line of the first statement that is neither the docstring nor an import."""
    for node in module.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (is_doc or isinstance(node, (ast.Import, ast.ImportFrom))):
            return node.lineno
    return 10**9
