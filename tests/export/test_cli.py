"""``seqspec export --format onnx|torchscript|torch-export|savedmodel``: what it writes, and
one clear line (exit 1, nothing written) for what it cannot do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import cli
from seqspec.weights import random_weights, save_npz

ROOT = Path(__file__).resolve().parents[2]
TAGGER = ROOT / "examples" / "bidirectional_gru_tagger.yaml"  # fused layers, variable lengths
PEEPHOLE = ROOT / "examples" / "peephole_lstm.yaml"  # an explicit cell
JORDAN = ROOT / "examples" / "jordan_bidirectional_classifier.yaml"  # explicit, both ways, lengths
AR = ROOT / "examples" / "ar_mlp.yaml"  # no time dimension
OUT = {"torchscript": "m.pt", "torch-export": "m.pt2", "savedmodel": "saved"}
FRAMEWORK = {"torchscript": "torch", "torch-export": "torch", "savedmodel": "tensorflow"}


def _export(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["export", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("fmt", ["torchscript", "torch-export", "savedmodel"])
def test_each_format_is_written_with_the_given_weights(fmt, tmp_path, capsys, compiled_dir):
    pytest.importorskip(FRAMEWORK[fmt])
    model = seqspec.lower_file(TAGGER)
    weights = random_weights(model, 2)
    save_npz(tmp_path / "w.npz", weights)
    out = tmp_path / OUT[fmt]
    code, stdout, err = _export(capsys, TAGGER, "--format", fmt, "-o", out,
                                "--weights", tmp_path / "w.npz")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}"
    assert out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["w.npz", out.name])  # no temp
    if fmt == "torchscript":  # the weights given are the weights inside
        import torch

        params = dict(torch.jit.load(str(out)).named_parameters())
        np.testing.assert_allclose(params["model.encoder_embedding.weight"].detach().numpy(),
                                   weights["encoder.embedding"], rtol=1e-6)
    if fmt == "torch-export":  # another batch and length than recorded, garbage padding
        import torch

        from seqspec.generated import import_model
        from seqspec.testing import make_inputs

        inputs = make_inputs(model, batch=4, steps=11, seed=5, dtype="float32")
        got = torch.export.load(str(out)).module()(
            *(torch.from_numpy(v) for v in inputs.values()))
        reference = import_model(compiled_dir(TAGGER, "torch"), prefix="_cli_reference")
        with torch.no_grad():
            outputs, states = reference.Model(weights, device="cpu").eval()(**inputs)
        np.testing.assert_allclose(got["outputs"].numpy(), outputs.numpy(), rtol=0, atol=1e-5)
        for key, value in states.items():
            np.testing.assert_allclose(got[key].numpy(), value.numpy(), rtol=0, atol=1e-5)


def test_torch_export_of_a_model_without_time(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    out = tmp_path / "ar.pt2"
    code, _, err = _export(capsys, AR, "--format", "torch-export", "-o", out, "--seed", 3)
    assert code == 0, err
    windows = torch.randn(7, seqspec.lower_file(AR).ar.order)
    assert torch.export.load(str(out)).module()(windows)["outputs"].shape == (7, 1)


def test_torchscript_of_explicit_cells_runs_at_any_batch_and_length(tmp_path, capsys,
                                                                     compiled_dir):
    """No --steps: the trace keeps an explicit cell's time loop as a scripted loop, so the
    artifact matches the generated model at batch sizes and lengths it was not traced with
    (it is traced at B=3, T=6), both directions, garbage in the padding."""
    torch = pytest.importorskip("torch")
    from seqspec.generated import import_model
    from seqspec.testing import make_inputs

    model = seqspec.lower_file(JORDAN)
    weights = random_weights(model, 4)
    save_npz(tmp_path / "w.npz", weights)
    out = tmp_path / OUT["torchscript"]
    code, _, err = _export(capsys, JORDAN, "--format", "torchscript", "-o", out,
                           "--weights", tmp_path / "w.npz")
    assert code == 0, err
    loaded = torch.jit.load(str(out))
    module = import_model(compiled_dir(JORDAN, "torch"), prefix="_cli_reference")
    reference = module.Model(weights, dtype="float32", device="cpu").eval()
    for seed, (batch, steps) in enumerate(((2, 4), (5, 11))):
        inputs = make_inputs(model, batch=batch, steps=steps, seed=seed, dtype="float32")
        assert inputs["lengths"].min() < steps  # some rows padded (with garbage)
        got = loaded(*(torch.from_numpy(v) for v in inputs.values()))
        with torch.no_grad():
            outputs, states = reference(**inputs)
        np.testing.assert_allclose(got["outputs"].numpy(), outputs.numpy(), rtol=0, atol=1e-5)
        for key, value in states.items():
            np.testing.assert_allclose(got[key].numpy(), value.numpy(), rtol=0, atol=1e-5)


def test_weights_that_do_not_fit_are_refused(tmp_path, capsys):
    save_npz(tmp_path / "w.npz", {"head.W": np.zeros((2, 2))})
    out = tmp_path / "m.pt"
    code, _, err = _export(capsys, TAGGER, "--format", "torchscript", "-o", out,
                           "--weights", tmp_path / "w.npz")
    assert code == 1
    assert "missing encoder" in _one_line_error(err)
    assert not out.exists()


def test_an_existing_folder_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "saved"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = _export(capsys, TAGGER, "--format", "savedmodel", "-o", out)
    assert code == 1
    assert "existing folder" in _one_line_error(err)
    assert (out / "keep.txt").read_text() == "mine"


def test_steps_is_no_option_and_an_invalid_spec_is_refused(tmp_path, capsys):
    """--steps fixed an explicit cell's TorchScript length; every format is dynamic now."""
    code, _, err = _export(capsys, PEEPHOLE, "--format", "torchscript", "-o",
                           tmp_path / "m.pt", "--steps", 4)
    assert code == 2 and "unrecognized arguments: --steps" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("seqspec: 1\nname: x\nmodel: {scheme: ar_linear, order: 0}\n")
    code, _, err = _export(capsys, bad, "--format", "torchscript", "-o", tmp_path / "m.pt")
    assert code == 1 and f"{bad}:3:" in err
    assert not (tmp_path / "m.pt").exists()


def test_a_torchscript_of_explicit_cells_refuses_inputs_of_the_wrong_size(tmp_path, capsys):
    """Never a silent answer: another feature size than the spec's is an error from torch."""
    torch = pytest.importorskip("torch")
    out = tmp_path / OUT["torchscript"]
    code, _, err = _export(capsys, PEEPHOLE, "--format", "torchscript", "-o", out)
    assert code == 0, err
    loaded = torch.jit.load(str(out))
    assert loaded(torch.randn(3, 13, 6))["outputs"].shape == (3, 13, 5)
    with pytest.raises(RuntimeError):
        loaded(torch.randn(3, 13, 7))


def test_an_existing_file_or_symlink_is_replaced_only_with_force(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "m.pt2"
    out.write_text("mine")
    code, _, err = _export(capsys, AR, "--format", "torch-export", "-o", out)
    assert code == 1 and "--force" in _one_line_error(err)
    assert out.read_text() == "mine"
    target = tmp_path / "elsewhere.txt"
    target.write_text("theirs")
    link = tmp_path / "link.pt2"
    link.symlink_to(target)
    code, _, err = _export(capsys, AR, "--format", "torch-export", "-o", link)
    assert code == 1 and "symbolic link" in _one_line_error(err)
    code, _, err = _export(capsys, AR, "--format", "torch-export", "-o", link, "--force")
    assert code == 0, err
    assert target.read_text() == "theirs" and not link.is_symlink()
