"""IndRNN in the torch backend: the hand-written backward pass against finite differences,
and recurrent_max enforced by the train runtime's update (the naive-loop oracle for IndRNN is the
"indrnn_left" case of test_oracle.py)."""

from __future__ import annotations

import numpy as np

from seqspec.testing import make_inputs

SPEC = """
seqspec: 1
name: indrnn_bound
model:
  scheme: many_to_one
  input: {kind: features, size: 2}
  layers:
    - {cell: indrnn, hidden_size: 3, recurrent_max: 0.5, bidirectional: true}
  pooling: last
  head: {kind: regression, outputs: 1}
"""


def test_indrnn_scan_passes_gradcheck(torch, compile_text) -> None:
    module, _ = compile_text("indrnn_bound", SPEC)
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) - 0.5).requires_grad_()

    T, B, H = 5, 3, 4
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]],
                        dtype=torch.bool)[..., None]
    for m in (None, mask):
        for reverse in (False, True):
            for relu in (True, False):
                args = (rand(T, B, H), 2 * rand(H), rand(B, H), m, reverse, relu)
                assert torch.autograd.gradcheck(module.IndRNNScan.apply, args), (m, reverse, relu)


def test_init_draws_u_inside_the_bound(torch, compile_text) -> None:
    module, model = compile_text("indrnn_bound", SPEC)
    weights = module.init_weights(0)
    for d in model.encoder.layers[0].directions:
        u = weights[f"{d.prefix}.u_h"]
        assert np.all((u >= 0) & (u <= 0.5)) and u.std() > 0


def test_update_clips_u_to_recurrent_max(torch, compile_text) -> None:
    """The train runtime's update() projects u_h back into [-0.5, 0.5] after a big SGD step,
    through the model's weight_bounds() (PARAMETERS' 7th item), and clips nothing else."""
    import sys

    module, model = compile_text("indrnn_bound", SPEC)
    folder = module.__file__.rsplit("/", 1)[0]
    sys.path.insert(0, folder)
    try:
        import torch_train_runtime as runtime
    finally:
        sys.path.remove(folder)
        sys.modules.pop("torch_train_runtime", None)
    net = module.Model(weights=module.init_weights(0), dtype="float64", device="cpu")
    parameters = list(net.parameters())
    optimizer = runtime.make_optimizer("sgd", 100.0, parameters, 0.0)
    inputs = make_inputs(model, batch=4, steps=5, seed=1)
    out, _ = net(x=torch.tensor(inputs["x"]))
    (-out.sum()).backward()
    bounds = net.weight_bounds()
    assert len(bounds) == 2  # weight_hh and weight_hh_reverse
    runtime.update(optimizer, parameters, 0.0, bounds)
    u = net.canonical_weights()
    bounded = [k for k in u if k.endswith(".u_h")]
    assert len(bounded) == 2
    assert all(np.abs(u[k]).max() <= 0.5 for k in bounded)
    assert any(np.isclose(np.abs(u[k]).max(), 0.5) for k in bounded)  # the clip did act
    assert any(np.abs(u[k]).max() > 0.5 for k in u if not k.endswith(".u_h"))  # nothing else
