"""The spec language: what a user writes in a seqspec YAML file.

These pydantic models are the public contract of seqspec. Every numerical choice on which
frameworks disagree (GRU variant, peephole wiring, merge mode, padding side, forget bias,
initialisers) is an explicit field with a documented default, so a spec means one function.

The models know nothing about code generation: :mod:`seqspec.lower` turns a validated
:class:`Spec` into the normalized model of :mod:`seqspec.ir`.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from seqspec import cells
from seqspec.cells.base import (  # noqa: F401  (re-exported: the spec language's basics)
    MAX_SIZE,
    Activation,
    CellBase,
    Init,
    Initializer,
    MergeMode,
    OutputActivation,
    Size,
    Strict,
)

# the cell kinds' spec models under their old names (each is its module's ``Spec``)
from seqspec.cells.elman import ElmanCell  # noqa: F401
from seqspec.cells.gru import GRUCell  # noqa: F401
from seqspec.cells.jordan import JordanCell  # noqa: F401
from seqspec.cells.lstm import LSTMCell  # noqa: F401

#: A spec whose parameters exceed this count is refused before anything is allocated.
MAX_PARAMETERS = 2_000_000_000
#: Sequence lengths above this are refused (generation, windows, truncation).
MAX_STEPS = 1_000_000

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

Name = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"),
    Field(description="An identifier: letters, digits and underscores, not starting with a digit."),
]
Text = Annotated[
    str,
    StringConstraints(max_length=2000),
    Field(description="Free text; it reaches generated code only as an escaped literal."),
]


# --------------------------------------------------------------------------- cells

#: Any cell kind: the union of every cell module's ``Spec``, told apart by its ``cell:`` key.
Cell = Annotated[functools.reduce(operator.or_, (m.Spec for m in cells.KINDS.values())),
                 Field(discriminator="cell")]


# --------------------------------------------------------------------------- inputs


class TokenInput(Strict):
    """Integer token ids per step, fed through an embedding or as one-hot vectors."""

    kind: Literal["tokens"] = Field(description="The input kind.")
    vocab_size: Size = Field(description="Number of distinct tokens C.")
    encoding: Literal["embedding", "one_hot"] = Field(
        "embedding", description="one_hot multiplies Wx by a one-hot vector (the seed's U[:, x])."
    )
    embedding_dim: Size | None = Field(
        None, description="Embedding width E; required with encoding: embedding."
    )
    variable_length: bool = Field(
        False, description="Batches carry per-sequence lengths; padding never changes a result."
    )
    padding: Literal["right", "left"] = Field(
        "right", description="Where the padding sits in a variable-length batch."
    )


class FeatureInput(Strict):
    """A real-valued feature vector per step (time series)."""

    kind: Literal["features"] = Field(description="The input kind.")
    size: Size = Field(description="Features per step.")
    variable_length: bool = Field(False, description="Batches carry per-sequence lengths.")
    padding: Literal["right", "left"] = Field("right", description="Padding side.")


class VectorInput(Strict):
    """A single feature vector per sample (e.g. 4096-dim CNN image features)."""

    kind: Literal["vector"] = Field(description="The input kind.")
    size: Size = Field(description="Width of the feature vector.")


SequenceInput = Annotated[TokenInput | FeatureInput, Field(discriminator="kind")]


# --------------------------------------------------------------------------- heads


class SoftmaxHead(Strict):
    """Logits over `classes` (softmax in the loss): next token, tag or label."""

    kind: Literal["softmax"] = Field(description="The head kind.")
    classes: Size = Field(description="Number of output classes (vocabulary for a language model).")
    bias: bool = Field(True, description="Whether the head has a bias vector.")


class RegressionHead(Strict):
    """A linear real-valued output."""

    kind: Literal["regression"] = Field(description="The head kind.")
    outputs: Size = Field(1, description="Width of the regression output.")
    bias: bool = Field(True, description="Whether the head has a bias vector.")


Head = Annotated[SoftmaxHead | RegressionHead, Field(discriminator="kind")]


# --------------------------------------------------------------------------- stacks, bridges


class _Sequence(Strict):
    """A stack of recurrent layers over a sequence input (shared by several schemes)."""

    input: SequenceInput = Field(description="What the bottom layer reads at each step.")
    layers: list[Cell] = Field(min_length=1, max_length=64, description="Bottom layer first.")
    dropout: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout on every layer's output but the last's (training only).",
    )


class Stack(_Sequence):
    """An encoder or decoder: a stack of recurrent layers over a sequence input."""


class Bridge(Strict):
    """How a summary vector becomes a decoder's initial state.

    copy:  decoder layer k starts from encoder layer k's final state (same cells and sizes).
    dense: h0_k = activation(W_k summary + b_k) for every decoder layer k; LSTM c0 = 0.
    """

    kind: Literal["copy", "dense"] = Field(
        "dense", description="copy: the encoder's final states; dense: a learned projection."
    )
    activation: OutputActivation = Field("tanh", description="Only for kind: dense.")


# --------------------------------------------------------------------------- schemes


class ManyToMany(_Sequence):
    """One output per input step: language models, taggers, per-step regression."""

    scheme: Literal["many_to_many"] = Field(description="The model scheme.")
    head: Head = Field(description="The output layer, applied at every step.")


class ManyToOne(_Sequence):
    """One output per sequence: classification or regression of a whole sequence."""

    scheme: Literal["many_to_one"] = Field(description="The model scheme.")
    pooling: Literal["last", "mean", "max"] = Field(
        "last",
        description="last: the final state of each direction (a backward direction's final "
        "state is the one at t=0); mean/max: over the valid steps of the top layer's output.",
    )
    head: Head = Field(description="The output layer, applied to the pooled vector.")


class OneToMany(Strict):
    """A feature vector conditions a decoder that emits a sequence (image captioning)."""

    scheme: Literal["one_to_many"] = Field(description="The model scheme.")
    input: VectorInput = Field(description="The conditioning feature vector.")
    bridge: Bridge = Field(
        default_factory=Bridge, description="Feature vector -> the decoder's initial states."
    )
    decoder: Stack = Field(description="The decoder; it reads its own previous outputs.")
    head: Head = Field(description="The output layer, applied at every decoder step.")
    max_length: Annotated[int, Field(gt=0, le=MAX_STEPS)] = Field(
        20, description="Longest sequence generated when decoding freely."
    )
    start_token: Annotated[int, Field(ge=0)] = Field(0, description="Token that starts decoding.")
    end_token: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Token that ends a generated sequence (optional)."
    )


class Seq2Seq(Strict):
    """Encoder-decoder: the encoder's summary is the decoder's initial state."""

    scheme: Literal["seq2seq"] = Field(description="The model scheme.")
    encoder: Stack = Field(description="The encoder over the input sequence x.")
    bridge: Bridge = Field(
        default_factory=Bridge, description="Encoder final states -> decoder initial states."
    )
    decoder: Stack = Field(description="The decoder; it reads its own previous outputs.")
    head: Head = Field(description="The output layer, applied at every decoder step.")
    max_length: Annotated[int, Field(gt=0, le=MAX_STEPS)] = Field(
        20, description="Longest sequence generated when decoding freely."
    )
    start_token: Annotated[int, Field(ge=0)] = Field(0, description="Token that starts decoding.")
    end_token: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Token that ends a generated sequence (optional)."
    )


class ARLinear(Strict):
    """The seed's AR(p): x_t = c + sum_i phi_i x_{t-i}."""

    scheme: Literal["ar_linear"] = Field(description="The model scheme.")
    order: Annotated[int, Field(gt=0, le=10_000)] = Field(description="p, the window length.")
    bias: bool = Field(True, description="Whether the constant c is fitted.")


