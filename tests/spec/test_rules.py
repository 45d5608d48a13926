"""Semantic rules of lowering, type strictness, YAML details and "did you mean" hints."""

from __future__ import annotations

from pathlib import Path

import pytest

import seqspec
from seqspec import ir, loader

ROOT = Path(__file__).resolve().parents[2]
LSTM = {"cell": "lstm", "hidden_size": 4}


def _ar(**extra):
    spec = {"seqspec": 1, "name": "ar", "model": {"scheme": "ar_linear", "order": 3}}
    spec.update(extra)
    return spec


def _captioner(decoder_input, head, **model):
    return {"seqspec": 1, "name": "cap", "model": {
        "scheme": "one_to_many", "input": {"kind": "vector", "size": 5},
        "decoder": {"input": decoder_input, "layers": [LSTM]}, "head": head, **model}}


# --------------------------------------------------------------------------- rules that fire


def test_padding_needs_variable_length(problems, sequence_model, lower_dict) -> None:
    inp = {"kind": "features", "size": 3, "padding": "left"}
    assert problems(sequence_model([LSTM], inp=inp)) == [
        ("model.input.padding",
         "padding applies to variable-length input; add variable_length: true")]
    lower_dict(sequence_model([LSTM], inp={**inp, "variable_length": True}))


def test_forget_bias_and_init_bias_need_biases(problems, sequence_model, lower_dict) -> None:
    layer = {**LSTM, "bias": False, "forget_bias": 0.5, "init": {"bias": "uniform"}}
    assert [p for p, _ in problems(sequence_model([layer]))] == [
        "model.layers[0].forget_bias", "model.layers[0].init.bias"]
    lower_dict(sequence_model([{**LSTM, "bias": False}]))  # defaults are fine without biases


def test_merge_mode_needs_bidirectional(problems, sequence_model, lower_dict) -> None:
    assert problems(sequence_model([{**LSTM, "merge_mode": "sum"}])) == [
        ("model.layers[0].merge_mode", "merge_mode needs bidirectional: true")]
    lower_dict(sequence_model([{**LSTM, "merge_mode": "sum", "bidirectional": True}]))


def test_softmax_needs_two_classes(problems, sequence_model) -> None:
    assert problems(sequence_model([LSTM], head={"kind": "softmax", "classes": 1})) == [
        ("model.head.classes",
         "a softmax over 1 class is always 1; use at least 2 classes, or a regression head")]


def test_a_keyword_is_a_fine_name(lower_dict) -> None:
    """The name reaches generated code only as a string literal, so any identifier will do."""
    assert lower_dict(_ar(name="lambda")).name == "lambda"


def test_tbptt_needs_recurrence(problems) -> None:
    assert [p for p, _ in problems(_ar(training={"tbptt": 5}))] == ["training.tbptt"]


def test_lstsq_needs_a_linear_model(problems, sequence_model, lower_dict) -> None:
    exact = {"optimizer": "lstsq"}
    assert lower_dict(_ar(training=exact)).training.optimizer == "lstsq"
    mlp = _ar(training=exact)
    mlp["model"] = {"scheme": "ar_mlp", "order": 3, "hidden": [4]}
    assert problems(mlp) == [
        ("training.optimizer", "lstsq solves a linear least-squares problem exactly: only the "
         "ar_linear scheme is linear in its weights, and this model is ar_mlp; use sgd, "
         "momentum, adam or adamw")]
    assert [p for p, _ in problems({**sequence_model([LSTM]), "training": exact})] == [
        "training.optimizer"]


def test_data_rules(problems, lower_dict) -> None:
    csv = {"source": "s.csv", "format": "csv", "column": "x"}
    lower_dict(_ar(data={**csv, "window": 3}))
    assert problems(_ar(data={**csv, "window": 4})) == [
        ("data.window", "window (4) must equal the model's order (3): the model reads windows "
         "of that many values")]
    assert [p for p, _ in problems(_ar(data={"source": "a.npz", "format": "npz", "column": "x",
                                             "level": "word"}))] == ["data.column", "data.level"]
    assert problems(_ar(data={**csv, "split": {"validation": 0.6, "test": 0.4}})) == [
        ("data.split", "validation + test (0.6 + 0.4) leaves no data for training; keep the sum "
         "below 1")]


