"""The generated torch models against independent oracles, not the NumPy backend.

* Fused layers: nn.LSTM / nn.GRU / nn.RNN built here, with the canonical weights converted
  here, run on each sequence alone and on a packed batch; outputs, every final state (h_n,
  including the bidirectional h_n[-2:]) and gradients must match the generated module.
* Explicit cells: naive float64 loops (reference.py) run on each sequence alone, gradients
  by autograd, against the hand-written backward passes; and torch.autograd.gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqspec.testing import make_inputs
from seqspec.weights import random_weights

pytestmark = pytest.mark.torch  # needs PyTorch (each test skips without it)

FUSED_SPECS = {
    "lstm_bi_right": """
seqspec: 1
name: lstm_bi_right
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true}
  layers:
    - {cell: lstm, hidden_size: 4, bidirectional: true}
    - {cell: lstm, hidden_size: 4, bidirectional: true}
  head: {kind: regression, outputs: 2}
""",
    "gru_bi_left": """
seqspec: 1
name: gru_bi_left
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: gru, hidden_size: 5, bidirectional: true}
    - {cell: gru, hidden_size: 5, bidirectional: true}
  head: {kind: regression, outputs: 2}
""",
    "rnn_relu_bi_right": """
seqspec: 1
name: rnn_relu_bi_right
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true}
  layers:
    - {cell: elman, hidden_size: 4, activation: relu, bidirectional: true}
  head: {kind: regression, outputs: 2}
""",
    "rnn_tanh_nobias_left": """
seqspec: 1
name: rnn_tanh_nobias_left
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: elman, hidden_size: 4, bias: false}
    - {cell: elman, hidden_size: 4, bias: false}
  head: {kind: regression, outputs: 2}
""",
}

EXPLICIT_SPECS = {
    "mixed_left": """
seqspec: 1
name: mixed_left
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: lstm, hidden_size: 4, peepholes: true, bidirectional: true, merge_mode: sum}
    - {cell: gru, hidden_size: 5, variant: reset_before}
    - {cell: elman, hidden_size: 4, activation: sigmoid, bidirectional: true, merge_mode: mul}
    - {cell: jordan, hidden_size: 5, output_size: 3, activation: relu, output_activation: linear,
       context_decay: 0.3, bidirectional: true, merge_mode: ave}
  head: {kind: regression, outputs: 2}
""",
    "tokens_right": """
seqspec: 1
name: tokens_right
model:
  scheme: many_to_many
  input: {kind: tokens, vocab_size: 9, encoding: one_hot, variable_length: true}
  layers:
    - {cell: jordan, hidden_size: 4, output_size: 3, output_activation: sigmoid,
       bidirectional: true, bias: false}
    - {cell: lstm, hidden_size: 4, peepholes: true, bias: false}
    - {cell: gru, hidden_size: 3, variant: reset_before, bias: false, bidirectional: true}
  head: {kind: regression, outputs: 2}
""",
    "indrnn_left": """
seqspec: 1
name: indrnn_left
model:
  scheme: many_to_many
  input: {kind: features, size: 3, variable_length: true, padding: left}
  layers:
    - {cell: indrnn, hidden_size: 4, recurrent_max: 0.9, bidirectional: true, merge_mode: sum}
    - {cell: indrnn, hidden_size: 5, activation: tanh, bias: false, bidirectional: true}
  head: {kind: regression, outputs: 2}