class ARNetwork(Strict):
    """A feed-forward network over a window of p past values (the seed's FF AR model)."""

    scheme: Literal["ar_mlp"] = Field(description="The model scheme.")
    order: Annotated[int, Field(gt=0, le=10_000)] = Field(description="p, the window length.")
    hidden: list[Size] = Field(min_length=1, max_length=16, description="Hidden layer widths.")
    activation: Activation = Field("relu", description="Nonlinearity of the hidden layers.")
    init: Init = Field(
        default_factory=Init, description="Initialisers (input: the dense matrices)."
    )


Model = Annotated[
    ManyToMany | ManyToOne | OneToMany | Seq2Seq | ARLinear | ARNetwork,
    Field(discriminator="scheme"),
]


# --------------------------------------------------------------------------- training, data


class Training(Strict):
    """How the generated train.py trains the model (each value overridable on its command line)."""

    optimizer: Literal["sgd", "momentum", "adam", "adamw", "lstsq"] = Field(
        "adam",
        description="sgd, sgd with momentum 0.9, Adam, or AdamW (Adam with decoupled weight "
        "decay); lstsq (ar_linear only): the exact ordinary least-squares fit, solved in closed "
        "form (epochs and learning_rate unused).",
    )
    learning_rate: float = Field(1e-3, gt=0, le=10, description="Step size.")
    weight_decay: float = Field(
        0.0,
        ge=0,
        le=10,
        description="Weight decay of every weight: sgd, momentum and adam add weight_decay * w "
        "to the gradient (L2); adamw multiplies w by 1 - learning_rate * weight_decay before "
        "its step (decoupled). PyTorch's formulas.",
    )
    epochs: Annotated[int, Field(gt=0, le=1_000_000)] = Field(
        10, description="Passes over the training data."
    )
    batch_size: Annotated[int, Field(gt=0, le=1_000_000)] = Field(
        32, description="Sequences per optimizer step."
    )
    loss: Literal["auto", "cross_entropy", "mse"] = Field(
        "auto", description="auto: cross-entropy for softmax heads, mse for regression."
    )
    clip_norm: float | None = Field(None, gt=0, description="Clip gradients by global norm.")
    tbptt: Annotated[int, Field(gt=0, le=MAX_STEPS)] | None = Field(
        None, description="Truncated BPTT: backpropagate through at most this many steps."
    )
    seed: Annotated[int, Field(ge=0, lt=2**32)] = Field(
        0, description="Seed of weight initialisation, shuffling and dropout."
    )
    checkpoint_every: Annotated[int, Field(gt=0)] = Field(
        500, description="Write a checkpoint every this many optimizer steps."
    )
    monitor: Annotated[str, StringConstraints(pattern=r"^(train|val)_[a-z_]+$")] = Field(
        "val_loss",
        description="The metric that judges the epochs, for early stopping and the best weights: "
        "train_loss, val_loss or val_<a metric of the model> (val_accuracy, val_bpc...).",
    )
    mode: Literal["auto", "min", "max"] = Field(
        "auto",
        description="Whether smaller or larger monitor values are better; auto: larger for "
        "accuracy and exact_match, smaller for the rest.",
    )
    patience: Annotated[int, Field(gt=0, le=1_000_000)] | None = Field(
        None,
        description="Early stopping: stop after this many epochs without improvement of the "
        "monitor (none: train every epoch).",
    )
    min_delta: float = Field(
        0.0, ge=0, description="The least change of the monitor that counts as an improvement."
    )
    restore_best: bool = Field(
        False,
        description="End with the best epoch's weights (best.npz) in weights.npz, not the last.",
    )
    schedule: Literal["constant", "step", "cosine", "plateau"] = Field(
        "constant",
        description="The learning rate over the run: constant; step: times lr_decay every "
        "lr_decay_epochs epochs; cosine: from learning_rate down to 0 along a half cosine; "
        "plateau: times lr_decay after lr_decay_epochs epochs without improvement of monitor.",
    )
    warmup_steps: Annotated[int, Field(ge=0, le=1_000_000_000)] = Field(
        0, description="Raise the learning rate linearly over the first this many steps."
    )
    lr_decay: float = Field(
        0.1, gt=0, lt=1, description="The factor of the step and plateau schedules."
    )
    lr_decay_epochs: Annotated[int, Field(gt=0, le=1_000_000)] = Field(
        10,
        description="Epochs between the step schedule's decays; the plateau schedule's patience.",
    )
    stateful: bool = Field(
        False,
        description="Language models on text: cut the training text into batch_size streams "
        "read in order; the final state of a row (detached: truncated BPTT) starts its stream's "
        "next row, as in char-rnn, and validation reads its text the same way. No shuffling.",
    )


