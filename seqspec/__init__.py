"""seqspec: a declarative model-spec compiler for recurrent sequence models.

Public API::

    spec = seqspec.load("model.yaml")            # validated Spec, or SpecError with locations
    model = seqspec.lower_file("model.yaml")     # the normalized model (seqspec.ir.Model)
    files = seqspec.compile_spec("model.yaml", "torch", "out/")

``import seqspec`` is light: the API (pydantic, YAML) is imported on first use, so the command
line starts fast and ``seqspec --version`` imports nothing heavy. Nothing here ever imports a
deep-learning framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from seqspec.errors import Problem, SpecError, UnsupportedFeature

if TYPE_CHECKING:
    from seqspec.api import compile_spec, load, lower_file

__version__ = "0.1.0"

_LAZY = {"compile_spec": "seqspec.api", "load": "seqspec.api", "lower_file": "seqspec.api"}

__all__ = [
    "Problem",
    "SpecError",
    "UnsupportedFeature",
    "__version__",
    "compile_spec",
    "load",
    "lower_file",
]


def __getattr__(name: str) -> Any:
    """Import the API functions on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqspec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
