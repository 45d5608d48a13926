"""The PyTorch backend: a standalone ``torch.nn.Module`` per spec.

Cells torch computes exactly (nn.LSTM without peepholes, the reset-after nn.GRU, tanh / relu
nn.RNN) run on its fused layers, so cuDNN on a GPU and oneDNN on a CPU; the others (peephole
LSTM, reset-before GRU, sigmoid Elman, Jordan) are explicit cells with a hand-written backward
pass. Importing this package imports the emitter only, never torch.
"""

from __future__ import annotations

from seqspec.backends.torch.counts import native_parameters
from seqspec.backends.torch.emitter import FEATURES, emit

from seqspec.registry import Backend

backend = Backend(
    name="torch",
    package="seqspec.backends.torch",
    features=FEATURES,
    emit=emit,
    framework="torch",
    native_parameters=native_parameters,
    description="PyTorch nn.Module: fused nn.LSTM / nn.GRU / nn.RNN where exact, explicit cells "
    "elsewhere; CUDA when available.",
)

__all__ = ["FEATURES", "backend", "emit"]
