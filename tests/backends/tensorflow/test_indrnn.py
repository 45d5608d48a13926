"""IndRNN's recurrent_max in the TensorFlow backend: the model's weight_bounds() (from
PARAMETERS' 7th item) and the train runtime's update, which clips every bounded variable after
apply_gradients as the NumPy and torch runtimes do (tests/cells/test_indrnn.py,
tests/backends/torch/test_indrnn.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import seqspec
from seqspec.weights import random_weights

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_update_clips_u_to_recurrent_max(tf, tf_module):
    module = tf_module("indrnn_classifier")
    folder = str(Path(module.__file__).parent)
    sys.path.insert(0, folder)
    try:
        import tensorflow_train_runtime as runtime
    finally:
        sys.path.remove(folder)
        sys.modules.pop("tensorflow_train_runtime", None)
    model_ir = seqspec.lower_file(EXAMPLES / "indrnn_classifier.yaml")
    model = module.Model(weights=random_weights(model_ir, seed=3), dtype="float64")
    variables = model.trainable_variables
    bounds = model.weight_bounds()
    assert sum(b is not None for b in bounds) == 2  # layer 0's two recurrent kernels
    trainer = SimpleNamespace(  # what Trainer._apply reads
        model=model, optimizer=module.keras.optimizers.SGD(learning_rate=10.0),
        args=SimpleNamespace(clip_norm=None), masks=[None] * len(variables),
        bounds=[None if b is None else tf.constant(b, v.dtype)
                for b, v in zip(bounds, variables, strict=True)])
    grads = [-tf.ones_like(v) for v in variables]  # every weight up by 10
    runtime.Trainer._apply(trainer, grads)
    w = model.canonical_weights()
    for d in ("forward", "backward"):  # recurrent_max: 1.2 on layer 0
        np.testing.assert_array_equal(w[f"encoder.layers.0.{d}.u_h"], 1.2)
    assert np.all(w["encoder.layers.1.forward.u_h"] > 9)  # layer 1 has no bound
    assert np.all(w["encoder.layers.0.forward.Wx_h"] > 9)  # and nothing else is clipped
