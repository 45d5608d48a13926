"""Bad sources, and what the spec language cannot express, are refused through the command line:
exit status 1, one line on stderr naming the file, the node or layer and the attribute, no
traceback, and nothing written or overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seqspec.cli import main


def _refused(args: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    capsys.readouterr()
    assert main(["import", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


# ---------------------------------------------------------------------------- ONNX


def _lstm_graph(path: Path, attrs: dict[str, Any] | None = None, initial_h_input: bool = False,
                after_head: str | None = None, before_head: str | None = None) -> Path:
    """x (B, T, 3) -> LSTM node 'lstm_0' (H=4) -> Y_h -> MatMul head -> [after_head]."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    h = 4
    inits = [numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n) for n, s in (
        ("W", (1, 4 * h, 3)), ("R", (1, 4 * h, h)), ("head_w", (h, 2)))]
    inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 3])]
    lstm_in = ["xt", "W", "R"]
    if initial_h_input:
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, "b", h]))
        lstm_in += ["", "", "h0"]
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("LSTM", lstm_in, ["Y", "Yh"], name="lstm_0", hidden_size=h,
                              **(attrs or {})),
             helper.make_node("Squeeze", ["Yh", "axis0"], ["last"])]
    if before_head:
        nodes.append(helper.make_node(before_head, ["last"], ["act"], name="before_head"))
    nodes.append(helper.make_node("MatMul", ["act" if before_head else "last", "head_w"],
                                  ["logits"]))
    out = "logits"
    if after_head:
        nodes.append(helper.make_node(after_head, ["logits"], ["after"], name="after_head"))
        out = "after"
    graph = helper.make_graph(nodes, "g", inputs,
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["b", 2])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(("attrs", "words"), [
    ({"clip": 3.0}, ("node 'lstm_0' (LSTM)", "clip")),
    ({"input_forget": 1}, ("node 'lstm_0' (LSTM)", "input_forget")),
    ({"activations": ["Sigmoid", "Tanh", "Relu"]}, ("node 'lstm_0' (LSTM)", "activations")),
    ({"activation_alpha": [1.0]}, ("node 'lstm_0' (LSTM)", "activation_alpha")),
    ({"direction": "reverse"}, ("node 'lstm_0' (LSTM)", "direction=reverse")),
], ids=["clip", "input_forget", "activations", "activation_alpha", "reverse_alone"])
def test_onnx_attributes_the_spec_cannot_express(attrs: dict[str, Any], words: tuple[str, ...],
                                                 tmp_path: Path, capsys) -> None:
    source = _lstm_graph(tmp_path / "m.onnx", attrs)
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, "m.onnx", *words)
    assert not (tmp_path / "out").exists()


def test_onnx_initial_state_input_is_refused(tmp_path: Path, capsys) -> None:
    source = _lstm_graph(tmp_path / "m.onnx", initial_h_input=True)
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, "node 'lstm_0'", "initial_h")


def _exported_with(path: Path, change: str) -> tuple[Path, str]:
    """examples/gru_reset_after.yaml exported to ONNX, its first optional initial state (the
    ``If`` that gives zeros unless the state is fed) changed as ``change`` says; returns the
    file and the If node's name."""
    onnx = pytest.importorskip("onnx")
    from onnx import helper, numpy_helper

    import seqspec
    from seqspec.onnx.builder import to_onnx
    from seqspec.weights import random_weights

    model = seqspec.lower_file(Path(__file__).resolve().parents[2] / "examples"
                               / "gru_reset_after.yaml")
    proto = to_onnx(model, random_weights(model, 0))
    graph = proto.graph
    node = next(n for n in graph.node if n.op_type == "If")
    cond = next(n for n in graph.node if n.output[0] == node.input[0])
    rows = next(n for n in graph.node if n.output[0] == cond.input[0])
    state = rows.input[0]
    if change == "required":  # no default: the state must be fed
        default = next(t for t in graph.initializer if t.name == state)
        graph.initializer.remove(default)
    elif change == "default_has_rows":  # not fed, the If gives the input's (zero) default
        default = next(t for t in graph.initializer if t.name == state)
        rows_of = numpy_helper.to_array(default).shape[1]
        default.CopyFrom(numpy_helper.from_array(np.zeros((2, rows_of), np.float32), state))
    elif change in ("then_computes", "else_computes"):
        branch = next(a.g for a in node.attribute if a.name == change.replace("_computes",
                                                                            "_branch"))
        branch.node[0].op_type = "Neg"
    elif change == "condition_on_columns":
        rows.ClearField("attribute")
        rows.attribute.extend([helper.make_attribute("start", 1), helper.make_attribute("end", 2)])
    out = path / f"{change}.onnx"
    onnx.save(proto, str(out))
    return out, node.name


