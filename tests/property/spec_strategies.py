"""Hypothesis strategies: random VALID specs (as dicts) across every cell, topology, input, head
and scheme, with small sizes, and mutations that make them invalid.

Valid means: accepted by the spec language AND by lowering (the cross-field rules of
seqspec/lower.py: dropout needs two layers, merge_mode needs bidirectional, a decoder's input
matches its head, a copy bridge needs matching unidirectional layers, ...).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

MAX_H = 6
ACTIVATIONS = ["tanh", "relu", "sigmoid"]
OUTPUT_ACTIVATIONS = [*ACTIVATIONS, "linear"]
MERGE_MODES = ["concat", "sum", "ave", "mul"]
SIZE = st.integers(1, MAX_H)
Spec = dict[str, Any]


@st.composite
def cells(draw: st.DrawFn, bidirectional: bool = True, kind: str | None = None,
          hidden: int | None = None, output_size: int | None = None) -> dict[str, Any]:
    """One recurrent layer; ``kind``/``hidden``/``output_size`` pin it (copy bridges)."""
    cell = kind or draw(st.sampled_from(["elman", "jordan", "lstm", "gru"]))
    out: dict[str, Any] = {"cell": cell, "hidden_size": hidden or draw(SIZE)}
    if draw(st.booleans()):
        out["bias"] = draw(st.booleans())
    if bidirectional and draw(st.booleans()):
        out["bidirectional"] = True
        if draw(st.booleans()):
            out["merge_mode"] = draw(st.sampled_from(MERGE_MODES))
    if cell in ("elman", "jordan") and draw(st.booleans()):
        out["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if cell == "jordan":
        out["output_size"] = output_size or draw(SIZE)
        if draw(st.booleans()):
            out["output_activation"] = draw(st.sampled_from(OUTPUT_ACTIVATIONS))
        if draw(st.booleans()):
            out["context_decay"] = draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]))
    has_bias = out.get("bias", True)
    if cell == "lstm":
        if draw(st.booleans()):
            out["peepholes"] = True
        if has_bias and draw(st.booleans()):
            out["forget_bias"] = draw(st.sampled_from([0.0, 1.0, -0.5]))
    if cell == "gru" and draw(st.booleans()):
        out["variant"] = draw(st.sampled_from(["reset_after", "reset_before"]))
    if draw(st.integers(0, 4)) == 0:
        out["init"] = {"input": draw(st.sampled_from(["uniform", "glorot_uniform", "normal"])),
                       "recurrent": draw(st.sampled_from(["orthogonal", "uniform"])),
                       "scale": draw(st.sampled_from([0.5, 1.0, 2.0]))}
        if has_bias:  # init.bias with bias: false is refused
            out["init"]["bias"] = draw(st.sampled_from(["zeros", "uniform"]))
    return out


@st.composite
def sequence_inputs(draw: st.DrawFn, kind: str | None = None, vocab: int | None = None,
                    size: int | None = None) -> dict[str, Any]:
    """tokens (embedding or one-hot) or features; optionally variable length, either padding."""
    kind = kind or draw(st.sampled_from(["tokens", "features"]))
    if kind == "tokens":
        out: dict[str, Any] = {"kind": "tokens", "vocab_size": vocab or draw(st.integers(2, 8))}
        if draw(st.booleans()):
            out["encoding"] = "one_hot"
        else:
            out["embedding_dim"] = draw(st.integers(1, 4))
    else:
        out = {"kind": "features", "size": size or draw(st.integers(1, 4))}
    if draw(st.booleans()):
        out["variable_length"] = True
        if draw(st.booleans()):
            out["padding"] = draw(st.sampled_from(["right", "left"]))
    return out


@st.composite
def heads(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        out: dict[str, Any] = {"kind": "softmax", "classes": draw(st.integers(2, 5))}
    else:
        out = {"kind": "regression", "outputs": draw(st.integers(1, 3))}
    if draw(st.integers(0, 3)) == 0:
        out["bias"] = False
    return out


@st.composite
def stacks(draw: st.DrawFn, inp: dict[str, Any] | None = None,
           bidirectional: bool = True, layers: list[dict[str, Any]] | None = None
           ) -> dict[str, Any]:
    out: dict[str, Any] = {"input": inp or draw(sequence_inputs())}
    out["layers"] = layers or draw(st.lists(cells(bidirectional), min_size=1, max_size=3))
    if len(out["layers"]) > 1 and draw(st.booleans()):
        out["dropout"] = draw(st.sampled_from([0.1, 0.5]))
    return out


def _decoder_input(head: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A decoder feeds its outputs back: tokens of the head's classes, or features of its width."""
    if head["kind"] == "softmax":
        return sequence_inputs("tokens", vocab=head["classes"])
    return sequence_inputs("features", size=head["outputs"])


