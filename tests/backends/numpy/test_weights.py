"""Canonical weights in the generated model: drawing, loading, saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqspec import weights

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_init_weights_is_bit_identical_to_seqspec(example, numpy_model):
    model_ir, module = numpy_model(example)
    for seed in (0, 7):
        expected = weights.init_weights(model_ir, seed)
        got = module.init_weights(seed)
        assert list(got) == list(expected)  # same names, same order
        for name, value in expected.items():
            assert got[name].dtype == np.float64
            np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_npz_round_trip_and_canonical_weights(numpy_model, tmp_path):
    model_ir, module = numpy_model(ROOT / "examples" / "peephole_lstm.yaml")
    w = weights.random_weights(model_ir, 3)
    model = module.Model(w, dtype="float32")
    canonical = model.canonical_weights()
    assert list(canonical) == list(module.PARAMETERS)
    for name, value in w.items():  # float64 kept exactly, whatever the compute dtype
        np.testing.assert_array_equal(canonical[name], value)
    target = tmp_path / "elsewhere.npz"
    target.write_bytes(b"theirs")
    (tmp_path / "w.npz").symlink_to(target)  # a planted link is replaced, never written through
    model.save_npz(tmp_path / "w.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.npz", "w.npz"]
    assert target.read_bytes() == b"theirs" and not (tmp_path / "w.npz").is_symlink()
    loaded = weights.load_npz(tmp_path / "w.npz", model_ir)  # seqspec reads what it wrote
    other = module.Model(dtype="float32")
    other.load_npz(tmp_path / "w.npz")
    for name in w:
        np.testing.assert_array_equal(loaded[name], w[name])
        np.testing.assert_array_equal(other.canonical_weights()[name], w[name])
    inputs = {"x": np.ones((2, 3, 6), np.float32)}
    np.testing.assert_array_equal(model.forward(**inputs)[0], other.forward(**inputs)[0])


def test_wrong_weights_are_refused_with_every_problem(numpy_model):
    model_ir, module = numpy_model(ROOT / "examples" / "gru_reset_before.yaml")
    w = weights.random_weights(model_ir, 0)
    del w["head.b"]
    w["encoder.layers.0.forward.Wx_z"] = np.zeros((3, 3))
    w["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as info:
        module.Model(w)
    message = str(info.value)
    assert "missing head.b" in message
    assert "unexpected extra" in message
    assert "encoder.layers.0.forward.Wx_z: shape (3, 3)" in message