@pytest.mark.parametrize("change", ["required", "default_has_rows", "then_computes",
                                    "else_computes", "condition_on_columns"])
def test_onnx_if_other_than_the_optional_initial_state_is_refused(
        change: str, tmp_path: Path, capsys) -> None:
    source, name = _exported_with(tmp_path, change)
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, f"node '{name}' (If)",
             "not supported")
    assert not (tmp_path / "out").exists()


def test_onnx_optional_initial_state_is_read_as_zeros(tmp_path: Path, capsys) -> None:
    source, _ = _exported_with(tmp_path, "unchanged")
    assert main(["import", str(source), "-o", str(tmp_path / "out")]) == 0
    assert "self-check" in capsys.readouterr().out


def test_onnx_nonlinearity_after_the_head_is_refused(tmp_path: Path, capsys) -> None:
    source = _lstm_graph(tmp_path / "m.onnx", after_head="Tanh")
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, "node 'after_head' (Tanh)")


def test_onnx_nonlinearity_between_stack_and_head_is_refused(tmp_path: Path, capsys) -> None:
    source = _lstm_graph(tmp_path / "m.onnx", before_head="Relu")
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, "node 'before_head' (Relu)",
             "between the recurrent stack and the head")


def test_onnx_without_recurrent_nodes_nor_an_ar_chain_is_refused(tmp_path: Path, capsys) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 2])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(tmp_path / "dense.onnx"))
    _refused([str(tmp_path / "dense.onnx"), "-o", str(tmp_path / "out")], capsys,
             "no RNN, LSTM or GRU node", "not an AR model")


def test_onnx_loop_from_tf2onnx_is_refused(tmp_path: Path, capsys) -> None:
    source = Path(__file__).resolve().parent / "data" / "tf2onnx_gru_loop.onnx"
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, "(Loop)", "tf2onnx")


