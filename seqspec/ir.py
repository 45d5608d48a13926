"""The normalized model: what backends read.

:func:`seqspec.lower.lower` builds these frozen dataclasses from a validated spec. Every
default is resolved, every size and parameter shape is known, and every parameter has its
canonical name (the key in the canonical ``.npz``; see ``docs/weights.md``). Templates make
no decision that could be made here.

Canonical parameters of a recurrent layer are named per direction, under the prefix
``<stack>.layers.<k>.<forward|backward>``, by its cell module's ``params``
(``seqspec/cells/<kind>.py``; e.g. an LSTM's ``Wx_i``, ``Wh_i``, ``b_i``, ...; docs/spec.md).
Other parameters: ``<stack>.embedding`` (C, E); ``head.W`` (out, in), ``head.b``;
``bridge.layers.<k>.W`` / ``.b`` (dense bridge into decoder layer k); ``ar.phi`` (p,),
``ar.c`` (1,); ``mlp.layers.<k>.W`` / ``.b`` (the feed-forward AR network, last one is the output).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CellSettings:
    """Base of a cell kind's typed IR node: what one layer of that kind needs beyond sizes.

    Each ``seqspec/cells/<kind>.py`` defines ``Settings(CellSettings)`` with only the fields
    that mean something for its kind.
    """


@dataclass(frozen=True, slots=True)
class Param:
    """One canonical parameter: its name, shape, initialiser and meaning."""

    name: str
    shape: tuple[int, ...]
    # uniform | glorot_uniform | orthogonal | normal | zeros | constant | positive_uniform
    init: str
    doc: str
    scale: float = 1.0
    value: float = 0.0  # only for init == "constant"
    fan_in: int = 0
    fan_out: int = 0
    bound: float | None = None  # training keeps |w| <= bound after every update; None: free

    @property
    def size(self) -> int:
        """Number of scalars."""
        n = 1
        for dim in self.shape:
            n *= dim
        return n


@dataclass(frozen=True, slots=True)
class Direction:
    """One direction of a recurrent layer: its parameters."""

    name: str  # "forward" | "backward"
    prefix: str  # e.g. "encoder.layers.0.forward"
    params: tuple[Param, ...]

    def param(self, short: str) -> Param:
        """The parameter named ``<prefix>.<short>``."""
        full = f"{self.prefix}.{short}"
        for p in self.params:
            if p.name == full:
                return p
        raise KeyError(full)


@dataclass(frozen=True, slots=True)
class Layer:
    """One recurrent layer (one or two directions)."""

    index: int
    prefix: str  # e.g. "encoder.layers.0"
    path: tuple[str | int, ...]  # where it sits in the spec, e.g. ("model", "layers", 0)
    cell: str  # the cell kind: a module of seqspec.cells (elman, jordan, lstm, gru, ...)
    input_size: int
    hidden_size: int
    step_output_size: int  # what one direction emits per step: H, or Jordan's output_size
    output_size: int  # after merging directions
    bias: bool
    settings: CellSettings  # the cell kind's own node: seqspec.cells.<cell>.Settings
    bidirectional: bool
    merge_mode: str  # concat | sum | ave | mul (meaningful only when bidirectional)
    gates: tuple[str, ...]  # the kind's GATES, in canonical order
    state_names: tuple[str, ...]  # the kind's STATES, as in final-state keys
    state_sizes: tuple[int, ...]
    directions: tuple[Direction, ...]

    @property
    def params(self) -> tuple[Param, ...]:
        """Every parameter of every direction."""
        return tuple(p for d in self.directions for p in d.params)


@dataclass(frozen=True, slots=True)
class SequenceInput:
    """The per-step input of a stack."""

    kind: str  # tokens | features
    vocab_size: int  # tokens only, else 0
    encoding: str  # embedding | one_hot | "" (features)
    embedding_dim: int  # embedding only, else 0
    step_size: int  # width of what layer 0 sees per step
    variable_length: bool
    padding: str  # right | left
    params: tuple[Param, ...]  # the embedding, when there is one


@dataclass(frozen=True, slots=True)
class Stack:
    """A stack of recurrent layers over a sequence input (the encoder, or a decoder)."""

    name: str  # "encoder" | "decoder"
    input: SequenceInput
    layers: tuple[Layer, ...]
    dropout: float

    @property
    def output_size(self) -> int:
        """Per-step width of the top layer's (merged) output."""
        return self.layers[-1].output_size

    @property
    def params(self) -> tuple[Param, ...]:
        """The embedding and every layer parameter, bottom layer first."""
        return self.input.params + tuple(p for layer in self.layers for p in layer.params)


@dataclass(frozen=True, slots=True)
class Bridge:
    """Summary vector -> decoder initial state (one_to_many, seq2seq)."""

    kind: str  # copy | dense
    activation: str
    summary_size: int  # width of the summary (vector input, or the encoder's pooled output)
    params: tuple[Param, ...]  # dense only: bridge.layers.<k>.W (H_k, summary), .b (H_k)


