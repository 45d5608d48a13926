"""Top-level definitions of generated code that nothing references.

A compiled folder holds model.py, train.py, predict.py and (after issue 15) the runtime modules
``<backend>_runtime.py`` / ``<backend>_train_runtime.py``. Every top-level function, class and
assignment of those files must be used by some file of the folder: the output is only the
model, with no helper that the spec cannot reach. A runtime module is byte-identical for every
spec of its backend, so its definitions count as used when any folder of that backend (or the
runtime itself) uses them: pass those folders as ``users``.

"Used" is read from the syntax: a name loaded anywhere outside its own definition, an attribute
of that name (``model.PARAMETERS``), a ``from <sibling> import name``, or a string that is
exactly the name (``getattr(module, "Model")``, ``__all__``). Definitions used only by unused
definitions are unused too (the check repeats until nothing more drops out).
"""

from __future__ import annotations

import ast
import functools
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

RUNTIME_SUFFIX = "_runtime.py"
#: model.py's documented module-level API (docs/generated-api.md): used by whoever imports it.
#: Not Config / CONFIG: construction must read them (issue 15), so they need a reader here.
PUBLIC = frozenset({"SPEC_SHA256", "SPEC_NAME", "PARAMETERS", "init_weights", "load_npz",
                    "save_npz", "Model"})


def _defined(node: ast.stmt) -> list[str]:
    """The names one top-level statement defines (imports are ruff's F401, not ours)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """The module's statements, with those inside top-level if / try blocks."""
    out: list[ast.stmt] = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        out.append(node)
        if isinstance(node, ast.If):
            pending[:0] = [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            pending[:0] = [*node.body, *(s for h in node.handlers for s in h.body), *node.orelse,
                           *node.finalbody]
    return out


def _used(node: ast.AST) -> set[str]:
    """Every name that `node` reads."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.ImportFrom):
            names.update(alias.name for alias in sub.names)
        elif (isinstance(sub, ast.Constant) and isinstance(sub.value, str)
              and sub.value.isidentifier()):
            names.add(sub.value)
    return names


@functools.lru_cache(maxsize=4096)
def _parsed(path: Path, stamp: tuple[int, int]) -> tuple[tuple[ast.stmt, frozenset[str]], ...]:
    """(statement, names it reads) per top-level statement of a file (cached per version)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return tuple((node, frozenset(_used(node))) for node in _top_level(tree))


def _statements(folder: Path) -> list[tuple[str, ast.stmt, frozenset[str]]]:
    out = []
    for path in sorted(folder.glob("*.py")):
        stat = path.stat()
        out += [(path.name, node, used)
                for node, used in _parsed(path.resolve(), (stat.st_mtime_ns, stat.st_size))]
    return out


def unreferenced_definitions(folder: str | Path, users: Iterable[str | Path] = (),
                             public: Iterable[str] = PUBLIC) -> list[str]:
    """["<file>: <name>", ...] for each top-level definition in `folder`'s .py files that no
    file of `folder` references; names defined in a runtime module may also be referenced by
    the .py files of the `users` folders (the other compiled folders of that backend), and the
    `public` names of model.py are its documented API (docs/generated-api.md)."""
    mine = _statements(Path(folder))
    outside: set[str] = set()
    for other in users:
        if Path(other).resolve() != Path(folder).resolve():
            for _, _, used in _statements(Path(other)):
                outside |= used
    uses = [used for _, _, used in mine]
    public = set(public)
    alive = set(range(len(mine)))  # statements not yet found dead
    dead: list[str] = []
    while True:
        readers = Counter(name for i in alive for name in uses[i])  # statements reading a name
        newly = set()
        for i in sorted(alive):
            file, node, _ = mine[i]
            names = _defined(node)
            if not names or all(n.startswith("__") and n.endswith("__") for n in names):
                continue  # a statement that defines nothing (or a dunder) is a root
            used = {n for n in names if readers[n] - (n in uses[i]) > 0}
            if file.endswith(RUNTIME_SUFFIX):
                used |= set(names) & outside
            if file == "model.py":
                used |= set(names) & public
            if not used:
                newly.add(i)
                dead.extend(f"{file}: {name}" for name in names)
        if not newly:
            return sorted(dead)
        alive -= newly
