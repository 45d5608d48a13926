"""Parameter counts, computed by hand from the equations in docs/spec.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import seqspec
from seqspec.lower import parameter_count_by_layer

ROOT = Path(__file__).resolve().parents[2]
I, H = 3, 4  # input features and hidden units of the small cells below  # noqa: E741


def test_elman_lm_has_the_lectures_1_610_000_weights() -> None:
    model = seqspec.lower_file(ROOT / "examples" / "elman_lm.yaml")
    c, h = 8000, 100
    assert model.parameter_count == 2 * h * c + h * h == 1_610_000
    assert dict(parameter_count_by_layer(model)) == {
        "encoder.layers.0": h * c + h * h,  # U (H x C) and W (H x H), no bias
        "head": c * h,  # V (C x H), no bias
    }


@pytest.mark.parametrize(
    ("cell", "layer_count"),
    [
        ({"cell": "lstm", "hidden_size": H}, 4 * (H * I + H * H + H)),
        ({"cell": "lstm", "hidden_size": H, "bias": False}, 4 * (H * I + H * H)),
        ({"cell": "lstm", "hidden_size": H, "peepholes": True}, 4 * (H * I + H * H + H) + 3 * H),
        ({"cell": "lstm", "hidden_size": H, "peepholes": True, "bias": False},
         4 * (H * I + H * H) + 3 * H),
        ({"cell": "gru", "hidden_size": H}, 3 * (H * I + H * H + H) + H),  # + bhn
        ({"cell": "gru", "hidden_size": H, "variant": "reset_before"}, 3 * (H * I + H * H + H) + H),
        ({"cell": "gru", "hidden_size": H, "bias": False}, 3 * (H * I + H * H)),
        ({"cell": "elman", "hidden_size": H}, H * I + H * H + H),
        # Jordan: Wx_h (H x I), Wy_h (H x O), b_h, Wo (O x H), bo
        ({"cell": "jordan", "hidden_size": H, "output_size": 2}, H * I + H * 2 + H + 2 * H + 2),
        ({"cell": "jordan", "hidden_size": H, "output_size": 2, "bias": False},
         H * I + H * 2 + 2 * H),
    ],
)
def test_cell_counts(lower_dict, sequence_model, cell: dict, layer_count: int) -> None:
    model = lower_dict(sequence_model([cell]))
    counts = dict(parameter_count_by_layer(model))
    assert counts["encoder.layers.0"] == layer_count
    out = cell.get("output_size", H)
    assert counts["head"] == out * 1 + 1  # regression head: W (1 x out) and b
    assert model.parameter_count == layer_count + out + 1


def test_head_without_bias(lower_dict, sequence_model) -> None:
    model = lower_dict(sequence_model([{"cell": "elman", "hidden_size": H}],
                                      head={"kind": "softmax", "classes": 5, "bias": False}))
    assert dict(parameter_count_by_layer(model))["head"] == 5 * H


@pytest.mark.parametrize(("merge", "next_input"), [("concat", 2 * 5), ("sum", 5), ("ave", 5),
                                                   ("mul", 5)])
def test_bidirectional_merge_sets_the_next_input(
    lower_dict, sequence_model, merge: str, next_input: int
) -> None:
    model = lower_dict(sequence_model(
        [{"cell": "elman", "hidden_size": 5, "bidirectional": True, "merge_mode": merge},
         {"cell": "elman", "hidden_size": 2}],
        head={"kind": "softmax", "classes": 3},
    ))
    counts = dict(parameter_count_by_layer(model))
    assert counts["encoder.layers.0"] == 2 * (5 * I + 5 * 5 + 5)  # two directions
    assert model.encoder.layers[1].input_size == next_input
    assert counts["encoder.layers.1"] == 2 * next_input + 2 * 2 + 2
    assert counts["head"] == 3 * 2 + 3


def test_bidirectional_jordan_concat_doubles_its_output(lower_dict, sequence_model) -> None:
    model = lower_dict(sequence_model(
        [{"cell": "jordan", "hidden_size": H, "output_size": 2, "bidirectional": True}]))
    assert model.encoder.layers[0].output_size == 4
    assert dict(parameter_count_by_layer(model))["head"] == 4 + 1


def test_embedding_and_one_hot(lower_dict, sequence_model) -> None:
    emb = lower_dict(sequence_model(
        [{"cell": "elman", "hidden_size": H}],
        inp={"kind": "tokens", "vocab_size": 50, "encoding": "embedding", "embedding_dim": 8}))
    assert dict(parameter_count_by_layer(emb))["encoder.embedding"] == 50 * 8
    assert dict(parameter_count_by_layer(emb))["encoder.layers.0"] == H * 8 + H * H + H
    hot = lower_dict(sequence_model(
        [{"cell": "elman", "hidden_size": H}],
        inp={"kind": "tokens", "vocab_size": 50, "encoding": "one_hot"}))
    assert "encoder.embedding" not in dict(parameter_count_by_layer(hot))
    assert dict(parameter_count_by_layer(hot))["encoder.layers.0"] == H * 50 + H * H + H


@pytest.mark.parametrize(("bias", "count"), [(True, 9 + 1), (False, 9)])
def test_ar_linear(lower_dict, bias: bool, count: int) -> None:
    model = lower_dict({"seqspec": 1, "name": "ar",
                        "model": {"scheme": "ar_linear", "order": 9, "bias": bias}})
    assert model.parameter_count == count
    assert dict(parameter_count_by_layer(model)) == {"ar": count}


def test_ar_mlp() -> None:
    model = seqspec.lower_file(ROOT / "examples" / "ar_mlp.yaml")  # order 4, hidden [10, 10]
    assert model.parameter_count == (4 * 10 + 10) + (10 * 10 + 10) + (10 * 1 + 1) == 171


def test_dense_bridge(lower_dict) -> None:
    model = lower_dict({"seqspec": 1, "name": "cap", "model": {
        "scheme": "one_to_many", "input": {"kind": "vector", "size": 7},
        "decoder": {"input": {"kind": "tokens", "vocab_size": 6, "encoding": "one_hot"},
                    "layers": [{"cell": "lstm", "hidden_size": 3},
                               {"cell": "gru", "hidden_size": 2}]},
        "head": {"kind": "softmax", "classes": 6}}})
    counts = dict(parameter_count_by_layer(model))
    assert counts["bridge"] == (7 * 3 + 3) + (7 * 2 + 2)  # one W, b per decoder layer
    assert counts["decoder.layers.0"] == 4 * (3 * 6 + 3 * 3 + 3)
    assert counts["decoder.layers.1"] == 3 * (2 * 3 + 2 * 2 + 2) + 2


def test_copy_bridge_has_no_parameters() -> None:
    model = seqspec.lower_file(ROOT / "examples" / "seq2seq_gru.yaml")
    assert "bridge" not in dict(parameter_count_by_layer(model))
    assert model.bridge is not None and model.bridge.params == ()