@dataclass(frozen=True, slots=True)
class Head:
    """The output layer: logits over classes, or a regression."""

    kind: str  # softmax | regression
    in_size: int
    out_size: int
    bias: bool
    per_step: bool  # one output per step (True) or per sequence (False)
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class AR:
    """The seed's autoregressive models over a window of ``order`` past values."""

    kind: str  # linear | mlp
    order: int
    bias: bool
    hidden: tuple[int, ...]  # mlp only
    activation: str  # mlp only
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class Training:
    """Training settings, resolved (loss is never "auto" here)."""

    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    loss: str  # cross_entropy | mse
    clip_norm: float | None
    tbptt: int | None
    seed: int
    checkpoint_every: int
    monitor: str = "val_loss"
    mode: str = "auto"  # auto | min | max
    patience: int | None = None  # None: no early stopping
    min_delta: float = 0.0
    restore_best: bool = False
    schedule: str = "constant"  # constant | step | cosine | plateau
    warmup_steps: int = 0
    lr_decay: float = 0.1
    lr_decay_epochs: int = 10
    weight_decay: float = 0.0  # L2 (sgd, momentum, adam) or decoupled (adamw)
    stateful: bool = False  # text: a row's final state starts its stream's next row


@dataclass(frozen=True, slots=True)
class Columns:
    """A CSV of sequences: which columns hold what (``data.columns``)."""

    features: tuple[str, ...]  # each step's input features, in the input's order
    sequence: str  # sequence ids: consecutive rows with one id are one sequence
    step: str | None  # orders the rows of a sequence (None: the file's order)
    label: tuple[str, ...]  # many_to_one: one class id or regression outputs per sequence
    target: tuple[str, ...]  # many_to_many: one per step


@dataclass(frozen=True, slots=True)
class Data:
    """Data settings; ``source`` is resolved against the spec's folder when it was loaded."""

    source: str
    format: str
    level: str
    sequence_length: int
    column: str | None
    window: int | None
    validation: float
    test: float
    shuffle: bool
    columns: Columns | None = None  # csv of sequences; None: a time series (column)
    #: ``source`` as the compiled train.py finds it: relative to the output folder, or absolute
    #: (set by :func:`seqspec.api.compile_spec`; empty when nothing was compiled).
    path: str = ""


@dataclass(frozen=True, slots=True)
class Model:
    """A whole normalized model."""

    name: str
    description: str
    source_name: str  # the spec's file name (no directories), for docstrings
    spec_sha256: str  # of the spec file's bytes
    scheme: str  # many_to_many | many_to_one | one_to_many | seq2seq | ar_linear | ar_mlp
    encoder: Stack | None  # the sequence stack (many_to_*), or seq2seq's encoder
    decoder: Stack | None  # one_to_many and seq2seq
    vector_size: int  # one_to_many's conditioning vector, else 0
    bridge: Bridge | None
    pooling: str  # many_to_one: last | mean | max; else ""
    head: Head | None  # None for AR models
    ar: AR | None
    max_length: int  # generation length (one_to_many, seq2seq); 0 elsewhere
    start_token: int
    end_token: int | None
    training: Training
    data: Data | None
    #: (feature, spec path) for every feature the model uses; backends declare what they support.
    feature_sites: tuple[tuple[str, tuple[str | int, ...]], ...] = ()

    @property
    def features(self) -> frozenset[str]:
        """The features this model uses."""
        return frozenset(f for f, _ in self.feature_sites)

    @property
    def stacks(self) -> tuple[Stack, ...]:
        """The encoder and decoder that exist."""
        return tuple(s for s in (self.encoder, self.decoder) if s is not None)

    @property
    def params(self) -> tuple[Param, ...]:
        """Every canonical parameter, in a fixed order."""
        out: list[Param] = []
        for stack in self.stacks:
            out.extend(stack.params)
        if self.bridge is not None:
            out.extend(self.bridge.params)
        if self.head is not None:
            out.extend(self.head.params)
        if self.ar is not None:
            out.extend(self.ar.params)
        return tuple(out)

    @property
    def parameter_count(self) -> int:
        """Total number of scalars in the canonical parameters."""
        return sum(p.size for p in self.params)

    @property
    def can_generate(self) -> bool:
        """Whether the model can feed its own outputs back (sampling / free decoding)."""
        if self.scheme in ("one_to_many", "seq2seq"):
            return True
        if self.scheme == "many_to_many" and self.encoder is not None and self.head is not None:
            inp = self.encoder.input
            return (
                inp.kind == "tokens"
                and self.head.kind == "softmax"
                and self.head.out_size == inp.vocab_size
            )
        return False