class Split(Strict):
    """How the data is split into training, validation and test parts."""

    validation: float = Field(0.1, ge=0.0, lt=1.0, description="Fraction held out for validation.")
    test: float = Field(0.0, ge=0.0, lt=1.0, description="Fraction held out for testing.")
    shuffle: bool = Field(True, description="Shuffle before splitting (seeded by training.seed).")


#: A CSV column's name as its header row spells it (any printable text).
ColumnName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(description="A CSV column's name, as the header row spells it."),
]
ColumnNames = Annotated[list[ColumnName], Field(min_length=1, max_length=100_000)]


class Columns(Strict):
    """A CSV of sequences: one row per step; the rows of a sequence are consecutive."""

    features: ColumnNames = Field(
        description="The columns of each step's input features, in the order of the model's "
        "input (their count is the input's size)."
    )
    sequence: ColumnName = Field(
        description="Sequence ids: the consecutive rows with one id form one sequence."
    )
    step: ColumnName | None = Field(
        None,
        description="Order the rows of each sequence by this column's numbers (none: in the "
        "file's order); two rows of a sequence may not share a step.",
    )
    label: ColumnName | ColumnNames | None = Field(
        None,
        description="many_to_one: the column of each sequence's class id (softmax head) or its "
        "regression outputs (one column each); every row that fills it must agree.",
    )
    target: ColumnName | ColumnNames | None = Field(
        None,
        description="many_to_many: the column of each step's class id (softmax head) or its "
        "regression outputs (one column each).",
    )