""",
}

TORCH_GATES = {"lstm": "ifgo", "gru": "rzn", "elman": "h"}


def _native(torch, cell, w, prefix):
    """canonical -> nn.LSTM / nn.GRU / nn.RNN tensors for one layer direction (rnn-semantics
    section 14): gates stacked in torch's order, b into bias_ih, bias_hh = 0 except the GRU's
    n block, which is bhn."""
    gates = TORCH_GATES[cell]
    out = {"weight_ih": np.concatenate([w[f"{prefix}.Wx_{g}"] for g in gates]),
           "weight_hh": np.concatenate([w[f"{prefix}.Wh_{g}"] for g in gates])}
    if f"{prefix}.b_{gates[0]}" in w:
        out["bias_ih"] = np.concatenate([w[f"{prefix}.b_{g}"] for g in gates])
        out["bias_hh"] = np.concatenate([
            w[f"{prefix}.bhn"] if (cell, g) == ("gru", "n") else np.zeros_like(w[f"{prefix}.b_{g}"])
            for g in gates])
    return {k: torch.tensor(v) for k, v in out.items()}


def _oracle_layer(torch, model):
    """The torch layer a person would write for this (single-group) stack, with its weights."""
    stack = model.encoder
    first = stack.layers[0]
    kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}[first.cell]
    extra = {"nonlinearity": first.settings.activation} if first.cell == "elman" else {}
    rnn = kind(first.input_size, first.hidden_size, num_layers=len(stack.layers),
               bias=first.bias, batch_first=True, bidirectional=first.bidirectional,
               dtype=torch.float64, **extra)
    return rnn


def _load(torch, rnn, model, weights):
    with torch.no_grad():
        for k, layer in enumerate(model.encoder.layers):
            for d in layer.directions:
                sfx = "_reverse" if d.name == "backward" else ""
                for name, value in _native(torch, layer.cell, weights, d.prefix).items():
                    getattr(rnn, f"{name}_l{k}{sfx}").copy_(value)


@pytest.mark.parametrize("name", sorted(FUSED_SPECS))
def test_fused_layers_match_torch_layers(name: str, torch, compile_text) -> None:
    module, model = compile_text(name, FUSED_SPECS[name])
    weights = random_weights(model, seed=2)
    inputs = make_inputs(model, batch=4, steps=6, seed=5)
    padding = model.encoder.input.padding
    gen = module.Model(weights, dtype="float64", device="cpu").eval()
    assert isinstance(gen.encoder[0], torch.nn.RNNBase)  # the fused path is taken
    x = torch.tensor(inputs["x"], requires_grad=True)
    lengths = torch.tensor(inputs["lengths"])
    z, final = gen.run_encoder(x, lengths)
    rnn = _oracle_layer(torch, model)
    _load(torch, rnn, model, weights)

    g = torch.tensor(np.random.default_rng(0).normal(size=z.shape))
    (z * g).sum().backward()
    x_oracle = torch.tensor(inputs["x"], requires_grad=True)
    loss = 0.0
    parts = ("h", "c") if model.encoder.layers[0].cell == "lstm" else ("h",)
    prefixes = [d.prefix for layer in model.encoder.layers for d in layer.directions]
    for b, n in enumerate(inputs["lengths"]):
        where = slice(0, n) if padding == "right" else slice(6 - n, 6)
        out, hx = rnn(x_oracle[b : b + 1, where])  # this sequence alone
        hx = hx if isinstance(hx, tuple) else (hx,)
        torch.testing.assert_close(z[b, where], out[0], rtol=0, atol=1e-12)
        assert torch.all(z[b, slice(n, 6) if padding == "right" else slice(0, 6 - n)] == 0)
        for part, h_n in zip(parts, hx, strict=True):
            for i, prefix in enumerate(prefixes):  # h_n[layer * D + direction]
                torch.testing.assert_close(final[f"{prefix}.{part}"][b], h_n[i, 0], rtol=0,
                                           atol=1e-12)
        loss = loss + (out[0] * g[b, where]).sum()
    loss.backward()
    torch.testing.assert_close(x.grad, x_oracle.grad, rtol=0, atol=1e-12)
    for pname, p in rnn.named_parameters():
        expected = p.grad
        if pname.startswith("bias_hh"):
            # torch's redundant second bias does not train (mask_redundant_bias_gradients):
            # only the GRU's bhn block, the last third, keeps its gradient
            keep = torch.zeros_like(expected)
            if isinstance(rnn, torch.nn.GRU):
                keep[2 * rnn.hidden_size :] = 1
            expected = expected * keep
        torch.testing.assert_close(getattr(gen.encoder[0], pname).grad, expected, rtol=0,
                                   atol=1e-12, msg=pname)


@pytest.mark.parametrize("name", ["lstm_bi_right", "rnn_relu_bi_right"])
def test_fused_layers_match_a_packed_batch(name: str, torch, compile_text) -> None:
    """The batch as a torch user packs it: outputs and h_n, the bidirectional h_n[-2:] too."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    module, model = compile_text(name, FUSED_SPECS[name])
    weights = random_weights(model, seed=4)
    inputs = make_inputs(model, batch=5, steps=7, seed=6)
    gen = module.Model(weights, dtype="float64", device="cpu").eval()
    z, final = gen.run_encoder(torch.tensor(inputs["x"]), torch.tensor(inputs["lengths"]))
    rnn = _oracle_layer(torch, model)
    _load(torch, rnn, model, weights)
    packed = pack_padded_sequence(torch.tensor(inputs["x"]), torch.tensor(inputs["lengths"]),
                                  batch_first=True, enforce_sorted=False)
    out, hx = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=7)
    torch.testing.assert_close(z, out, rtol=0, atol=1e-12)
    h_n = hx[0] if isinstance(hx, tuple) else hx
    top = model.encoder.layers[-1]
    torch.testing.assert_close(final[f"{top.prefix}.forward.h"], h_n[-2], rtol=0, atol=1e-12)
    torch.testing.assert_close(final[f"{top.prefix}.backward.h"], h_n[-1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXPLICIT_SPECS))
