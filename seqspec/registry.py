"""The backend registry: built-in backends by name, third-party ones through entry points.

A backend is a package (``backends/<name>/`` in this repository, installed as
``seqspec.backends.<name>``) that exports ``backend = Backend(...)``. Importing a backend
imports only its emitter (Jinja2 and seqspec), never its framework.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from seqspec import ir

BUILTIN = ("numpy", "torch", "tensorflow")
ENTRY_POINT_GROUP = "seqspec.backends"


@dataclass(frozen=True)
class Backend:
    """A code generator for one framework."""

    name: str
    package: str  # where its templates/ and runner live, e.g. "seqspec.backends.numpy"
    features: frozenset[str]
    emit: Callable[[ir.Model], Mapping[str, str]]  # model -> {relative path: file text}
    framework: str  # the import name of what generated code needs, e.g. "torch"
    description: str = ""
    #: model -> how the generated model's own parameter count differs from the canonical one:
    #: (layer prefix, difference, reason) per layer that differs; None: it never differs.
    #: ``seqspec inspect`` shows the result; it must not import the framework.
    native_parameters: Callable[[ir.Model], list[tuple[str, int, str]]] | None = None


def _load(name: str) -> Backend:
    if name in BUILTIN:
        module = importlib.import_module(f"seqspec.backends.{name}")
        return module.backend
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    raise KeyError(name)


def names() -> list[str]:
    """Every known backend name, built-in first."""
    extra = [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN]
    return [*BUILTIN, *sorted(set(extra))]


def get(name: str) -> Backend:
    """The backend called ``name``; ``KeyError`` if there is none."""
    backend = _load(name)
    if backend.name != name:
        raise KeyError(f"backend {name!r} registers itself as {backend.name!r}")
    return backend


# --------------------------------------------------------------------------- per-kind modules
def module_names(package: str) -> list[str]:
    """The modules of ``package`` by name, sorted, without importing any of them."""
    path = importlib.import_module(package).__path__
    return sorted(info.name for info in pkgutil.iter_modules(path))


@cache
def discover(package: str) -> dict[str, ModuleType]:
    """Every module of ``package`` that names a cell ``KIND``, by that kind: how seqspec's cell
    kinds (``seqspec.cells``), each backend's hooks (``seqspec.backends.<b>.cells``) and the
    ONNX exporters (``seqspec.onnx.cells``) are found, so adding a kind is adding a module.

    Ordered by the modules' ``ORDER`` (the order users meet the kinds in), then by kind; a
    module without ``KIND`` (shared helpers such as ``base.py``) is not a kind.
    """
    found = []
    for name in module_names(package):
        module = importlib.import_module(f"{package}.{name}")
        if hasattr(module, "KIND"):
            found.append(module)
    found.sort(key=lambda m: (getattr(m, "ORDER", 1_000), m.KIND))
    return {m.KIND: m for m in found}