@st.composite
def models(draw: st.DrawFn, scheme: str | None = None) -> dict[str, Any]:
    """The ``model:`` section of a valid spec, for ``scheme`` or any."""
    scheme = scheme or draw(st.sampled_from(
        ["many_to_many", "many_to_one", "one_to_many", "seq2seq", "ar_linear", "ar_mlp"]))
    if scheme == "ar_linear":
        out: dict[str, Any] = {"scheme": scheme, "order": draw(st.integers(1, 5))}
        if draw(st.booleans()):
            out["bias"] = draw(st.booleans())
        return out
    if scheme == "ar_mlp":
        return {"scheme": scheme, "order": draw(st.integers(1, 5)),
                "hidden": draw(st.lists(SIZE, min_size=1, max_size=3)),
                "activation": draw(st.sampled_from(ACTIVATIONS))}
    head = draw(heads())
    if scheme in ("many_to_many", "many_to_one"):
        out = {"scheme": scheme, **draw(stacks()), "head": head}
        if scheme == "many_to_one" and draw(st.booleans()):
            out["pooling"] = draw(st.sampled_from(["last", "mean", "max"]))
        return out
    out = {"scheme": scheme, "head": head}
    if scheme == "one_to_many":
        out["input"] = {"kind": "vector", "size": draw(st.integers(1, 5))}
        out["decoder"] = draw(stacks(draw(_decoder_input(head)), bidirectional=False))
        out["bridge"] = {"kind": "dense",
                         "activation": draw(st.sampled_from(OUTPUT_ACTIVATIONS))}
        return out
    copy_bridge = draw(st.booleans())
    if copy_bridge:
        enc_layers = draw(st.lists(cells(bidirectional=False), min_size=1, max_size=2))
        dec_layers = [
            draw(cells(False, kind=c["cell"], hidden=c["hidden_size"],
                       output_size=c.get("output_size")))
            for c in enc_layers
        ]
        out["encoder"] = draw(stacks(layers=enc_layers))
        out["decoder"] = draw(stacks(draw(_decoder_input(head)), layers=dec_layers))
        out["bridge"] = {"kind": "copy"}
    else:
        out["encoder"] = draw(stacks())
        out["decoder"] = draw(stacks(draw(_decoder_input(head)), bidirectional=False))
        out["bridge"] = {"kind": "dense",
                         "activation": draw(st.sampled_from(OUTPUT_ACTIVATIONS))}
    if head["kind"] == "softmax" and draw(st.booleans()):
        out["start_token"] = draw(st.integers(0, head["classes"] - 1))
    return out


@st.composite
def specs(draw: st.DrawFn, scheme: str | None = None) -> Spec:
    """A whole valid spec document (a dict to dump as YAML)."""
    out: Spec = {"seqspec": 1, "name": draw(st.from_regex(r"[a-z][a-z0-9_]{0,12}",
                                                         fullmatch=True)),
                 "model": draw(models(scheme))}
    if draw(st.booleans()):
        out["description"] = draw(st.text(st.characters(codec="utf-8", exclude_categories=(
            "Cc", "Cs")), max_size=40))
    if draw(st.integers(0, 3)) == 0:
        out["training"] = {"optimizer": draw(st.sampled_from(["sgd", "momentum", "adam",
                                                              "adamw"])),
                           "epochs": draw(st.integers(1, 3)),
                           "weight_decay": draw(st.sampled_from([0.0, 0.01]))}
    return out