def test_explicit_cells_match_naive_loops(name: str, torch, compile_text, reference) -> None:
    module, model = compile_text(name, EXPLICIT_SPECS[name])
    stack = model.encoder
    weights = random_weights(model, seed=7)
    inputs = make_inputs(model, batch=4, steps=6, seed=8)
    rng = np.random.default_rng(9)
    state = {f"{d.prefix}.{n}": rng.uniform(-1, 1, size=(4, s))
             for layer in stack.layers for d in layer.directions
             for n, s in zip(layer.state_names, layer.state_sizes, strict=True)}
    gen = module.Model(weights, dtype="float64", device="cpu").eval()
    assert not any(isinstance(m, torch.nn.RNNBase) for m in gen.encoder)  # explicit path
    tokens = stack.input.kind == "tokens"
    x = torch.tensor(inputs["x"], requires_grad=not tokens)
    s0 = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    z, final = gen.run_encoder(x, torch.tensor(inputs["lengths"]), s0)
    g = torch.tensor(rng.normal(size=z.shape))
    gs = {k: torch.tensor(rng.normal(size=v.shape)) for k, v in final.items()}
    loss = (z * g).sum() + sum((final[k] * gs[k]).sum() for k in final)
    loss.backward()
    got_grads = gen.canonical_gradients()

    w = reference.leaf_weights(weights)
    x_ref = torch.tensor(inputs["x"], requires_grad=not tokens)
    s_ref = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    loss_ref = 0.0
    for b, n in enumerate(inputs["lengths"]):
        row = [int(t) for t in inputs["x"][b]] if tokens else list(x_ref[b])
        xs, where = reference.valid_steps(row, int(n), stack.input.padding)
        outs, fin = reference.run_stack(stack, w, xs, {k: v[b] for k, v in s_ref.items()})
        for t, out in zip(where, outs, strict=True):
            torch.testing.assert_close(z[b, t], out, rtol=0, atol=1e-12)
            loss_ref = loss_ref + (out * g[b, t]).sum()
        padded = [t for t in range(6) if t not in where]
        assert torch.all(z[b, padded] == 0)
        for k, v in fin.items():
            torch.testing.assert_close(final[k][b], v, rtol=0, atol=1e-12, msg=k)
            loss_ref = loss_ref + (v * gs[k][b]).sum()
    loss_ref.backward()
    for p in stack.params:
        torch.testing.assert_close(torch.tensor(got_grads[p.name]), w[p.name].grad, rtol=0,
                                   atol=1e-11, msg=p.name)
    for k in state:
        torch.testing.assert_close(s0[k].grad, s_ref[k].grad, rtol=0, atol=1e-11, msg=k)
    if not tokens:
        torch.testing.assert_close(x.grad, x_ref.grad, rtol=0, atol=1e-11)


def test_scans_pass_gradcheck(torch, compile_text) -> None:
    """The hand-written backward passes against finite differences, masks and both directions."""
    module, _ = compile_text("mixed_left", EXPLICIT_SPECS["mixed_left"])
    jordan = compile_text("tokens_right", EXPLICIT_SPECS["tokens_right"])[0].JordanScan  # tanh
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) - 0.5).requires_grad_()

    T, B, H, O_ = 4, 3, 2, 2  # steps, batch, hidden, Jordan output
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=torch.bool)[..., None]
    for m in (None, mask):
        for reverse in (False, True):
            cases = [
                (module.PeepholeLSTMScan, (rand(T, B, 4 * H), rand(4 * H, H), rand(H), rand(H),
                                           rand(H), rand(B, H), rand(B, H), m, reverse)),
                (module.GRUResetBeforeScan, (rand(T, B, 3 * H), rand(3 * H, H), rand(B, H), m,
                                             reverse)),
                (module.ElmanScan, (rand(T, B, H), rand(H, H), rand(B, H), m, reverse)),
                (jordan, (rand(T, B, H), rand(H, O_), rand(O_, H), rand(O_), rand(B, O_),
                                     rand(B, O_), m, reverse, 0.3, "tanh", "sigmoid")),
            ]
            for fn, args in cases:
                assert torch.autograd.gradcheck(fn.apply, args), (fn.__name__, m, reverse)
