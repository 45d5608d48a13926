"""The generated module's API (docs/generated-api.md): weights, state_dict, dtype and device,
dropout, autocast, initial states, generation and the runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs
from seqspec.weights import init_weights, random_weights

pytestmark = pytest.mark.torch  # needs PyTorch (each test skips without it)

ROOT = Path(__file__).resolve().parents[3]


def _model(name: str):
    return seqspec.lower_file(ROOT / "examples" / f"{name}.yaml")


def test_weights_round_trip_exactly(torch, torch_module) -> None:
    for name in ("seq2seq_gru", "peephole_lstm", "jordan_bidirectional_classifier", "ar_linear"):
        weights = random_weights(_model(name), seed=3)
        model = torch_module(name).Model(weights, dtype="float64", device="cpu")
        back = model.canonical_weights()
        assert list(back) == list(weights)
        for k, v in weights.items():
            assert back[k].dtype == np.float64 and np.array_equal(back[k], v), k


def test_default_weights_are_the_specs_initialisers(torch, torch_module) -> None:
    model = torch_module("char_lstm").Model(dtype="float64", device="cpu")
    want = init_weights(_model("char_lstm"), seed=0)
    for k, v in model.canonical_weights().items():
        assert np.array_equal(v, want[k]), k


def test_npz_round_trip(torch, torch_module, tmp_path: Path) -> None:
    module = torch_module("gru_reset_after")
    weights = random_weights(_model("gru_reset_after"), seed=5)
    module.Model(weights, dtype="float64", device="cpu").save_npz(tmp_path / "w.npz")
    other = module.Model(device="cpu", dtype="float64")
    other.load_npz(tmp_path / "w.npz")
    for k, v in other.canonical_weights().items():
        assert np.array_equal(v, weights[k]), k
    with pytest.raises(ValueError, match="missing"):
        other.load_weights({k: v for k, v in weights.items() if k != "head.W"})


def test_state_dict_uses_native_names(torch, torch_module) -> None:
    module = torch_module("bidirectional_lstm_classifier")
    weights = random_weights(_model("bidirectional_lstm_classifier"), seed=1)
    model = module.Model(weights, dtype="float64", device="cpu").eval()
    state = model.state_dict()
    assert set(state) == set(module.LAYOUT)
    assert "encoder.0.weight_ih_l1_reverse" in state and "head.weight" in state
    # the i, f, g, o blocks of torch's weight_ih are the canonical per-gate matrices
    w = state["encoder.0.weight_ih_l0"].numpy()
    assert np.array_equal(w[32:64], weights["encoder.layers.0.forward.Wx_f"])
    fresh = module.Model(device="cpu", dtype="float64").eval()
    fresh.load_state_dict(state)
    inputs = make_inputs(_model("bidirectional_lstm_classifier"))
    torch.testing.assert_close(fresh(**inputs)[0], model(**inputs)[0], rtol=0, atol=0)


def test_second_bias_reads_back_added(torch, torch_module) -> None:
    """Training moves bias_hh too: the canonical b is then bias_ih + bias_hh."""
    module = torch_module("gru_reset_after")
    weights = random_weights(_model("gru_reset_after"), seed=2)
    model = module.Model(weights, dtype="float64", device="cpu")
    with torch.no_grad():
        model.encoder[0].bias_hh_l0 += 1.0
    back = model.canonical_weights()
    p = "encoder.layers.0.forward."
    assert np.allclose(back[p + "b_r"], weights[p + "b_r"] + 1.0)  # r block: free split
    assert np.allclose(back[p + "b_n"], weights[p + "b_n"])  # n block of bias_hh is bhn
    assert np.allclose(back[p + "bhn"], weights[p + "bhn"] + 1.0)


def test_dtype_and_device(torch, torch_module) -> None:
    module = torch_module("peephole_lstm")
    model = module.Model()
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device.type == want and model.dtype == torch.float32
    model = module.Model(dtype="float64", device="cpu")
    assert model.dtype == torch.float64
    y, _ = model(**make_inputs(_model("peephole_lstm")))  # NumPy inputs are accepted
    assert y.dtype == torch.float64


@pytest.mark.parametrize("name", ["char_lstm", "stacked_elman_relu"])
def test_dropout_only_in_training_mode(name: str, torch, torch_module) -> None:
    model = torch_module(name).Model(random_weights(_model(name), 0), device="cpu")
    inputs = make_inputs(_model(name), batch=4, steps=9)
    model.eval()
    a, b = model(**inputs)[0], model(**inputs)[0]
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    model.train()
    torch.manual_seed(0)
    c = model(**inputs)[0]
    assert not torch.allclose(a, c)  # dropout between layers changed something


@pytest.mark.parametrize("name", ["char_lstm", "peephole_lstm", "jordan_series", "ar_mlp"])
def test_autocast_runs_forward_and_backward(name: str, torch, torch_module) -> None:
    weights = random_weights(_model(name), 0)
    inputs = make_inputs(_model(name), dtype="float32")
    plain = torch_module(name).Model(weights, device="cpu")
    mixed = torch_module(name).Model(weights, device="cpu", autocast="bfloat16")
    y32, y16 = plain(**inputs)[0], mixed(**inputs)[0]
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, rtol=0, atol=0.1)  # bf16 keeps 8 bits
    y16.float().sum().backward()
    assert all(p.grad is not None for p in mixed.parameters())


@pytest.mark.parametrize("name", ["stacked_elman_relu", "char_lstm",
                                  "jordan_bidirectional_classifier"])
def test_initial_state_matches_numpy(name: str, torch, compiled_dir) -> None:
    """Given initial states (one key left out: it starts at 0), packed batches included."""
    from seqspec.backends.numpy.runner import load_module as load_numpy
    from seqspec.backends.torch.runner import load_module as load_torch

    example = ROOT / "examples" / f"{name}.yaml"
    ir_model = seqspec.lower_file(example)
    weights = random_weights(ir_model, 4)
    inputs = make_inputs(ir_model, batch=4, steps=6, seed=1)
    rng = np.random.default_rng(0)
    state = {f"{d.prefix}.{n}": rng.uniform(-1, 1, size=(4, size))
             for layer in ir_model.encoder.layers for d in layer.directions
             for n, size in zip(layer.state_names, layer.state_sizes, strict=True)}
    state.pop(sorted(state)[-1])
    got = load_torch(compiled_dir(example, "torch")).Model(weights, "float64", "cpu").eval()
    want = load_numpy(compiled_dir(example, "numpy")).Model(weights, dtype="float64")
    y, s = got(**inputs, initial_state=state)
    y_ref, s_ref = want.forward(**inputs, initial_state=state)
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=0, atol=1e-12)
    for k, v in s_ref.items():
        np.testing.assert_allclose(s[k].detach().numpy(), v, rtol=0, atol=1e-12, err_msg=k)


GENERATORS = {
    "char_lstm": lambda inputs: ({"prefix": inputs["x"]}, {"steps": 6}),
    "elman_lm": lambda inputs: ({"prefix": inputs["x"]}, {"steps": 4}),
    "caption_one_to_many": lambda inputs: ({"features": inputs["features"]}, {}),
    "seq2seq_gru": lambda inputs: ({"x": inputs["x"], "x_lengths": inputs["x_lengths"]}, {}),
    "seq2seq_bilstm_dense": lambda inputs: ({"x": inputs["x"], "x_lengths": inputs["x_lengths"]},
                                            {"steps": 7}),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generation(name: str, torch, compiled_dir) -> None:
    from seqspec.backends.numpy.runner import load_module as load_numpy
    from seqspec.backends.torch.runner import load_module as load_torch

    example = ROOT / "examples" / f"{name}.yaml"
    ir_model = seqspec.lower_file(example)
    weights = random_weights(ir_model, 0, scale=3.0)  # peaked enough for varied argmax tokens
    args, kwargs = GENERATORS[name](make_inputs(ir_model, batch=4, steps=5, seed=2))
    model = load_torch(compiled_dir(example, "torch")).Model(weights, "float64", "cpu")
    reference = load_numpy(compiled_dir(example, "numpy")).Model(weights, dtype="float64")
    greedy = model.generate(**args, **kwargs)
    steps = kwargs.get("steps", ir_model.max_length)
    assert greedy.shape == (4, steps) and greedy.dtype == torch.long
    np.testing.assert_array_equal(greedy.numpy(), reference.generate(**args, **kwargs))
    a = model.generate(**args, **kwargs, strategy="sample", temperature=2.0, seed=7)
    b = model.generate(**args, **kwargs, strategy="sample", temperature=2.0, seed=7)
    assert torch.equal(a, b)  # seeded
    c = model.generate(**args, **kwargs, strategy="top_k", top_k=1, seed=1)
    assert torch.equal(c, greedy)  # top-1 sampling is greedy
    if ir_model.end_token is not None:  # after the end token, only the end token
        for row in model.generate(**args, **kwargs, strategy="sample", seed=3).tolist():
            if ir_model.end_token in row:
                tail = row[row.index(ir_model.end_token):]
                assert set(tail) == {ir_model.end_token}
    with pytest.raises(ValueError, match="strategy"):
        model.generate(**args, **kwargs, strategy="beam")
    assert model.training  # generation restores the mode it found


def test_runner_contract(torch, compiled_dir) -> None:
    from seqspec.backends.torch.runner import run

    example = ROOT / "examples" / "seq2seq_bilstm_dense.yaml"
    ir_model = seqspec.lower_file(example)
    inputs = make_inputs(ir_model, dtype="float32")
    g = np.ones((3, 5, 12), np.float32)
    out = run(compiled_dir(example, "torch"), random_weights(ir_model, 0), inputs, g, "float32")
    assert set(out) == {"outputs", "states", "grads"}
    assert out["outputs"]["outputs"].shape == (3, 5, 12)
    assert out["outputs"]["outputs"].dtype == np.float32
    assert {"encoder.layers.0.backward.c", "decoder.layers.0.forward.h"} <= set(out["states"])
    assert set(out["grads"]) == {p.name for p in ir_model.params} | {"x"}
    assert run(compiled_dir(example, "torch"), random_weights(ir_model, 0), inputs)["grads"] == {}