def test_csv_columns_rules(problems, sequence_model, lower_dict) -> None:
    columns = {"features": ["a", "b", "c"], "sequence": "id", "label": "y"}
    data = {"source": "t.csv", "format": "csv", "columns": columns}
    classifier = sequence_model([LSTM], scheme="many_to_one", head={"kind": "softmax",
                                                                     "classes": 3})
    model = lower_dict({**classifier, "data": data})
    assert model.data.columns == ir.Columns(("a", "b", "c"), "id", None, ("y",), ())
    assert problems({**classifier, "data": {**data, "columns": {**columns, "label": ["y", "z"]}}}
                    ) == [("data.columns.label", "2 label columns for a head of class id; name 1")]
    assert problems({**classifier, "data": {**data, "format": "npz"}}) == [
        ("data.columns", "columns name the columns of a CSV, and the format is npz")]
    assert problems({**classifier, "data": {**data, "column": "a"}}) == [
        ("data.columns", "column names one time series and columns a CSV of sequences; give one "
         "of them")]
    tagger = sequence_model([LSTM], head={"kind": "regression", "outputs": 2})
    assert problems({**tagger, "data": data}) == [
        ("data.columns.label", "label columns give one value per sequence, and many_to_many "
         "needs target columns"),
        ("data.columns", "many_to_many needs target: the column(s) of what the model predicts")]
    lower_dict({**tagger, "data": {**data, "columns": {**columns, "label": None,
                                                         "target": ["y", "z"]}}})
    # a one-column series is what forecasters read; a classifier is refused where validate looks
    assert [p for p, _ in problems({**classifier, "data": {"source": "s.csv", "format": "csv",
                                                           "column": "v"}})] == ["data.column"]


def test_copy_bridge_rules(problems) -> None:
    spec = {"seqspec": 1, "name": "s2s", "model": {
        "scheme": "seq2seq",
        "encoder": {"input": {"kind": "features", "size": 3}, "layers": [LSTM]},
        "bridge": {"kind": "copy", "activation": "relu"},
        "decoder": {"input": {"kind": "features", "size": 1}, "layers": [LSTM]},
        "head": {"kind": "regression"}, "start_token": 1}}
    assert problems(spec) == [
        ("model.bridge.activation",
         "a copy bridge has no activation; it is only used with kind: dense"),
        ("model.start_token",
         "start_token is a token id, and this decoder reads features, not tokens"),
    ]


def test_decoder_rules(problems) -> None:
    spec = _captioner({"kind": "tokens", "vocab_size": 9, "encoding": "one_hot"},
                      {"kind": "softmax", "classes": 8}, end_token=9)
    assert problems(spec) == [
        ("model.decoder.input.vocab_size", "the decoder's vocab_size (9) must equal the head's "
         "classes (8): generated tokens are fed back"),
        ("model.end_token", "end_token 9 is not below the decoder's vocab_size 9"),
    ]
    spec = _captioner({"kind": "features", "size": 2}, {"kind": "regression", "outputs": 3})
    assert problems(spec) == [
        ("model.decoder.input", "a decoder with a regression head feeds its outputs back: its "
         "input must be features of size 3")]


def test_every_semantic_problem_is_reported_at_once(problems, sequence_model) -> None:
    spec = sequence_model([{**LSTM, "merge_mode": "ave"}, {**LSTM, "bias": False,
                                                           "forget_bias": 2.0}],
                          head={"kind": "softmax", "classes": 1})
    spec["training"] = {"loss": "mse"}
    assert [p for p, _ in problems(spec)] == [
        "model.layers[0].merge_mode", "model.layers[1].forget_bias", "model.head.classes",
        "training.loss"]


# --------------------------------------------------------------------------- types and YAML


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('hidden_size: "4"', "must be an integer (got '4')"),
        ("hidden_size: 4.0", "must be an integer (got 4.0)"),
        ("hidden_size: true", "must be an integer (got true)"),
        ("hidden_size: null", "must be an integer (got null)"),
        ("hidden_size: 4, bias: 'yes'", "must be true or false (got 'yes')"),
        ("hidden_size: 4, forget_bias: .inf", "must be a finite number (got inf)"),
        ("hidden_size: [4]", "must be an integer (got a list of 1)"),
    ],
)
def test_types_are_strict(problems, line: str, message: str) -> None:
    text = ("seqspec: 1\nname: m\nmodel:\n  scheme: many_to_many\n"
            "  input: {kind: features, size: 3}\n"
            f"  layers:\n    - {{cell: lstm, {line}}}\n  head: {{kind: regression}}\n")
    assert [m for _, m in problems(text)] == [message]


def test_exponent_floats_are_numbers_as_in_yaml_1_2() -> None:
    doc = loader.parse("a: 1e-3\nb: 2E+2\nc: -1.5e3\nd: '1e-3'\ne: 1e\nf: e5\n")
    assert doc.data == {"a": 0.001, "b": 200.0, "c": -1500.0, "d": "1e-3", "e": "1e", "f": "e5"}


