"""What every cell kind shares: the spec fields of any cell and the parameter constructors.

The spec-language basics a cell's spec model needs (:class:`Strict`, the size and activation
types, :class:`Init`) live here rather than in :mod:`seqspec.spec` because ``spec.py``
builds its ``Cell`` union from every cell module: a cell module importing ``spec.py`` would be
an import cycle. ``spec.py`` re-exports them, so ``seqspec.spec.Strict`` etc. still work.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from seqspec import ir

#: Sizes above this are refused: they are typos, not models that fit on this planet's machines.
MAX_SIZE = 1_000_000

Size = Annotated[int, Field(gt=0, le=MAX_SIZE)]
Activation = Literal["tanh", "relu", "sigmoid"]
OutputActivation = Literal["tanh", "relu", "sigmoid", "linear"]
Initializer = Literal["uniform", "glorot_uniform", "orthogonal", "normal", "zeros"]
MergeMode = Literal["concat", "sum", "ave", "mul"]


class Strict(BaseModel):
    """Base for every spec model: unknown keys are errors and specs are immutable."""

    # strict: a quoted "100" is not a size and `true` is not 1; YAML already gives numbers and
    # booleans their types (the loader reads 1e-3 as a float, as YAML 1.2 does).
    # defer_build: the validators are built once, for Spec, when the first spec is checked.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, defer_build=True
    )


class Init(Strict):
    """How a layer's parameters are initialised (seeded; see docs/weights.md)."""

    input: Initializer = Field(
        "glorot_uniform",
        description="Input-to-hidden matrices Wx (per gate, H x I).",
    )
    recurrent: Initializer = Field(
        "orthogonal",
        description="Hidden-to-hidden matrices Wh (per gate, H x H); Jordan's Wy too.",
    )
    bias: Literal["zeros", "uniform"] = Field("zeros", description="Bias vectors.")
    scale: float = Field(
        1.0,
        gt=0,
        le=100,
        description="Multiplies every drawn weight; 'normal' draws N(0, (0.01*scale)^2).",
    )


class CellBase(Strict):
    """The keys every cell kind has; a cell module's ``Spec`` adds ``cell`` and its own."""

    hidden_size: Size = Field(description="Number of hidden units H.")
    bias: bool = Field(True, description="Whether the cell has bias vectors.")
    bidirectional: bool = Field(
        False, description="Run a second copy of the cell backwards in time (Graves 2005)."
    )
    merge_mode: MergeMode = Field(
        "concat",
        description="How the forward and backward outputs are merged: concat ([fw, bw], 2H), "
        "sum, ave or mul (H). Only with bidirectional: true.",
    )
    init: Init = Field(default_factory=Init, description="Parameter initialisers.")


class Make:
    """The parameter constructors a cell module's ``params`` builds its table with."""

    @staticmethod
    def param(name: str, shape: tuple[int, ...], init: str, doc: str, *, scale: float = 1.0,
              value: float = 0.0) -> ir.Param:
        """A drawn weight; fans from its shape ('normal' draws N(0, (0.01*scale)^2))."""
        fan_in = shape[-1] if len(shape) > 1 else shape[0]
        fan_out = shape[0]
        if init == "normal":
            scale = 0.01 * scale
        return ir.Param(name, shape, init, doc, scale=scale, value=value, fan_in=fan_in,
                        fan_out=fan_out)

    @staticmethod
    def bias(name: str, size: int, kind: str, doc: str, scale: float, hidden: int) -> ir.Param:
        """A bias vector: zeros, or U(+-1/sqrt(H)) like torch's default whatever its length."""
        if kind == "uniform":
            return ir.Param(name, (size,), "uniform", doc, scale=scale, fan_in=hidden,
                            fan_out=size)
        return ir.Param(name, (size,), "zeros", doc)

    def gates(self, prefix: str, cell: CellBase, input_size: int, docs: dict[str, str],
              biases: dict[str, ir.Param] | None = None) -> list[ir.Param]:
        """``Wx_g`` (H, I), ``Wh_g`` (H, H), ``b_g`` (H) for each gate g of ``docs`` (gate ->
        what it computes), in its order; ``biases`` replaces a gate's drawn bias."""
        h, init = cell.hidden_size, cell.init
        out: list[ir.Param] = []
        for g, doc in docs.items():
            out.append(self.param(f"{prefix}.Wx_{g}", (h, input_size), init.input,
                                  f"input -> {doc}", scale=init.scale))
            out.append(self.param(f"{prefix}.Wh_{g}", (h, h), init.recurrent,
                                  f"hidden -> {doc}", scale=init.scale))
            if cell.bias:
                given = (biases or {}).get(g)
                out.append(given or self.bias(f"{prefix}.b_{g}", h, init.bias, f"{doc} bias",
                                              init.scale, h))
        return out
