"""Import a Keras 3 ``.keras`` model: a chain of Embedding / Masking, recurrent layers, a head.

Layers read (in a ``Sequential`` model or a functional model that is one chain): ``Embedding``
(``mask_zero``: variable lengths, token 0 pads), ``Masking`` (variable lengths, padded steps hold
``mask_value``), ``SimpleRNN`` / ``LSTM`` / ``GRU`` (``reset_after`` true: the spec's
``reset_after``, false: ``reset_before``), ``Bidirectional`` (merge modes concat, sum, ave, mul),
``GlobalAveragePooling1D`` / ``GlobalMaxPooling1D`` (pooling mean / max), ``Dense`` or
``TimeDistributed(Dense)`` as the head (linear, or softmax: the spec returns the logits), and
``Dropout`` (inactive at inference). Layouts (docs/weights.md): kernels are transposed
``(in, G*H)``, LSTM blocks i, f, c, o, GRU z, r, h, and a reset-after GRU's bias is ``(2, 3H)``
(input and recurrent halves). The file is loaded with ``safe_mode=True`` (no Python lambdas).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from seqspec.importers.common import (
    Imported,
    SourceError,
    check_source_file,
    direction_weights,
    identifier,
    split_gates,
)

KERAS_GATES = {"SimpleRNN": ("h",), "LSTM": ("i", "f", "g", "o"), "GRU": ("z", "r", "n")}
CELLS = {"SimpleRNN": "elman", "LSTM": "lstm", "GRU": "gru"}
INACTIVE = {"Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
            "ActivityRegularization"}


def _where(layer: Any) -> str:
    return f"layer '{layer.name}' ({type(layer).__name__})"


def _load(path: str) -> Any:
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise SourceError(f"Keras cannot load it ({type(exc).__name__}"
                          f"{': ' + detail if detail else ''})") from None


def _chain(model: Any) -> list[Any]:
    """The model's layers in order, checking that a functional model is one chain."""
    import keras

    if isinstance(model, keras.Sequential):
        return list(model.layers)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SourceError(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} "
                          "outputs; the importer reads one of each")
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    previous = None
    for layer in layers:
        nodes = getattr(layer, "_inbound_nodes", [])
        if len(nodes) != 1:
            raise SourceError(f"{_where(layer)} is called {len(nodes)} times; the importer reads "
                              "a chain of layers")
        parents = [n.operation for n in nodes[0].parent_nodes]
        names = [type(p).__name__ for p in parents]
        ok = (parents == [previous]) if previous is not None else names in ([], ["InputLayer"])
        if not ok:
            raise SourceError(f"{_where(layer)} does not read the layer before it: the importer "
                              "reads a chain of layers (Sequential or a simple functional model)")
        previous = layer
    return layers


def _rnn_config(layer: Any, where: str) -> dict[str, Any]:
    kind = type(layer).__name__
    cfg = layer.get_config()
    if cfg.get("stateful"):
        raise SourceError(f"{where}: stateful=True (state carried between batches) is not in "
                          "the spec language")
    if cfg.get("return_state"):
        raise SourceError(f"{where}: return_state=True: the importer reads models whose output "
                          "is one tensor")
    act = cfg.get("activation")
    if kind == "SimpleRNN":
        if act not in ("tanh", "relu", "sigmoid"):
            raise SourceError(f"{where}: activation={act!r}: the spec's Elman cell has tanh, "
                              "relu or sigmoid")
    else:
        if act != "tanh":
            raise SourceError(f"{where}: activation={act!r}: the spec's {kind} uses tanh")
        if cfg.get("recurrent_activation") != "sigmoid":
            raise SourceError(f"{where}: recurrent_activation="
                              f"{cfg.get('recurrent_activation')!r}: the spec's {kind} gates use "
                              "sigmoid")
    return cfg


def _cell_weights(layer: Any, prefix: str, where: str) -> dict[str, np.ndarray]:
    kind = type(layer).__name__
    cfg = layer.get_config()
    gates = KERAS_GATES[kind]
    values = [np.asarray(v, dtype=np.float64) for v in layer.get_weights()]
    expected = 3 if cfg.get("use_bias", True) else 2
    if len(values) != expected:
        raise SourceError(f"{where}: {len(values)} weight arrays, expected {expected}")
    kernel, recurrent = values[0], values[1]
    wx = split_gates(kernel.T, gates)  # Keras stores (in, G*H): transposed
    wh = split_gates(recurrent.T, gates)
    bias, bhn = None, None
    if expected == 3:
        b = values[2]
        if kind == "GRU" and cfg.get("reset_after", True):
            bi, bh = split_gates(b[0], gates), split_gates(b[1], gates)  # (2, 3H): input, recurrent
            bias = {g: bi[g] + bh[g] for g in gates}
            bias["n"], bhn = bi["n"], bh["n"]  # the recurrent candidate bias is inside r * (...)
        else:
            bias = split_gates(b, gates)
            if kind == "GRU":
                bhn = np.zeros_like(bias["n"])  # reset-before Keras GRU: one bias per gate
    return direction_weights(prefix, gates, wx, wh, bias, bhn)


