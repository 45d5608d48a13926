"""An optimizer step on the generated Keras model is the same step in canonical space.

A reset_after GRU's Keras bias (2, 3H) repeats b_z and b_r in row 1: if those entries trained,
SGD would move b_z and b_r twice as fast as the NumPy and torch backends do. The model's
gradient_masks() freeze them (train.py applies them), so a masked native step equals the
canonical step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import random_weights

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("name", ["gru_reset_after", "bidirectional_gru_tagger", "char_lstm"])
def test_masked_sgd_step_on_keras_variables_is_the_canonical_sgd_step(name, tf, tf_module):
    module = tf_module(name)
    model_ir = seqspec.lower_file(EXAMPLES / f"{name}.yaml")
    weights = random_weights(model_ir, seed=3)
    model = module.Model(weights=weights, dtype="float64")
    inputs = {k: tf.constant(v) for k, v in make_inputs(model_ir, seed=4).items()}
    with tf.GradientTape() as tape:
        outputs, _ = model.forward(**inputs)
        g = tf.constant(output_cotangent(tuple(outputs.shape), seed=5))
        loss = tf.reduce_sum(outputs * g)
    grads = tape.gradient(loss, model.trainable_variables)
    canonical = model.canonical_gradients(g, **inputs)
    lr = 0.1
    masks = model.gradient_masks()
    for variable, grad, mask in zip(model.trainable_variables, grads, masks, strict=True):
        step = lr * tf.convert_to_tensor(grad)  # an embedding's gradient is IndexedSlices
        variable.assign_sub(step if mask is None else step * mask)
    stepped = model.canonical_weights()
    for key, value in weights.items():
        np.testing.assert_allclose(stepped[key], value - lr * canonical[key], rtol=0, atol=1e-12,
                                   err_msg=key)
