"""Source models for the importer tests, built in each framework (or, for graph patterns that
torch.onnx does not emit, with onnx.helper in the shapes tf2onnx emits them). Each builder saves
its source into a folder and returns the path and the import options it needs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

Builder = Callable[[Path], tuple[Path, dict[str, Any]]]


# ---------------------------------------------------------------------------- ONNX by torch


def _torch_onnx(module: Any, example: Any, path: Path, dynamic: dict[str, dict[int, str]],
                names: tuple[list[str], list[str]]) -> Path:
    import torch

    module.eval()
    torch.onnx.export(module, (example,), str(path), dynamo=False, opset_version=17,
                      input_names=names[0], output_names=names[1], dynamic_axes=dynamic)
    return path


def onnx_torch_bilstm_tokens(folder: Path) -> tuple[Path, dict[str, Any]]:
    """torch.onnx: Embedding + 2-layer bidirectional LSTM (batch_first) + Linear per step."""
    import torch
    from torch import nn

    torch.manual_seed(1)

    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(30, 6)
            self.rnn = nn.LSTM(6, 8, num_layers=2, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(16, 5)

        def forward(self, x: Any) -> Any:
            return self.fc(self.rnn(self.emb(x))[0])

    ex = torch.zeros(2, 4, dtype=torch.long)
    return _torch_onnx(Tagger(), ex, folder / "bilstm_tokens.onnx",
                       {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}, (["x"], ["y"])), {}


def onnx_torch_gru_time_major(folder: Path) -> tuple[Path, dict[str, Any]]:
    """torch.onnx: a time-major GRU (batch_first=False) classified from h_n, softmax output."""
    import torch
    from torch import nn

    torch.manual_seed(2)

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(4, 7)
            self.fc = nn.Linear(7, 3)

        def forward(self, x: Any) -> Any:
            return torch.softmax(self.fc(self.rnn(x)[1][-1]), dim=-1)

    ex = torch.zeros(5, 2, 4)
    return _torch_onnx(Classifier(), ex, folder / "gru_time_major.onnx",
                       {"x": {0: "t", 1: "b"}, "y": {0: "b"}}, (["x"], ["y"])), {}


def onnx_torch_rnn_relu(folder: Path) -> tuple[Path, dict[str, Any]]:
    """torch.onnx: a 2-layer ReLU nn.RNN over features, a regression value per step."""
    import torch
    from torch import nn

    torch.manual_seed(3)

    class Series(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.RNN(3, 6, num_layers=2, nonlinearity="relu", batch_first=True)
            self.fc = nn.Linear(6, 1)

        def forward(self, x: Any) -> Any:
            return self.fc(self.rnn(x)[0])

    ex = torch.zeros(2, 4, 3)
    return _torch_onnx(Series(), ex, folder / "rnn_relu.onnx",
                       {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}, (["x"], ["y"])), {}


def onnx_torch_fixed_shape(folder: Path) -> tuple[Path, dict[str, Any]]:
    """torch.onnx without dynamic axes: the graph takes batch 2 and 4 steps only."""
    import torch
    from torch import nn

    torch.manual_seed(4)

    class Fixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(3, 5, batch_first=True)
            self.fc = nn.Linear(5, 2)

        def forward(self, x: Any) -> Any:
            return self.fc(self.rnn(x)[0])

    return _torch_onnx(Fixed(), torch.zeros(2, 4, 3), folder / "fixed_shape.onnx", {},
                       (["x"], ["y"])), {}


# ---------------------------------------------------------------------------- ONNX by hand


def _rng_weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)


def _save(graph: Any, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="hand")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def onnx_hand_peephole_lstm(folder: Path) -> tuple[Path, dict[str, Any]]:
    """A peephole LSTM with sequence_lens from a lengths input, per-step Gemm-free head."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(4)
    i, h, o = 3, 5, 4
    inits = [numpy_helper.from_array(a, n) for a, n in (
        (_rng_weights(rng, 1, 4 * h, i), "W"), (_rng_weights(rng, 1, 4 * h, h), "R"),
        (_rng_weights(rng, 1, 8 * h), "B"), (_rng_weights(rng, 1, 3 * h), "P"),
        (_rng_weights(rng, h, o), "head_w"), (_rng_weights(rng, o), "head_b"),
        (np.array([1], dtype=np.int64), "axis1"))]
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
        helper.make_node("Cast", ["lengths"], ["lens32"], to=TensorProto.INT32),
        helper.make_node("LSTM", ["xt", "W", "R", "B", "lens32", "", "", "P"], ["Y", "Yh", "Yc"],
                         name="lstm_peep", hidden_size=h),
        helper.make_node("Squeeze", ["Y", "axis1"], ["y"]),
        helper.make_node("MatMul", ["y", "head_w"], ["logits"]),
        helper.make_node("Add", ["logits", "head_b"], ["biased"]),
        helper.make_node("Transpose", ["biased"], ["out"], perm=[1, 0, 2]),
    ]
    graph = helper.make_graph(nodes, "peephole", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", i]),
        helper.make_tensor_value_info("lengths", TensorProto.INT64, ["b"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["t", "b", o])], inits)
    # the output is time-major (t, b, o) here: the importer reads the layout from the data path
    return _save(graph, folder / "peephole_lstm.onnx"), {}


