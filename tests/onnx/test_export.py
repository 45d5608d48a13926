"""ONNX export: every example passes the full checker, uses the standard operators where they
are exact, and agrees with the NumPy backend in float32 (onnxruntime) within 1e-5."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.testing import make_inputs, output_cotangent
from seqspec.weights import init_weights, random_weights, save_npz

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from seqspec.onnx import export, unsupported  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_IDS = [p.stem for p in EXAMPLES]
INPUT_NAMES = {
    "many_to_many": {"x", "lengths"}, "many_to_one": {"x", "lengths"},
    "one_to_many": {"features", "y_in", "lengths"}, "seq2seq": {"x", "x_lengths", "y_in",
                                                                "y_lengths"},
    "ar_linear": {"windows"}, "ar_mlp": {"windows"},
}


def _run_onnx(proto, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {a.name: inputs[a.name].astype(np.int64 if "int" in a.type else np.float32)
             for a in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def _ops(proto) -> list[str]:
    return [n.op_type for n in proto.graph.node]


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_every_example_exports_and_passes_the_full_checker(example: Path) -> None:
    model = seqspec.lower_file(example)
    assert unsupported(model) == []
    proto = export(model, random_weights(model, 0))
    onnx.checker.check_model(proto, full_check=True)  # strict shape inference included
    assert proto.opset_import[0].version >= 17
    # the optional initial states are tested in test_initial_state.py
    names = {i.name for i in proto.graph.input if not i.name.startswith("initial_state.")}
    assert names <= INPUT_NAMES[model.scheme]
    assert names & INPUT_NAMES[model.scheme]
    outputs = [o.name for o in proto.graph.output]
    assert outputs[0] != "" and "outputs" in outputs
    keys = {f"{d.prefix}.{s}" for st in model.stacks for layer in st.layers
            for d in layer.directions for s in layer.state_names}
    assert set(outputs) - {"outputs"} == keys
    again = export(model, random_weights(model, 0)).SerializeToString()
    assert again == proto.SerializeToString()  # deterministic bytes


def _numpy_runner():
    from seqspec.backends.numpy import runner

    return runner


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_onnxruntime_agrees_with_numpy_in_float32(example: Path, compiled_dir) -> None:
    runner = _numpy_runner()
    model = seqspec.lower_file(example)
    weights = random_weights(model, 3)
    inputs = make_inputs(model, batch=3, steps=6, seed=3, dtype="float32")
    folder = compiled_dir(example, "numpy")
    from seqspec.check import output_shape

    g = output_cotangent(output_shape(model, inputs), dtype="float32")
    ref = runner.run(folder, weights, inputs, g, "float32")
    got = _run_onnx(export(model, weights), inputs)
    np.testing.assert_allclose(got.pop("outputs"), ref["outputs"]["outputs"], rtol=0, atol=1e-5)
    assert set(got) == set(ref["states"])
    for key, value in got.items():
        np.testing.assert_allclose(value, ref["states"][key], rtol=0, atol=1e-5, err_msg=key)


def _node(proto, op_type: str):
    nodes = [n for n in proto.graph.node if n.op_type == op_type]
    assert nodes, f"no {op_type} node in {_ops(proto)}"
    return nodes[0]


def _attr(node, name: str):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return None


def _example_proto(stem: str):
    model = seqspec.lower_file(ROOT / "examples" / f"{stem}.yaml")
    return model, export(model, random_weights(model, 0))


def test_standard_operators_carry_the_spec_semantics() -> None:
    _, proto = _example_proto("peephole_lstm")
    lstm = _node(proto, "LSTM")
    assert len(lstm.input) == 8 and lstm.input[7]  # P, the peepholes
    _, proto = _example_proto("gru_reset_before")
    assert _attr(_node(proto, "GRU"), "linear_before_reset") == 0
    _, proto = _example_proto("gru_reset_after")
    gru = _node(proto, "GRU")
    assert _attr(gru, "linear_before_reset") == 1
    assert gru.input[4]  # sequence_lens: variable-length input
    assert "ReverseSequence" in _ops(proto)  # left padding is re-aligned
    _, proto = _example_proto("stacked_elman_relu")
    acts = [_attr(n, "activations") for n in proto.graph.node if n.op_type == "RNN"]
    assert acts == [[b"Tanh"], [b"Relu"], [b"Sigmoid"]]
    _, proto = _example_proto("bidirectional_gru_tagger")
    directions = {_attr(n, "direction") for n in proto.graph.node if n.op_type in ("GRU", "RNN")}
    assert directions == {b"bidirectional"}
    _, proto = _example_proto("jordan_bidirectional_classifier")
    assert _ops(proto).count("Scan") == 2  # one per direction: no ONNX op feeds y_{t-1} back
    _, proto = _example_proto("elman_lm")
    assert "OneHot" in _ops(proto)


def test_peephole_and_gate_order_match_the_canonical_weights() -> None:
    model, proto = _example_proto("peephole_lstm")
    w = random_weights(model, 0)
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    p = "encoder.layers.0.forward"
    np.testing.assert_allclose(inits["encoder.layers.0.P"][0], np.concatenate(
        [w[f"{p}.p_i"], w[f"{p}.p_o"], w[f"{p}.p_f"]]).astype(np.float32))
    np.testing.assert_allclose(inits["encoder.layers.0.W"][0], np.concatenate(
        [w[f"{p}.Wx_{g}"] for g in "iofg"]).astype(np.float32))


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seqspec")
    seqspec.onnx.add_export_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_export_command_writes_a_checked_model(tmp_path, capsys) -> None:
    spec = ROOT / "examples" / "char_lstm.yaml"
    out = tmp_path / "m.onnx"
    assert _cli(["export", str(spec), "--format", "onnx", "-o", str(out), "--seed", "4"]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    model = seqspec.lower_file(spec)
    emb = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(emb["encoder.embedding"],
                                  init_weights(model, 4)["encoder.embedding"].astype(np.float32))
    assert "wrote" in capsys.readouterr().out


def test_export_embeds_the_given_weights(tmp_path) -> None:
    spec = ROOT / "examples" / "ar_linear.yaml"
    model = seqspec.lower_file(spec)
    weights = random_weights(model, 9)
    save_npz(tmp_path / "w.npz", weights)
    out = tmp_path / "ar.onnx"
    assert _cli(["export", str(spec), "-o", str(out), "--weights", str(tmp_path / "w.npz")]) == 0
    windows = make_inputs(model, batch=4, seed=2)["windows"]
    got = _run_onnx(onnx.load(str(out)), {"windows": windows})["outputs"]
    # windows are oldest first; phi[i-1] weights x_{t-i}
    p = model.ar.order
    want = sum(weights["ar.phi"][i - 1] * windows[:, p - i] for i in range(1, p + 1))
    np.testing.assert_allclose(got[:, 0], want + weights["ar.c"][0], atol=1e-5)


def test_export_refuses_weights_that_do_not_fit(tmp_path, capsys) -> None:
    save_npz(tmp_path / "w.npz", {"head.W": np.zeros((2, 2))})
    code = _cli(["export", str(ROOT / "examples" / "gru_reset_before.yaml"), "-o",
                 str(tmp_path / "m.onnx"), "--weights", str(tmp_path / "w.npz")])
    assert code == 1
    err = capsys.readouterr().err
    assert "missing encoder.layers.0.forward.Wx_z" in err
    assert not (tmp_path / "m.onnx").exists()


def test_export_of_an_invalid_spec_is_a_located_error(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seqspec: 1\nname: x\nmodel: {scheme: ar_linear, order: 0}\n")
    assert _cli(["export", str(bad), "-o", str(tmp_path / "m.onnx")]) == 1
    assert f"{bad}:3:" in capsys.readouterr().err


def test_what_onnx_cannot_hold_is_refused_with_a_location(tmp_path, capsys) -> None:
    # 800k one-hot tokens x 700 units: 560M float32 weights, over the 2 GiB protobuf limit
    big = tmp_path / "big.yaml"
    big.write_text("seqspec: 1\nname: big\nmodel:\n  scheme: many_to_many\n  input: {kind: "
                   "tokens, vocab_size: 800000, encoding: one_hot}\n  layers:\n    - {cell: "
                   "elman, hidden_size: 700}\n  head: {kind: regression}\n")
    problems = unsupported(seqspec.lower_file(big))
    assert problems and "2,080,374,784" in problems[0].message
    assert _cli(["export", str(big), "-o", str(tmp_path / "big.onnx")]) == 1
    err = capsys.readouterr().err
    assert f"{big}:3:" in err and "external data" in err
    assert not (tmp_path / "big.onnx").exists()


def test_the_seqspec_command_line_runs_export(tmp_path, capsys) -> None:
    from seqspec import cli

    out = tmp_path / "m.onnx"
    code = cli.main(["export", str(ROOT / "examples" / "jordan_series.yaml"), "--format", "onnx",
                     "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
