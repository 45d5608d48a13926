"""seqspec: a declarative model-spec compiler for recurrent sequence models.

Public API::

    spec = seqspec.load("model.yaml")            # validated Spec, or SpecError with locations
    model = seqspec.lower_file("model.yaml")     # the normalized model (seqspec.ir.Model)
    files = seqspec.compile_spec("model.yaml", "torch", "out/")
"""

from __future__ import annotations

__version__ = "0.1.0"

from seqspec.api import compile_spec, load, lower_file  # noqa: E402
from seqspec.errors import Problem, SpecError, UnsupportedFeature  # noqa: E402

__all__ = [
    "Problem",
    "SpecError",
    "UnsupportedFeature",
    "__version__",
    "compile_spec",
    "load",
    "lower_file",
]