def test_onnx_without_errors_is_accepted(tmp_path: Path, capsys) -> None:
    """The graph the refusals start from is fine on its own (so each refusal is its attribute)."""
    pytest.importorskip("onnxruntime")
    source = _lstm_graph(tmp_path / "m.onnx")
    assert main(["import", str(source), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "m.yaml").is_file()


@pytest.mark.parametrize(("content", "name", "words"), [
    (b"\x00\x01garbage\xff" * 10, "bad.onnx", ("bad.onnx", "not an ONNX model")),
    (b"PK\x03\x04 not a zip at all", "bad.keras", ("bad.keras", "Keras cannot load it")),
    (b"\x80\x04not a pickle", "bad.pt", ("bad.pt", "not a state_dict")),
    (b"hello", "model.h5", ("model.h5", "cannot tell the source's kind")),
], ids=["onnx", "keras", "torch", "unknown_suffix"])
def test_files_that_are_not_models(content: bytes, name: str, words: tuple[str, ...],
                                   tmp_path: Path, capsys) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    if name.endswith(".keras"):
        pytest.importorskip("keras")
    if name.endswith(".pt"):
        pytest.importorskip("torch")
    _refused([str(source), "-o", str(tmp_path / "out")], capsys, *words)


def test_missing_source_and_folder_source(tmp_path: Path, capsys) -> None:
    _refused([str(tmp_path / "nope.onnx"), "-o", str(tmp_path / "out")], capsys, "no such file")
    (tmp_path / "dir.onnx").mkdir()
    _refused([str(tmp_path / "dir.onnx"), "-o", str(tmp_path / "out")], capsys,
             "not a regular file")


def test_state_dict_flags_are_refused_for_other_sources(tmp_path: Path, capsys) -> None:
    source = _lstm_graph(tmp_path / "m.onnx")
    _refused([str(source), "-o", str(tmp_path / "out"), "--pooling", "mean"], capsys,
             "--pooling", "PyTorch")


# ---------------------------------------------------------------------------- Keras


def _keras_model(*layers: Any, shape: tuple[int | None, ...] = (None, 3)) -> Any:
    keras = pytest.importorskip("keras")
    return keras.Sequential([keras.Input(shape), *layers])


@pytest.mark.parametrize(("build", "words"), [
    (lambda L: [L.LSTM(4, recurrent_activation="hard_sigmoid", name="lstm_a"), L.Dense(2)],
     ("layer 'lstm_a' (LSTM)", "recurrent_activation='hard_sigmoid'")),
    (lambda L: [L.Bidirectional(L.GRU(4, activation="relu"), name="bi"), L.Dense(2)],
     ("layer 'bi' (Bidirectional)", "activation='relu'")),
    (lambda L: [L.Conv1D(4, 2, name="conv"), L.LSTM(3), L.Dense(2)],
     ("layer 'conv' (Conv1D)",)),
    (lambda L: [L.LSTM(4), L.Dense(2, activation="relu", name="out")],
     ("layer 'out' (Dense)", "activation='relu'")),
    (lambda L: [L.SimpleRNN(4, go_backwards=True, name="back"), L.Dense(2)],
     ("layer 'back' (SimpleRNN)", "go_backwards")),
    (lambda L: [L.LSTM(4, name="l"), L.Dense(3), L.Dense(2, name="second")],
     ("layer 'second' (Dense)", "head")),
], ids=["hard_sigmoid", "relu_gru", "conv1d", "relu_head", "go_backwards", "two_dense"])
def test_keras_layers_the_spec_cannot_express(build: Any, words: tuple[str, ...],
                                              tmp_path: Path, capsys) -> None:
    keras = pytest.importorskip("keras")
    model = _keras_model(*build(keras.layers))
    model.save(str(tmp_path / "m.keras"))
    _refused([str(tmp_path / "m.keras"), "-o", str(tmp_path / "out")], capsys, "m.keras", *words)


def test_keras_functional_branches_are_refused(tmp_path: Path, capsys) -> None:
    keras = pytest.importorskip("keras")
    from keras import layers as L

    inp = keras.Input((None, 3))
    a = L.LSTM(4, name="left")(inp)
    b = L.GRU(4, name="right")(inp)
    keras.Model(inp, L.Dense(2, name="out")(L.Concatenate(name="join")([a, b]))).save(
        str(tmp_path / "branches.keras"))
    _refused([str(tmp_path / "branches.keras"), "-o", str(tmp_path / "out")], capsys,
             "branches.keras", "chain")


# ---------------------------------------------------------------------------- PyTorch


def test_torch_state_dicts_the_spec_cannot_express(tmp_path: Path, capsys) -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    lstm = nn.LSTM(3, 4, proj_size=2)
    torch.save({f"rnn.{k}": v for k, v in lstm.state_dict().items()}, tmp_path / "proj.pt")
    _refused([str(tmp_path / "proj.pt"), "-o", str(tmp_path / "out")], capsys,
             "module 'rnn'", "weight_hr_l0", "proj_size")
    state = {f"rnn.{k}": v for k, v in nn.GRU(3, 4).state_dict().items()}
    state.update({f"norm.{k}": v for k, v in nn.LayerNorm(4).state_dict().items()})
    state.update({f"fc.{k}": v for k, v in nn.Linear(4, 2).state_dict().items()})
    torch.save(state, tmp_path / "norm.pt")
    _refused([str(tmp_path / "norm.pt"), "-o", str(tmp_path / "out")], capsys,
             "module 'norm'")
    torch.save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "module.pt")  # a pickled module
    _refused([str(tmp_path / "module.pt"), "-o", str(tmp_path / "out")], capsys,
             "weights_only=True")
    torch.save({"rnn.weight_ih_l0": torch.ones(4, 3, dtype=torch.int64)}, tmp_path / "int.pt")
    _refused([str(tmp_path / "int.pt"), "-o", str(tmp_path / "out")], capsys,
             "rnn.weight_ih_l0", "dtype")
    assert not (tmp_path / "out").exists()