def _spec_layer(layer: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    kind = type(layer).__name__
    out: dict[str, Any] = {"cell": CELLS[kind], "hidden_size": int(cfg["units"])}
    if kind == "SimpleRNN":
        out["activation"] = cfg["activation"]
    if kind == "GRU":
        out["variant"] = "reset_after" if cfg.get("reset_after", True) else "reset_before"
    if not cfg.get("use_bias", True):
        out["bias"] = False
    return out


def read(path: str, name: str | None = None, head_kind: str | None = None) -> Imported:
    """Read a ``.keras`` file into an :class:`Imported` (see the module docstring)."""
    source = check_source_file(path)
    model = _load(str(source))
    layers = _chain(model)
    notes: list[str] = []
    spec_input: dict[str, Any] | None = None
    weights: dict[str, np.ndarray] = {}
    spec_layers: list[dict[str, Any]] = []
    sources: list[str] = []
    pad_token = pad_value = None
    returns_sequences = True
    pooling: str | None = None
    head = None
    softmax = False
    dtype = "float32"
    for layer in layers:
        kind, where = type(layer).__name__, _where(layer)
        if head is not None:
            if kind in ("Softmax", "Activation") and not softmax and (
                    kind == "Softmax" or layer.get_config().get("activation") == "softmax"):
                softmax = True
                continue
            if kind in INACTIVE:
                continue
            raise SourceError(f"{where} after the head {_where(head)}: the spec's head is the "
                              "model's last layer")
        if kind == "InputLayer" or kind in INACTIVE:
            if kind in INACTIVE:
                notes.append(f"{where} ignored: it is inactive at inference")
            continue
        if kind == "Embedding":
            if spec_input is not None or spec_layers:
                raise SourceError(f"{where}: an embedding must come first")
            table = np.asarray(layer.get_weights()[0], dtype=np.float64)
            spec_input = {"kind": "tokens", "vocab_size": int(table.shape[0]),
                          "encoding": "embedding", "embedding_dim": int(table.shape[1])}
            weights["encoder.embedding"] = table
            if layer.get_config().get("mask_zero"):
                spec_input["variable_length"] = True
                pad_token = 0
                notes.append(f"{where}: mask_zero=True: variable lengths, token 0 pads (the spec "
                             "takes lengths instead of a padding token)")
            continue
        if kind == "Masking":
            if spec_layers:
                raise SourceError(f"{where}: masking between recurrent layers is not in the "
                                  "spec language")
            pad_value = float(layer.get_config().get("mask_value", 0.0))
            notes.append(f"{where}: mask_value={pad_value}: variable lengths (the spec takes "
                         "lengths instead of a padding value)")
            continue
        if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
            cfg = layer.get_config()
            if not spec_layers or not returns_sequences or pooling is not None:
                raise SourceError(f"{where}: pooling must follow a recurrent layer that returns "
                                  "sequences")
            if cfg.get("data_format", "channels_last") != "channels_last" or cfg.get("keepdims"):
                raise SourceError(f"{where}: data_format/keepdims other than "
                                  "channels_last/False are not supported")
            if kind == "GlobalMaxPooling1D" and (pad_token is not None or pad_value is not None):
                raise SourceError(f"{where}: Keras's GlobalMaxPooling1D ignores the mask (it "
                                  "pools the padded steps too), which the spec's max pooling "
                                  "over valid steps does not reproduce")
            pooling = "mean" if kind == "GlobalAveragePooling1D" else "max"
            continue
        if kind in ("Dense", "TimeDistributed"):
            dense = layer.layer if kind == "TimeDistributed" else layer
            if type(dense).__name__ != "Dense":
                raise SourceError(f"{where}: wraps a {type(dense).__name__}, not a Dense")
            if not spec_layers:
                raise SourceError(f"{where}: a Dense layer before the recurrent stack is not in "
                                  "the spec language")
            act = dense.get_config().get("activation")
            if act == "softmax":
                softmax = True
            elif act != "linear":
                raise SourceError(f"{where}: activation={act!r}: the spec's head is linear "
                                  "(or softmax, which the spec leaves to the loss)")
            values = [np.asarray(v, dtype=np.float64) for v in dense.get_weights()]
            weights["head.W"] = values[0].T  # Keras stores (in, out)
            if len(values) > 1:
                weights["head.b"] = values[1]
            head = layer
            continue
        rnn, bidirectional, merge = layer, False, None
        if kind == "Bidirectional":
            rnn, bidirectional = layer.forward_layer, True
            merge = layer.get_config().get("merge_mode")
            if merge not in ("concat", "sum", "ave", "mul"):
                raise SourceError(f"{where}: merge_mode={merge!r}: the spec merges with concat, "
                                  "sum, ave or mul")
            back = layer.backward_layer
            if (type(back).__name__ != type(rnn).__name__
                    or back.get_config().get("units") != rnn.get_config().get("units")):
                raise SourceError(f"{where}: its backward layer is not a copy of the forward "
                                  "layer's kind and size")
        rkind = type(rnn).__name__
        if rkind not in CELLS:
            raise SourceError(f"{where}: not a layer the importer reads (Embedding, Masking, "
                              "SimpleRNN, LSTM, GRU, Bidirectional, global pooling, Dense)")
        if pooling is not None:
            raise SourceError(f"{where}: a recurrent layer after pooling")
        if not returns_sequences:
            raise SourceError(f"{where}: the layer before it returns only its last output "
                              "(return_sequences=False)")
        cfg = _rnn_config(rnn, where)
        if bidirectional:
            bcfg = _rnn_config(layer.backward_layer, where)
            if {k: v for k, v in bcfg.items() if k not in ("name", "go_backwards")} != {
                    k: v for k, v in cfg.items() if k not in ("name", "go_backwards")}:
                raise SourceError(f"{where}: the backward layer's settings differ from the "
                                  "forward layer's")
        elif cfg.get("go_backwards"):
            raise SourceError(f"{where}: go_backwards=True outside Bidirectional: the spec has "
                              "no backward-only layer")
        if cfg.get("dropout") or cfg.get("recurrent_dropout"):
            notes.append(f"{where}: dropout / recurrent_dropout ignored (training only)")
        if not spec_layers:
            kernel = rnn.get_weights()[0]
            if spec_input is None:
                spec_input = {"kind": "features", "size": int(kernel.shape[0])}
                if pad_value is not None:
                    spec_input["variable_length"] = True
            if rnn.get_weights()[0].dtype == np.float64:
                dtype = "float64"
        k = len(spec_layers)
        entry = _spec_layer(rnn, cfg)
        if bidirectional:
            entry.update(bidirectional=True, merge_mode=merge)
        spec_layers.append(entry)
        sources.append(where)
        weights.update(_cell_weights(rnn, f"encoder.layers.{k}.forward", where))
        if bidirectional:
            weights.update(_cell_weights(layer.backward_layer, f"encoder.layers.{k}.backward",
                                         where))
        returns_sequences = bool(cfg.get("return_sequences"))
    if head is None:
        raise SourceError("no Dense head after the recurrent layers")
    assert spec_input is not None
    if returns_sequences and pooling is None:
        scheme = "many_to_many"
    else:
        scheme, pooling = "many_to_one", pooling or "last"
    out_size = int(weights["head.W"].shape[0])
    if softmax and out_size == 1:
        raise SourceError(f"{_where(head)}: a softmax over 1 output is always 1; the spec "
                          "language has no 1-class softmax head")
    kind = head_kind or ("regression" if out_size == 1 and not softmax else "softmax")
    if head_kind is None and not softmax:
        notes.append(f"head kind {kind} (--head softmax|regression chooses)")
    if softmax:
        notes.append("the model applies a softmax; the spec's model returns the logits "
                     "(softmax is in the loss)")
    spec_head: dict[str, Any] = {"kind": kind,
                                 ("classes" if kind == "softmax" else "outputs"): out_size}
    if "head.b" not in weights:
        spec_head["bias"] = False
    spec_model: dict[str, Any] = {"scheme": scheme, "input": spec_input, "layers": spec_layers}
    if scheme == "many_to_one":
        spec_model["pooling"] = pooling
    spec_model["head"] = spec_head
    imp = Imported(identifier(name or source.stem), spec_model, weights,
                   _runner(model, dtype), f"Keras file {source.name}", dtype, sources,
                   _where(head), notes, softmax, pad_token, pad_value)
    return imp


def _runner(model: Any, dtype: str) -> Any:
    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        x = np.asarray(inputs["x"])
        x = x.astype(np.int32) if x.dtype.kind in "iu" else x.astype(dtype)
        return np.asarray(model(x, training=False))

    return run
