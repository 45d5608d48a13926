"""Import a PyTorch ``state_dict`` of ``nn.Embedding``, ``nn.RNN``/``LSTM``/``GRU``, ``nn.Linear``.

A state_dict holds tensors, not the module's code, so the architecture is read from the
tensor names and shapes: a module with ``weight_ih_l<k>[_reverse]`` is a recurrent module (its
cell from the number of gate blocks: 1 RNN, 3 GRU, 4 LSTM; its layers from ``<k>``; bidirectional
from ``_reverse``), a 2-D ``weight`` without bias that the first recurrent module reads is an
embedding, and the module that reads the last recurrent module's output is the head. What the
shapes cannot tell (``nn.RNN``'s nonlinearity, one output per step or per sequence, the
pooling, packed variable-length batches) comes from options with defaults that the import says.
The file is read with ``torch.load(weights_only=True)``: nothing in it is executed.

Gate blocks in PyTorch: LSTM i, f, g, o; GRU **r, z, n**; two bias vectors per gate, of which
only the sum matters except the GRU candidate's, where ``bias_hh_n`` is ``bhn``
(docs/weights.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqspec import cells
from seqspec.importers.common import (
    Imported,
    SourceError,
    check_source_file,
    direction_weights,
    identifier,
    split_gates,
)

#: Canonical gate names in the order of PyTorch's stacked blocks.
TORCH_GATES = {"elman": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
CELLS = {1: "elman", 3: "gru", 4: "lstm"}
MODULES = {"elman": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}
_RECURRENT_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")


@dataclass
class _Recurrent:
    name: str
    cell: str
    hidden: int
    input_size: int
    num_layers: int
    bidirectional: bool
    bias: bool
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def out_size(self) -> int:
        return self.hidden * (2 if self.bidirectional else 1)


def _load(path: str) -> dict[str, np.ndarray]:
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise SourceError(f"not a state_dict that torch.load(weights_only=True) reads "
                          f"({type(exc).__name__}{': ' + detail if detail else ''})") from None
    if isinstance(data, Mapping) and len(data) == 1:
        (only,) = data.values()
        if isinstance(only, Mapping):  # {"state_dict": {...}} or {"model": {...}}
            data = only
    if not isinstance(data, Mapping) or not data:
        raise SourceError(f"holds a {type(data).__name__}, not a state_dict (a dict of tensors)")
    out = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise SourceError(f"entry {key!r} is a {type(value).__name__}, not a tensor")
        if not value.dtype.is_floating_point:
            raise SourceError(f"tensor '{key}' has dtype {value.dtype}, not a float")
        out[key] = value.detach().to(torch.float64 if value.dtype == torch.float64
                                     else torch.float32).numpy().copy()
    return out


def _modules(tensors: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    modules: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        prefix, _, leaf = key.rpartition(".")
        modules.setdefault(prefix, {})[leaf] = value
    return modules


def _recurrent(name: str, params: Mapping[str, np.ndarray]) -> _Recurrent:
    label = f"module '{name or '<root>'}'"
    layers: set[int] = set()
    reverse = False
    for leaf in params:
        m = _RECURRENT_KEY.match(leaf)
        if m is None:
            raise SourceError(f"{label}: tensor '{leaf}' is not one of nn.RNN/nn.LSTM/nn.GRU's")
        if m.group(1) == "weight_hr":
            raise SourceError(f"{label}: tensor '{leaf}': LSTM projections (proj_size) are not in "
                              "the spec language")
        layers.add(int(m.group(2)))
        reverse = reverse or bool(m.group(3))
    num_layers = max(layers) + 1
    hh = params.get("weight_hh_l0")
    ih = params.get("weight_ih_l0")
    if hh is not None and hh.ndim == 1:  # an elementwise recurrent weight, as IndRNN has
        raise SourceError(f"{label}: weight_hh_l0 is a vector (IndRNN's u_h?): the importer reads "
                          "nn.RNN, nn.LSTM and nn.GRU; write an indrnn spec and load the weights")
    if hh is None or ih is None or hh.ndim != 2 or ih.ndim != 2:
        raise SourceError(f"{label}: weight_ih_l0 and weight_hh_l0 (matrices) are required")
    hidden = hh.shape[1]
    gates = ih.shape[0] // hidden if hidden else 0
    cell = CELLS.get(gates)
    if cell is None or ih.shape[0] != gates * hidden:
        raise SourceError(f"{label}: weight_ih_l0 has {ih.shape[0]} rows for hidden size "
                          f"{hidden}: not 1, 3 or 4 gate blocks (RNN, GRU, LSTM)")
    bias = "bias_ih_l0" in params
    dirs = ("", "_reverse") if reverse else ("",)
    for k in range(num_layers):
        size = ih.shape[1] if k == 0 else hidden * len(dirs)
        for d in dirs:
            expected = {f"weight_ih_l{k}{d}": (gates * hidden, size),
                        f"weight_hh_l{k}{d}": (gates * hidden, hidden)}
            if bias:
                expected[f"bias_ih_l{k}{d}"] = (gates * hidden,)
                expected[f"bias_hh_l{k}{d}"] = (gates * hidden,)
            for leaf, shape in expected.items():
                if leaf not in params:
                    raise SourceError(f"{label}: tensor '{leaf}' is missing")
                if params[leaf].shape != shape:
                    raise SourceError(f"{label}: tensor '{leaf}' has shape "
                                      f"{tuple(params[leaf].shape)}, expected {shape}")
    expected_count = num_layers * len(dirs) * (4 if bias else 2)
    if len(params) != expected_count:
        raise SourceError(f"{label}: {len(params)} tensors where {MODULES[cell]} with these "
                          f"sizes has {expected_count}")
    return _Recurrent(name, cell, hidden, ih.shape[1], num_layers, reverse, bias, dict(params))


def read(path: str, name: str | None = None, head: str | None = None,
         scheme: str | None = None, pooling: str | None = None, activation: str | None = None,
         variable_length: bool | None = None) -> Imported:
    """Read a state_dict file into an :class:`Imported` (see the module docstring)."""
    source = check_source_file(path)
    tensors = _load(str(source))
    modules = _modules(tensors)
    recurrent = [_recurrent(n, p) for n, p in modules.items()
                 if any(_RECURRENT_KEY.match(leaf) for leaf in p)]
    if not recurrent:
        raise SourceError("no nn.RNN, nn.LSTM or nn.GRU tensors (weight_ih_l0, ...) in the "
                          "state_dict")
    for below, above in itertools.pairwise(recurrent):
        if above.input_size != below.out_size:
            raise SourceError(f"module '{above.name}' reads {above.input_size} values per step, "
                              f"module '{below.name}' gives {below.out_size}: not one stack")
    others = {n: p for n, p in modules.items() if n not in {r.name for r in recurrent}}
    for n, p in others.items():
        leaves = set(p)
        if leaves not in ({"weight"}, {"weight", "bias"}) or p["weight"].ndim != 2:
            extra = sorted(leaves - {"weight", "bias"}) or ["weight"]
            raise SourceError(f"module '{n}': tensor '{extra[0]}' is not an nn.Embedding's or "
                              "nn.Linear's (the importer reads Embedding, RNN/LSTM/GRU, Linear)")
    d_top, i_first = recurrent[-1].out_size, recurrent[0].input_size
    heads = [n for n, p in others.items() if p["weight"].shape[1] == d_top]
    if not heads:
        raise SourceError(f"no nn.Linear reads the top recurrent output ({d_top} values): the "
                          "spec needs a head")
    head_name = heads[-1]
    rest = [n for n in others if n != head_name]
    embedding_name = None
    if rest:
        if len(rest) > 1:
            raise SourceError(f"module '{rest[1]}': more than one module besides the recurrent "
                              "ones and the head (the importer reads one embedding)")
        table = others[rest[0]]
        if "bias" in table or table["weight"].shape[1] != i_first:
            raise SourceError(f"module '{rest[0]}': neither an embedding the first recurrent "
                              f"module reads ({i_first} wide) nor the head")
        embedding_name = rest[0]
    notes: list[str] = []

    def chosen(value: Any, default: Any, flag: str, what: str) -> Any:
        if value is None:
            notes.append(f"{what}: {default} (the state_dict does not say; {flag} chooses)")
            return default
        return value

    head_p = others[head_name]
    out_size = head_p["weight"].shape[0]
    vocab = tensors[f"{embedding_name}.weight"].shape[0] if embedding_name else None
    scheme = chosen(scheme, "many_to_many" if vocab is not None and vocab == out_size
                    else "many_to_one", "--scheme", "scheme")
    if scheme == "many_to_one":
        pooling = chosen(pooling, "last", "--pooling", "pooling")
    elif pooling is not None:
        raise SourceError("--pooling applies to --scheme many_to_one only")
    if any(r.cell == "elman" for r in recurrent):
        activation = chosen(activation, "tanh", "--activation", "nn.RNN nonlinearity")
    elif activation is not None:
        raise SourceError("--activation applies to nn.RNN modules only")
    variable_length = bool(variable_length)
    kind = head or ("regression" if out_size == 1 else "softmax")
    if head is None:
        notes.append(f"head kind {kind} (--head softmax|regression chooses)")
    # ---- the spec
    spec_input: dict[str, Any]
    weights: dict[str, np.ndarray] = {}
    if embedding_name is not None:
        table = tensors[f"{embedding_name}.weight"]
        spec_input = {"kind": "tokens", "vocab_size": int(table.shape[0]),
                      "encoding": "embedding", "embedding_dim": int(table.shape[1])}
        weights["encoder.embedding"] = table
    else:
        spec_input = {"kind": "features", "size": int(i_first)}
    if variable_length:
        spec_input["variable_length"] = True
    layers, sources = [], []
    k = 0
    for rec in recurrent:
        for j in range(rec.num_layers):
            layer: dict[str, Any] = {"cell": rec.cell, "hidden_size": int(rec.hidden)}
            if rec.cell == "elman":
                layer["activation"] = activation
            if rec.cell == "gru":
                layer["variant"] = "reset_after"
            if not rec.bias:
                layer["bias"] = False
            if rec.bidirectional:
                layer.update(bidirectional=True, merge_mode="concat")
            layers.append(layer)
            sources.append(f"{MODULES[rec.cell]} '{rec.name}' layer {j}")
            weights.update(_layer_weights(rec, j, k))
            k += 1
    spec_head: dict[str, Any] = {"kind": kind,
                                 ("classes" if kind == "softmax" else "outputs"): int(out_size)}
    if "bias" not in head_p:
        spec_head["bias"] = False
    weights["head.W"] = head_p["weight"]
    if "bias" in head_p:
        weights["head.b"] = head_p["bias"]
    model: dict[str, Any] = {"scheme": scheme, "input": spec_input, "layers": layers}
    if scheme == "many_to_one":
        model["pooling"] = pooling
    model["head"] = spec_head
    dtype = "float64" if all(v.dtype == np.float64 for v in tensors.values()) else "float32"
    run = _runner(tensors, recurrent, embedding_name, head_name, scheme, pooling, activation,
                  variable_length, dtype)
    return Imported(identifier(name or source.stem), model, weights, run,
                    f"PyTorch state_dict {source.name}", dtype, sources,
                    f"nn.Linear '{head_name}'", notes)


def _layer_weights(rec: _Recurrent, j: int, k: int) -> dict[str, np.ndarray]:
    gates = TORCH_GATES[rec.cell]
    out: dict[str, np.ndarray] = {}
    suffixes = (("forward", ""), ("backward", "_reverse")) if rec.bidirectional else (
        ("forward", ""),)
    for direction, sfx in suffixes:
        t = rec.tensors
        wx = split_gates(t[f"weight_ih_l{j}{sfx}"], gates)
        wh = split_gates(t[f"weight_hh_l{j}{sfx}"], gates)
        bias, bhn = None, None
        if rec.bias:
            bi = split_gates(t[f"bias_ih_l{j}{sfx}"], gates)
            bh = split_gates(t[f"bias_hh_l{j}{sfx}"], gates)
            bias = {g: bi[g] + bh[g] for g in gates}  # only the sum matters
            if rec.cell == "gru":  # bias_hh_n sits inside r * (...): it is bhn
                bias["n"], bhn = bi["n"], bh["n"]
        canonical = cells.get(rec.cell).GATES  # torch's GRU blocks are r, z, n; the spec's z, r, n
        out.update(direction_weights(f"encoder.layers.{k}.{direction}", canonical, wx, wh,
                                     bias, bhn))
    return out


def _runner(tensors: Mapping[str, np.ndarray], recurrent: list[_Recurrent],
            embedding_name: str | None, head_name: str, scheme: str, pooling: str | None,
            activation: str | None, variable_length: bool, dtype: str) -> Any:
    """The source rebuilt from PyTorch's own modules, loaded with the state_dict's tensors."""
    import torch
    from torch import nn

    torch_dtype = torch.float64 if dtype == "float64" else torch.float32

    def load(module: nn.Module, prefix: str) -> nn.Module:
        state = {k[len(prefix) + 1 if prefix else 0:]: torch.from_numpy(np.asarray(v))
                 for k, v in tensors.items()
                 if (k.startswith(prefix + ".") if prefix else "." not in k)}
        module.load_state_dict(state, strict=True)
        return module.to(torch_dtype).eval()

    kinds = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    rnns = []
    for rec in recurrent:
        kwargs: dict[str, Any] = {"num_layers": rec.num_layers, "bias": rec.bias,
                                  "batch_first": True, "bidirectional": rec.bidirectional}
        if rec.cell == "elman":
            kwargs["nonlinearity"] = activation
        rnns.append(load(kinds[rec.cell](rec.input_size, rec.hidden, **kwargs), rec.name))
    w = tensors[f"{head_name}.weight"]
    linear = load(nn.Linear(w.shape[1], w.shape[0], bias=f"{head_name}.bias" in tensors),
                  head_name)
    embedding = None
    if embedding_name is not None:
        table = tensors[f"{embedding_name}.weight"]
        embedding = load(nn.Embedding(*table.shape), embedding_name)

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        with torch.no_grad():
            x = torch.from_numpy(np.asarray(inputs["x"]))
            x = embedding(x.long()) if embedding is not None else x.to(torch_dtype)
            steps = x.shape[1]
            lengths = torch.from_numpy(np.asarray(inputs["lengths"])) if variable_length else None
            seq: Any = x
            if lengths is not None:
                seq = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                           enforce_sorted=False)
            h_n = None
            for rnn in rnns:
                seq, h_n = rnn(seq)
            out = (pad_packed_sequence(seq, batch_first=True, total_length=steps)[0]
                   if lengths is not None else seq)
            if scheme == "many_to_many":
                return linear(out).numpy()
            if pooling == "last":
                h = h_n[0] if isinstance(h_n, tuple) else h_n
                top = h[-2:] if rnns[-1].bidirectional else h[-1:]
                pooled = torch.cat(list(top), dim=-1)
            elif pooling == "mean":
                n = (lengths if lengths is not None else torch.full((out.shape[0],), steps))
                pooled = out.sum(dim=1) / n.to(out.dtype).unsqueeze(1)
            else:
                if lengths is not None:
                    valid = torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)
                    out = out.masked_fill(~valid.unsqueeze(-1), float("-inf"))
                pooled = out.max(dim=1).values
            return linear(pooled).numpy()

    return run
