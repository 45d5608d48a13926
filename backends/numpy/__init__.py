"""The NumPy backend: seqspec's reference implementation.

It generates one standalone ``model.py`` that needs only NumPy: the forward pass, hand-written
backpropagation through time (optionally truncated), gradient clipping and generation. Every
other backend is compared against it.
"""

from __future__ import annotations

from seqspec.backends.numpy.emitter import FEATURES, emit

from seqspec.registry import Backend

backend = Backend(
    name="numpy",
    package="seqspec.backends.numpy",
    features=FEATURES,
    emit=emit,
    framework="numpy",
    description="Standalone NumPy: forward, hand-written BPTT, generation (the reference).",
)

__all__ = ["FEATURES", "backend", "emit"]