class Data(Strict):
    """Where train.py finds its data; paths are relative to the spec file."""

    source: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="Path of the data file."
    )
    format: Literal["text", "npz", "csv"] = Field(
        description="text: a corpus for a language model; csv: a time series column, or "
        "sequences (columns); npz: prepared arrays."
    )
    level: Literal["char", "word"] = Field("char", description="Tokenisation of text data.")
    sequence_length: Annotated[int, Field(gt=0, le=MAX_STEPS)] = Field(
        100,
        description="Steps per training sequence (text); the longest sequence allowed (csv "
        "columns).",
    )
    column: Name | None = Field(None, description="CSV column of a time series.")
    columns: Columns | None = Field(
        None, description="CSV of sequences (many_to_one, many_to_many): which columns are what."
    )
    window: Annotated[int, Field(gt=0, le=MAX_STEPS)] | None = Field(
        None, description="Window length for CSV time series."
    )
    split: Split = Field(default_factory=Split, description="Validation and test fractions.")


class Spec(Strict):
    """A seqspec file."""

    seqspec: Literal[1] = Field(description="Version of the spec language.")
    name: Name = Field(
        description="Model name: an identifier (letters, digits, underscores), used in generated "
        "docstrings and SPEC_NAME."
    )
    description: Text = Field("", description="Free text, shown in generated docstrings.")
    model: Model = Field(description="The model; its `scheme` key selects the kind.")
    training: Training = Field(default_factory=Training, description="Training settings.")
    data: Data | None = Field(None, description="Training data (optional).")

    @field_validator("seqspec", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: object) -> object:
        # True == 1 and 1.0 == 1 in Python, but `seqspec: true` and `seqspec: 1.0` are not
        # version 1: the version is an integer, so a future 1.1 can never be read as 1.
        if isinstance(value, bool) or not isinstance(value, int):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            raise ValueError(f"the spec language version must be the integer 1 (got {shown})")
        return value

    @field_validator("description")
    @classmethod
    def _no_control_chars(cls, value: str) -> str:
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise ValueError("description must not contain control characters")
        return value