def onnx_hand_gru_pair(folder: Path) -> tuple[Path, dict[str, Any]]:
    """Two GRU nodes, forward and reverse (linear_before_reset=0), concatenated, as two halves
    of one bidirectional layer; then a reset-after GRU; Y_h read by a Gemm head."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    i, h, h2, o = 4, 3, 5, 2
    arrays = {
        "Wf": _rng_weights(rng, 1, 3 * h, i), "Rf": _rng_weights(rng, 1, 3 * h, h),
        "Bf": _rng_weights(rng, 1, 6 * h), "Wb": _rng_weights(rng, 1, 3 * h, i),
        "Rb": _rng_weights(rng, 1, 3 * h, h), "Bb": _rng_weights(rng, 1, 6 * h),
        "W2": _rng_weights(rng, 1, 3 * h2, 2 * h), "R2": _rng_weights(rng, 1, 3 * h2, h2),
        "B2": _rng_weights(rng, 1, 6 * h2), "head_w": _rng_weights(rng, o, h2),
        "head_b": _rng_weights(rng, o), "axis1": np.array([1], dtype=np.int64),
        "axis0": np.array([0], dtype=np.int64)}
    inits = [numpy_helper.from_array(a, n) for n, a in arrays.items()]
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
        helper.make_node("GRU", ["xt", "Wf", "Rf", "Bf"], ["Yf", "Yhf"], name="gru_fw",
                         hidden_size=h, linear_before_reset=0),
        helper.make_node("GRU", ["xt", "Wb", "Rb", "Bb"], ["Yb", "Yhb"], name="gru_bw",
                         hidden_size=h, linear_before_reset=0, direction="reverse"),
        helper.make_node("Squeeze", ["Yf", "axis1"], ["yf"]),
        helper.make_node("Squeeze", ["Yb", "axis1"], ["yb"]),
        helper.make_node("Concat", ["yf", "yb"], ["y"], axis=-1),
        helper.make_node("GRU", ["y", "W2", "R2", "B2"], ["Y2", "Yh2"], name="gru_top",
                         hidden_size=h2, linear_before_reset=1),
        helper.make_node("Squeeze", ["Yh2", "axis0"], ["last"]),
        helper.make_node("Gemm", ["last", "head_w", "head_b"], ["out"], transB=1),
    ]
    graph = helper.make_graph(nodes, "gru_pair", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", i])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", o])], inits)
    return _save(graph, folder / "gru_pair.onnx"), {}


def onnx_hand_reversed_input(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The backward half as a forward RNN node over the ReverseSequence'd input (outputs
    reversed back), summed with the forward half; tokens through OneHot; variable lengths."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(6)
    v, h, o = 9, 4, 3
    arrays = {
        "Wf": _rng_weights(rng, 1, h, v), "Rf": _rng_weights(rng, 1, h, h),
        "Bf": _rng_weights(rng, 1, 2 * h), "Wb": _rng_weights(rng, 1, h, v),
        "Rb": _rng_weights(rng, 1, h, h), "Bb": _rng_weights(rng, 1, 2 * h),
        "head_w": _rng_weights(rng, h, o), "depth": np.array([v], dtype=np.int64),
        "onoff": np.array([0.0, 1.0], dtype=np.float32), "axis1": np.array([1], dtype=np.int64)}
    inits = [numpy_helper.from_array(a, n) for n, a in arrays.items()]
    nodes = [
        helper.make_node("Transpose", ["x"], ["ids"], perm=[1, 0]),
        helper.make_node("OneHot", ["ids", "depth", "onoff"], ["xt"], axis=-1),
        helper.make_node("Cast", ["lengths"], ["lens32"], to=TensorProto.INT32),
        helper.make_node("ReverseSequence", ["xt", "lengths"], ["xr"], batch_axis=1,
                         time_axis=0),
        helper.make_node("RNN", ["xt", "Wf", "Rf", "Bf", "lens32"], ["Yf", "Yhf"], name="fw",
                         hidden_size=h),
        helper.make_node("RNN", ["xr", "Wb", "Rb", "Bb", "lens32"], ["Yb", "Yhb"], name="bw",
                         hidden_size=h),
        helper.make_node("Squeeze", ["Yf", "axis1"], ["yf"]),
        helper.make_node("Squeeze", ["Yb", "axis1"], ["ybr"]),
        helper.make_node("ReverseSequence", ["ybr", "lengths"], ["yb"], batch_axis=1,
                         time_axis=0),
        helper.make_node("Add", ["yf", "yb"], ["y"]),
        helper.make_node("MatMul", ["y", "head_w"], ["logits"]),
        helper.make_node("Transpose", ["logits"], ["out"], perm=[1, 0, 2]),
    ]
    graph = helper.make_graph(nodes, "reversed_input", [
        helper.make_tensor_value_info("x", TensorProto.INT64, ["b", "t"]),
        helper.make_tensor_value_info("lengths", TensorProto.INT64, ["b"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", "t", o])], inits)
    return _save(graph, folder / "reversed_input.onnx"), {}


# ---------------------------------------------------------------------------- ONNX by tf2onnx

DATA = Path(__file__).resolve().parent / "data"  # made by data/make_tf2onnx.py


def onnx_tf2onnx_bilstm_tokens(folder: Path) -> tuple[Path, dict[str, Any]]:
    """tf2onnx 1.17 of Keras Embedding + Bidirectional(LSTM) + Dense: one bidirectional LSTM
    node, the head as MatMul, Reshape, Add."""
    return DATA / "tf2onnx_bilstm_tokens.onnx", {}


def onnx_tf2onnx_lstm_mean_softmax(folder: Path) -> tuple[Path, dict[str, Any]]:
    """tf2onnx 1.17 of Keras LSTM + GlobalAveragePooling1D + Dense(softmax)."""
    return DATA / "tf2onnx_lstm_mean_softmax.onnx", {}


# ---------------------------------------------------------------------------- Keras


def _keras_save(model: Any, path: Path) -> tuple[Path, dict[str, Any]]:
    model.save(str(path))
    return path, {}


def keras_tokens_bilstm_ave(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(10)
    return _keras_save(keras.Sequential([
        L.Input((None,), dtype="int32"), L.Embedding(20, 5, mask_zero=True),
        L.Bidirectional(L.LSTM(6, return_sequences=True), merge_mode="ave"),
        L.GRU(7, reset_after=False), L.Dense(3, activation="softmax")]),
        folder / "tokens_bilstm_ave.keras")


def keras_masked_bigru_mul(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(11)
    return _keras_save(keras.Sequential([
        L.Input((None, 4)), L.Masking(0.0),
        L.Bidirectional(L.GRU(6, return_sequences=True), merge_mode="mul"),
        L.Bidirectional(L.SimpleRNN(5, return_sequences=True, activation="relu"),
                        merge_mode="sum"),
        L.Dense(2)]), folder / "masked_bigru_mul.keras")


def keras_functional_mean(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(12)
    inp = keras.Input((None, 3))
    h = L.LSTM(8, return_sequences=True)(inp)
    out = L.Dense(1)(L.GlobalAveragePooling1D()(h))
    return _keras_save(keras.Model(inp, out), folder / "functional_mean.keras")


def keras_bilstm_concat_last(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(13)
    return _keras_save(keras.Sequential([
        L.Input((None, 3)), L.Bidirectional(L.LSTM(5), merge_mode="concat"), L.Dense(4)]),
        folder / "bilstm_concat_last.keras")


def keras_gru_stack_max(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(14)
    return _keras_save(keras.Sequential([
        L.Input((None, 2)), L.GRU(6, return_sequences=True, reset_after=True),
        L.Dropout(0.3), L.GRU(4, return_sequences=True), L.GlobalMaxPooling1D(),
        L.Dense(3)]), folder / "gru_stack_max.keras")


def keras_tokens_masked_mean_no_bias(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(16)
    return _keras_save(keras.Sequential([
        L.Input((None,), dtype="int32"), L.Embedding(12, 4, mask_zero=True),
        L.LSTM(5, use_bias=False, return_sequences=True), L.GlobalAveragePooling1D(),
        L.Dense(3, use_bias=False)]), folder / "tokens_masked_mean_no_bias.keras")


def keras_float64_elman(folder: Path) -> tuple[Path, dict[str, Any]]:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(15)
    return _keras_save(keras.Sequential([
        L.Input((None, 3), dtype="float64"),
        L.SimpleRNN(5, activation="sigmoid", return_sequences=True, dtype="float64"),
        L.TimeDistributed(L.Dense(2, dtype="float64"), dtype="float64")]),
        folder / "float64_elman.keras")


# ---------------------------------------------------------------------------- PyTorch


def _state_dict(modules: dict[str, Any], path: Path, dtype: Any = None) -> Path:
    import torch

    state = {}
    for prefix, module in modules.items():
        if dtype is not None:
            module = module.to(dtype)
        state.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
    torch.save(state, str(path))
    return path


def torch_bilstm_last(folder: Path) -> tuple[Path, dict[str, Any]]:
    import torch
    from torch import nn

    torch.manual_seed(20)
    return _state_dict({"embedding": nn.Embedding(25, 6),
                        "lstm": nn.LSTM(6, 5, num_layers=2, bidirectional=True),
                        "classifier": nn.Linear(10, 4)}, folder / "bilstm_last.pt"), {}


def torch_gru_mean_packed(folder: Path) -> tuple[Path, dict[str, Any]]:
    import torch
    from torch import nn

    torch.manual_seed(21)
    return _state_dict({"gru": nn.GRU(3, 6, bidirectional=True), "out": nn.Linear(12, 1)},
                       folder / "gru_mean.pth"), {"pooling": "mean", "variable_length": True}


def torch_rnn_relu_max(folder: Path) -> tuple[Path, dict[str, Any]]:
    import torch
    from torch import nn

    torch.manual_seed(22)
    return _state_dict({"rnn": nn.RNN(4, 7, num_layers=3, nonlinearity="relu", bias=False),
                        "fc": nn.Linear(7, 2)}, folder / "rnn_relu_max.pt"), {
        "activation": "relu", "pooling": "max"}


def torch_lstm_language_model(folder: Path) -> tuple[Path, dict[str, Any]]:
    import torch
    from torch import nn

    torch.manual_seed(23)
    return _state_dict({"embed": nn.Embedding(17, 4), "lstm": nn.LSTM(4, 6),
                        "decoder": nn.Linear(6, 17)}, folder / "lstm_lm.pt"), {
        "variable_length": True}


def torch_two_modules(folder: Path) -> tuple[Path, dict[str, Any]]:
    """Two recurrent modules stacked (a bidirectional GRU, then an LSTM), tokens, per step."""
    import torch
    from torch import nn

    torch.manual_seed(25)
    return _state_dict({"emb": nn.Embedding(11, 3), "lower": nn.GRU(3, 4, bidirectional=True),
                        "upper": nn.LSTM(8, 5, num_layers=2), "proj": nn.Linear(5, 6)},
                       folder / "two_modules.pt"), {"scheme": "many_to_many"}


def torch_gru_float64(folder: Path) -> tuple[Path, dict[str, Any]]:
    import torch
    from torch import nn

    torch.manual_seed(24)
    return _state_dict({"gru": nn.GRU(3, 5, num_layers=2, batch_first=True),
                        "head": nn.Linear(5, 2)}, folder / "gru_float64.pt",
                       dtype=torch.float64), {"scheme": "many_to_many", "variable_length": True}


ONNX_CASES: dict[str, Builder] = {
    "onnx_torch_bilstm_tokens": onnx_torch_bilstm_tokens,
    "onnx_torch_gru_time_major": onnx_torch_gru_time_major,
    "onnx_torch_rnn_relu": onnx_torch_rnn_relu,
    "onnx_torch_fixed_shape": onnx_torch_fixed_shape,
    "onnx_tf2onnx_bilstm_tokens": onnx_tf2onnx_bilstm_tokens,
    "onnx_tf2onnx_lstm_mean_softmax": onnx_tf2onnx_lstm_mean_softmax,
    "onnx_hand_peephole_lstm": onnx_hand_peephole_lstm,
    "onnx_hand_gru_pair": onnx_hand_gru_pair,
    "onnx_hand_reversed_input": onnx_hand_reversed_input,
}
KERAS_CASES: dict[str, Builder] = {
    "keras_tokens_bilstm_ave": keras_tokens_bilstm_ave,
    "keras_masked_bigru_mul": keras_masked_bigru_mul,
    "keras_functional_mean": keras_functional_mean,
    "keras_bilstm_concat_last": keras_bilstm_concat_last,
    "keras_gru_stack_max": keras_gru_stack_max,
    "keras_tokens_masked_mean_no_bias": keras_tokens_masked_mean_no_bias,
    "keras_float64_elman": keras_float64_elman,
}
TORCH_CASES: dict[str, Builder] = {
    "torch_bilstm_last": torch_bilstm_last,
    "torch_gru_mean_packed": torch_gru_mean_packed,
    "torch_rnn_relu_max": torch_rnn_relu_max,
    "torch_lstm_language_model": torch_lstm_language_model,
    "torch_two_modules": torch_two_modules,
    "torch_gru_float64": torch_gru_float64,
}
CASES: dict[str, Builder] = {**ONNX_CASES, **KERAS_CASES, **TORCH_CASES}
NEEDS = {"onnx": ("onnx", "onnxruntime", "torch"), "keras": ("keras",), "torch": ("torch",)}



#: What each import must read: scheme [pooling] | layers (cell, :merge for bidirectional) |
#: the precision the source runs in.
EXPECTED = {
    "onnx_torch_bilstm_tokens": "many_to_many | lstm:concat lstm:concat | float32",
    "onnx_torch_gru_time_major": "many_to_one last | gru/reset_after | float32",
    "onnx_torch_rnn_relu": "many_to_many | elman/relu elman/relu | float32",
    "onnx_torch_fixed_shape": "many_to_many | lstm | float32",
    "onnx_tf2onnx_bilstm_tokens": "many_to_many | lstm:concat | float32",
    "onnx_tf2onnx_lstm_mean_softmax": "many_to_one mean | lstm | float32",
    "onnx_hand_peephole_lstm": "many_to_many | lstm/peepholes | float32",
    "onnx_hand_gru_pair": "many_to_one last | gru/reset_before:concat gru/reset_after | float32",
    "onnx_hand_reversed_input": "many_to_many | elman/tanh:sum | float32",
    "keras_tokens_bilstm_ave": "many_to_one last | lstm:ave gru/reset_before | float32",
    "keras_masked_bigru_mul": "many_to_many | gru/reset_after:mul elman/relu:sum | float32",
    "keras_functional_mean": "many_to_one mean | lstm | float32",
    "keras_bilstm_concat_last": "many_to_one last | lstm:concat | float32",
    "keras_gru_stack_max": "many_to_one max | gru/reset_after gru/reset_after | float32",
    "keras_tokens_masked_mean_no_bias": "many_to_one mean | lstm | float32",
    "keras_float64_elman": "many_to_many | elman/sigmoid | float64",
    "torch_bilstm_last": "many_to_one last | lstm:concat lstm:concat | float32",
    "torch_gru_mean_packed": "many_to_one mean | gru/reset_after:concat | float32",
    "torch_rnn_relu_max": "many_to_one max | elman/relu elman/relu elman/relu | float32",
    "torch_lstm_language_model": "many_to_many | lstm | float32",
    "torch_two_modules": "many_to_many | gru/reset_after:concat lstm lstm | float32",
    "torch_gru_float64": "many_to_many | gru/reset_after gru/reset_after | float64",
}


def summary(model: dict[str, Any], dtype: str) -> str:
    """A model section in the notation of EXPECTED."""
    scheme = " ".join(filter(None, [model["scheme"], model.get("pooling")]))
    layers = []
    for layer in model["layers"]:
        text = layer["cell"]
        detail = layer.get("activation") or layer.get("variant") or (
            "peepholes" if layer.get("peepholes") else None)
        text += f"/{detail}" if detail else ""
        text += f":{layer['merge_mode']}" if layer.get("bidirectional") else ""
        layers.append(text)
    return f"{scheme} | {' '.join(layers)} | {dtype}"
