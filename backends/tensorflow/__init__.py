"""The TensorFlow / Keras 3 backend: specs become a standalone ``keras.Model`` in ``model.py``.

Keras' fused layers (``SimpleRNN``, ``LSTM``, ``GRU``) run wherever they compute the spec's
equations, set up so a GPU takes the cuDNN kernel; peephole LSTMs and Jordan networks get
small custom cells wrapped in ``keras.layers.RNN``. Importing this package imports Jinja2 and
seqspec only, never TensorFlow.
"""

from __future__ import annotations

from seqspec.backends.tensorflow.counts import native_parameters
from seqspec.backends.tensorflow.emitter import FEATURES, emit

from seqspec.registry import Backend

backend = Backend(
    name="tensorflow",
    package="seqspec.backends.tensorflow",
    features=FEATURES,
    emit=emit,
    framework="tensorflow",
    native_parameters=native_parameters,
    description="Keras 3 on TensorFlow: fused (cuDNN) layers where they fit, compiled loops",
)

__all__ = ["backend"]
