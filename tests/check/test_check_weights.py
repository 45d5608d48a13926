"""``seqspec check SPEC --weights W.npz [--inputs X.npz]``: the weights and inputs that ship."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from seqspec import check as check_mod
from seqspec.api import lower_file
from seqspec.check.compare import compare_arrays, tolerance, weight_scale
from seqspec.testing import make_inputs
from seqspec.weights import random_weights, save_npz

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "bidirectional_gru_tagger.yaml"  # tokens, variable length, GRU


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seqspec")
    check_mod.add_check_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Path, Path, float]:
    """Weights 6x the default-init range (like trained ones) and a batch of 4 x 9 inputs."""
    folder = tmp_path_factory.mktemp("shipped")
    model = lower_file(SPEC)
    weights = {k: 6.0 * v for k, v in random_weights(model, 3).items()}
    inputs = make_inputs(model, batch=4, steps=9, seed=5)
    save_npz(folder / "w.npz", weights)
    save_npz(folder / "x.npz", inputs)
    return folder / "w.npz", folder / "x.npz", weight_scale(weights, inputs)


def test_every_backend_agrees_on_the_shipped_weights(shipped, capsys) -> None:
    weights, inputs, scale = shipped
    code = run_cli(["check", str(SPEC), "--backends", "numpy,torch,tensorflow", "--weights",
                    str(weights), "--inputs", str(inputs), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    report = doc["specs"][0]
    assert code == 0 and doc["passed"], report["failures"]
    assert [b["status"] for b in report["backends"]] == ["ok", "ok", "ok"]
    assert (report["weights"], report["inputs"]) == (str(weights), str(inputs))
    assert (report["batch"], report["steps"]) == (4, 9)
    assert report["tolerance_scale"] == pytest.approx(scale) and scale > 5
    pairs = {tuple(c["pair"]) for c in report["comparisons"]}
    assert pairs == {("numpy", "torch"), ("numpy", "tensorflow"), ("torch", "tensorflow")}
    outputs = next(c for c in report["comparisons"] if c["group"] == "outputs")
    assert outputs["tolerance"] == str(tolerance("outputs", "float64", scale))


def test_the_results_are_those_of_the_given_weights(shipped, tmp_path: Path) -> None:
    """The workers ran on the given arrays, not on check's own random ones."""
    weights, inputs, _ = shipped
    (report,) = check_mod.check([SPEC], ("numpy", "torch"), workdir=tmp_path, weights=weights,
                                inputs=inputs)
    assert not report.failures()
    used = np.load(tmp_path / "spec0" / "weights.npz")
    given = np.load(weights)
    assert sorted(used.files) == sorted(given.files)
    assert all(np.array_equal(used[k], given[k]) for k in given.files)
    assert np.array_equal(np.load(tmp_path / "spec0" / "inputs.npz")["x"], np.load(inputs)["x"])


def test_scaled_tolerances() -> None:
    assert weight_scale({"w": np.array([0.5, -0.9])}, {"x": np.array([[1, 7]])}) == 1.0
    assert weight_scale({"w": np.array([4.0, -8.0])}, {"x": np.array([[-3.0]])}) == 24.0
    assert str(tolerance("outputs", "float64", 24.0)) == "abs<=2.40e-08"
    assert str(tolerance("grads", "float32", 24.0)) == "rel<=1e-04"  # relative: scale-free
    pair = ("numpy", "torch")
    a, b = np.zeros(3), np.full(3, 5e-9)
    assert not compare_arrays("outputs", "outputs", pair, a, b, "float64").passed
    assert compare_arrays("outputs", "outputs", pair, a, b, "float64", scale=24.0).passed


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: (d / "w.npz").write_text("not a zip"), "w.npz: error: is not an .npz file"),
    (lambda d: save_npz(d / "w.npz", {"nope": np.zeros(2)}),
     "w.npz: error: weights do not fit the model: missing "),
    (lambda d: save_npz(d / "w.npz", {k: np.full_like(v, np.nan) for k, v in
                                      random_weights(lower_file(SPEC), 0).items()}),
     "w.npz: error: weights hold NaN or inf in "),
    (lambda d: save_npz(d / "x.npz", {"x": np.zeros((2, 3)), "extra": np.zeros(2)}),
     "x.npz: error: inputs do not fit the model: missing 'lengths'; unexpected 'extra' "
     "(this model takes x, lengths); 'x' must hold integers, not float64"),
    (lambda d: save_npz(d / "x.npz", {"x": np.full((2, 3), 99), "lengths": np.array([3, 4])}),
     "x.npz: error: inputs do not fit the model: 'x' holds token ids outside 0..39; "
     "'lengths' must be within 1..3"),
])
def test_bad_weights_or_inputs_are_one_line(make, message: str, tmp_path: Path, capsys) -> None:
    make(tmp_path)
    argv = ["check", str(SPEC), "--backends", "numpy,torch"]
    for name in ("w.npz", "x.npz"):
        if (tmp_path / name).exists():
            argv += ["--weights" if name == "w.npz" else "--inputs", str(tmp_path / name)]
    assert run_cli(argv) == 1
    out = capsys.readouterr().out
    assert f"  {tmp_path}/{message}" in out, out
    assert "Traceback" not in out


def test_weights_go_with_one_spec(shipped, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli(["check", str(SPEC), str(SPEC), "--weights", str(shipped[0])])
    assert exc.value.code == 2
    assert "exactly one spec" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--seed", "-1"], "--seed: must be within 0..4294967295"),
    (["--timeout", "nan"], "--timeout: must be a positive number of seconds"),
    (["--batch", "100000000"], "is over 10,000,000 steps of input"),
    (["--keep", "/dev/null"], "--keep /dev/null: cannot use it as a folder"),
])
def test_usage_errors_are_not_internal_errors(flags: list[str], message: str, capsys) -> None:
    from seqspec import cli

    assert cli.main(["check", str(SPEC), "--backends", "numpy,torch", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "internal error" not in err
