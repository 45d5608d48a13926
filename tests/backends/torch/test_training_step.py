"""An optimizer step on the generated torch module is the same step in canonical space.

torch's fused layers carry a redundant second bias (bias_hh): if it trained, SGD would move
the canonical bias twice as fast as the NumPy and Keras backends do. Its gradient is masked, so
updating the native parameters equals updating the canonical ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import random_weights

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"



@pytest.mark.parametrize("name", ["gru_reset_after", "char_lstm", "bidirectional_gru_tagger"])
def test_sgd_step_on_native_parameters_is_the_canonical_sgd_step(name, torch, torch_module):
    module = torch_module(name)
    model_ir = seqspec.lower_file(EXAMPLES / f"{name}.yaml")
    weights = random_weights(model_ir, seed=3)
    gen = module.Model(weights=weights, dtype="float64", device="cpu").eval()
    inputs = {k: torch.tensor(v) for k, v in make_inputs(model_ir, seed=4).items()}
    outputs, _ = gen(**inputs)
    g = torch.tensor(output_cotangent(tuple(outputs.shape), seed=5))
    (outputs * g).sum().backward()
    grads = gen.canonical_gradients()
    lr = 0.1
    with torch.no_grad():
        for p in gen.parameters():
            if p.grad is not None:
                p -= lr * p.grad
    stepped = gen.canonical_weights()
    for key, value in weights.items():
        np.testing.assert_allclose(stepped[key], value - lr * grads[key], rtol=0, atol=1e-12,
                                   err_msg=key)