# ---------------------------------------------------------------------------- mutations


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a spec dict (mappings and lists), the root included."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*path, i)))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(node: Any, path: tuple, value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value


SIZE_KEYS = ("hidden_size", "vocab_size", "size", "classes", "embedding_dim", "output_size",
             "order", "outputs")
RANGE_KEYS = {"dropout": [1.0, -0.1, 2], "context_decay": [1.0, -0.5], "forget_bias": [1e9],
              "scale": [0, -1.0, 1000.0], "learning_rate": [0, -1.0, 100.0],
              "epochs": [0, -5], "start_token": [-1]}
REQUIRED = ("seqspec", "name", "model", "scheme", "cell", "hidden_size", "kind", "layers",
            "head", "order", "hidden", "output_size", "vocab_size", "size", "classes")


@st.composite
def invalid_documents(draw: st.DrawFn) -> tuple[str, str]:
    """(how it was broken, YAML text) for a spec that must be refused."""
    import yaml

    spec = draw(specs())
    how = draw(st.sampled_from(["wrong_type", "out_of_range", "unknown_key", "missing_key",
                                "broken_yaml", "bad_enum"]))
    doc = copy.deepcopy(spec)
    paths = [p for p in _paths(doc) if p]
    if how == "wrong_type":
        path = draw(st.sampled_from(paths))
        value = _get(doc, path)
        if isinstance(value, dict | list):
            _set(doc, path, draw(st.sampled_from(["oops", 7, 2.5])))
        else:
            _set(doc, path, draw(st.sampled_from([{"bogus": 1}, [1, 2], ["x"]])))
    elif how == "out_of_range":
        hits = [p for p in paths if isinstance(p[-1], str)
                and (p[-1] in SIZE_KEYS or p[-1] in RANGE_KEYS)]
        if not hits:
            how, doc = "unknown_key", _unknown_key(draw, doc)
        else:
            path = draw(st.sampled_from(hits))
            bad = RANGE_KEYS.get(path[-1], [0, -3, 10**7])
            _set(doc, path, draw(st.sampled_from(bad)))
    elif how == "unknown_key":
        doc = _unknown_key(draw, doc)
    elif how == "missing_key":
        hits = [p for p in paths if isinstance(p[-1], str) and p[-1] in REQUIRED
                and p[-2:-1] != ("bridge",)]  # a bridge's kind has a default
        path = draw(st.sampled_from(hits))
        del _get(doc, path[:-1])[path[-1]]
    elif how == "bad_enum":
        hits = [p for p in paths if isinstance(p[-1], str) and p[-1] in (
            "cell", "scheme", "kind", "activation", "merge_mode", "padding", "variant",
            "pooling", "encoding")]
        path = draw(st.sampled_from(hits))
        _set(doc, path, draw(st.sampled_from(["lstmm", "Tanh", "", "none"])))
    if how == "broken_yaml":
        doc.pop("description", None)  # a multi-line quoted scalar would swallow the breakage
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if how == "broken_yaml":
        lines = text.splitlines()
        i = draw(st.integers(0, len(lines) - 1))
        breakage = draw(st.sampled_from(["{", "- [", "\tkey: 1", ": :", "key: !!python/object "
                                         "x", "*undefined_alias", "'unterminated"]))
        lines.insert(i, breakage)
        text = "\n".join(lines) + "\n"
    return how, text


def _unknown_key(draw: st.DrawFn, doc: Spec) -> Spec:
    maps = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)]
    path = draw(st.sampled_from(maps))
    key = draw(st.sampled_from(["hiden_size", "bogus", "Hidden_Size", "layer", "__class__"]))
    node = _get(doc, path)
    if key not in node:
        node[key] = 1
    else:  # pragma: no cover - the keys above are not spec keys
        node["bogus_key"] = 1
    return doc