def test_torch_without_a_head_is_refused(tmp_path: Path, capsys) -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.save({f"rnn.{k}": v for k, v in nn.RNN(3, 4).state_dict().items()}, tmp_path / "r.pt")
    _refused([str(tmp_path / "r.pt"), "-o", str(tmp_path / "out")], capsys, "head")


# ---------------------------------------------------------------------------- the files


def _good_state_dict(path: Path) -> Path:
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    state = {f"rnn.{k}": v for k, v in nn.GRU(3, 4).state_dict().items()}
    state.update({f"fc.{k}": v for k, v in nn.Linear(4, 2).state_dict().items()})
    torch.save(state, path)
    return path


def test_existing_files_are_kept_unless_forced(tmp_path: Path, capsys) -> None:
    source = _good_state_dict(tmp_path / "g.pt")
    out = tmp_path / "out"
    out.mkdir()
    (out / "weights.npz").write_bytes(b"mine")
    _refused([str(source), "-o", str(out)], capsys, "already exist", "--force")
    assert (out / "weights.npz").read_bytes() == b"mine"
    assert not (out / "g.yaml").exists()
    assert main(["import", str(source), "-o", str(out), "--force"]) == 0
    text = capsys.readouterr().out
    assert "scheme: many_to_one" in text and "--scheme chooses" in text  # defaults are said
    assert (out / "weights.npz").read_bytes() != b"mine"


def test_a_symlink_is_never_written_through(tmp_path: Path, capsys) -> None:
    source = _good_state_dict(tmp_path / "g.pt")
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.npz"
    victim.write_bytes(b"mine")
    (out / "weights.npz").symlink_to(victim)
    _refused([str(source), "-o", str(out)], capsys, "already exist", "--force")
    assert not (out / "g.yaml").exists()
    assert main(["import", str(source), "-o", str(out), "--force"]) == 0
    assert victim.read_bytes() == b"mine"  # the link itself was replaced, not its target
    assert not (out / "weights.npz").is_symlink()
    assert (out / "weights.npz").read_bytes()[:2] == b"PK"


def test_both_files_are_checked_before_either_is_written(tmp_path: Path, capsys) -> None:
    source = _good_state_dict(tmp_path / "g.pt")
    out = tmp_path / "out"
    (out / "g.yaml").mkdir(parents=True)  # not a file even --force may replace
    _refused([str(source), "-o", str(out), "--force"], capsys, "g.yaml", "is a folder")
    assert not (out / "weights.npz").exists()


def test_a_failed_self_check_writes_nothing(tmp_path: Path) -> None:
    from seqspec.importers import read
    from seqspec.importers.common import SourceError, write

    imp = read(_good_state_dict(tmp_path / "g.pt"))
    imp.weights["encoder.layers.0.forward.bhn"] = imp.weights[
        "encoder.layers.0.forward.bhn"] + 1e-3  # a conversion mistake
    with pytest.raises(SourceError, match="self-check failed"):
        write(imp, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- IndRNN


def test_an_indrnn_source_is_refused_by_name(tmp_path: Path, capsys) -> None:
    """seqspec's own IndRNN export (a Scan per direction) and a state_dict whose weight_hh is a
    vector: the importer reads neither, and says that it is IndRNN it cannot read."""
    pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    spec = Path(__file__).resolve().parents[2] / "examples" / "indrnn_classifier.yaml"
    exported = tmp_path / "indrnn.onnx"
    assert main(["export", str(spec), "--format", "onnx", "-o", str(exported)]) == 0
    _refused([str(exported), "-o", str(tmp_path / "out")], capsys, "indrnn.onnx", "(Scan)",
             "IndRNN")
    state = {"rnn.weight_ih_l0": torch.ones(4, 3), "rnn.weight_hh_l0": torch.ones(4)}
    torch.save(state, tmp_path / "sd.pt")
    _refused([str(tmp_path / "sd.pt"), "-o", str(tmp_path / "out")], capsys, "sd.pt",
             "weight_hh_l0 is a vector", "IndRNN")
    assert not (tmp_path / "out").exists()