def test_learning_rate_in_exponent_form(lower_dict) -> None:
    model = lower_dict(_ar(training={"learning_rate": 0.002}))
    assert model.training.learning_rate == 0.002
    path = ROOT / "examples" / "ar_linear.yaml"
    text = path.read_text().replace("learning_rate: 0.01", "learning_rate: 1e-2")
    assert "1e-2" in text
    doc = loader.parse(text)
    assert doc.data["training"]["learning_rate"] == 0.01


def test_version_true_is_not_1(problems) -> None:
    assert problems("seqspec: true\nname: m\nmodel: {scheme: ar_linear, order: 2}\n") == [
        ("seqspec", "the spec language version must be the integer 1 (got true)")]


# --------------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    ("fragment", "path", "message"),
    [
        ("{cell: lstm, hiden_size: 4}", "model.layers[0].hiden_size",
         "unknown key 'hiden_size'; did you mean 'hidden_size'?"),
        ("{cell: lstm, hidden_size: 4, peephole: true}", "model.layers[0].peephole",
         "unknown key 'peephole'; did you mean 'peepholes'?"),
        ("{cell: lstm, units: 4}", "model.layers[0].units",
         "unknown key 'units'; did you mean 'hidden_size'?"),
        ("{cell: gru, hidden_size: 4, varient: reset_before}", "model.layers[0].varient",
         "unknown key 'varient'; did you mean 'variant'?"),
        ("{cell: gru, hidden_size: 4, variant: resetafter}", "model.layers[0].variant",
         "'resetafter' is not allowed; did you mean 'reset_after'? "
         "(expected one of: reset_after, reset_before)"),
        ("{cell: GRU, hidden_size: 4}", "model.layers[0].cell",
         "unknown cell 'GRU'; did you mean 'gru'? (expected one of: elman, jordan, lstm, gru, "
         "indrnn); the rest is checked as that"),
        ("{hidden_size: 4}", "model.layers[0].cell", "missing required key 'cell'"),
        # a key of another cell is not suggested here: 'variant' belongs to GRU, not LSTM
        ("{cell: lstm, hidden_size: 4, variant: x}", "model.layers[0].variant",
         "unknown key 'variant' (allowed here: cell, hidden_size, bias, bidirectional, "
         "merge_mode, init, peepholes, forget_bias)"),
    ],
)
def test_hints(problems, fragment: str, path: str, message: str) -> None:
    text = ("seqspec: 1\nname: m\nmodel:\n  scheme: many_to_many\n"
            f"  input: {{kind: features, size: 3}}\n  layers:\n    - {fragment}\n"
            "  head: {kind: regression}\n")
    assert problems(text) == [(path, message)]


def test_hint_for_a_training_key(problems) -> None:
    assert problems(_ar(training={"lr": 0.1, "epoch": 3})) == [
        ("training.lr", "unknown key 'lr'; did you mean 'learning_rate'?"),
        ("training.epoch", "unknown key 'epoch'; did you mean 'epochs'?"),
    ]


def test_load_returns_the_spec_and_examples_are_valid() -> None:
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        spec = seqspec.load(path)
        assert spec.name == path.stem


def test_text_data_needs_a_language_model(problems, sequence_model, lower_dict) -> None:
    tokens = {"kind": "tokens", "vocab_size": 20, "encoding": "one_hot"}
    spec = sequence_model([LSTM], inp=tokens, head={"kind": "softmax", "classes": 20})
    spec["data"] = {"source": "corpus.txt", "format": "text"}
    lower_dict(spec)
    spec["model"]["head"]["classes"] = 19
    assert problems(spec) == [
        ("data.format", "text data trains a language model: many_to_many over tokens with a "
         "softmax head whose classes equal the vocab_size")]


def test_copy_bridge_compares_jordan_outputs(problems) -> None:
    def jordan(out):
        return {"cell": "jordan", "hidden_size": 4, "output_size": out}

    spec = {"seqspec": 1, "name": "s2s", "model": {
        "scheme": "seq2seq",
        "encoder": {"input": {"kind": "features", "size": 3}, "layers": [jordan(2)]},
        "bridge": {"kind": "copy"},
        "decoder": {"input": {"kind": "features", "size": 1}, "layers": [jordan(3)]},
        "head": {"kind": "regression"}}}
    assert problems(spec) == [
        ("model.decoder.layers[0]", "a copy bridge needs matching layers: encoder layer 0 is "
         "jordan(4, output 2), decoder layer 0 is jordan(4, output 3)")]
