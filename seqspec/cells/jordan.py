"""Jordan cell (Jordan 1986): the output, not the hidden state, is fed back.

``s_t = mu * s_{t-1} + y_{t-1}``; ``h_t = act(Wx_h x_t + Wy_h s_t + b_h)``;
``y_t = out_act(Wo h_t + bo)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from seqspec import ir
from seqspec.cells.base import Activation, CellBase, Make, OutputActivation, Size
from seqspec.errors import SpecPath

KIND = "jordan"
ORDER = 1  # where the kind is listed: the Cell union, schema, error messages
DESCRIPTION = "Jordan network: the layer's output, not its hidden state, is fed back"
CITATION = ("Jordan, M. I. (1986). Serial order: a parallel distributed processing approach. "
            "ICS Report 8604, UC San Diego.")
EQUATIONS = """\
s_t = mu * s_{t-1} + y_{t-1}
h_t = act(Wx_h x_t + Wy_h s_t + b_h)
y_t = out_act(Wo h_t + bo)"""
FEATURES = frozenset({"jordan"})
GATES = ("h",)
STATES = ("y", "s")


class JordanCell(CellBase):
    """Jordan network: the layer's output y_{t-1}, not h_{t-1}, is fed back.

    s_t = mu * s_{t-1} + y_{t-1}     (context units; y_0 = 0, s_0 = 0)
    h_t = act(Wx x_t + Wy s_t + b)
    y_t = output_act(Wo h_t + bo)    (the layer's output, size output_size)
    """

    cell: Literal["jordan"] = Field(description="The cell kind.")
    output_size: Size = Field(description="Size of the fed-back output y_t.")
    activation: Activation = Field("tanh", description="The hidden nonlinearity.")
    output_activation: OutputActivation = Field(
        "tanh", description="The nonlinearity of the fed-back output y_t."
    )
    context_decay: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="mu, the self-loop of the context units (Jordan 1986); 0 = plain y_{t-1}.",
    )


Spec = JordanCell


@dataclass(frozen=True, slots=True)
class Settings(ir.CellSettings):
    """What a Jordan layer needs beyond sizes."""

    output_size: int  # O: width of y, the fed-back output
    activation: str  # hidden nonlinearity
    output_activation: str  # linear | tanh | sigmoid | ...
    context_decay: float  # mu


def settings(cell: Spec) -> Settings:
    return Settings(output_size=cell.output_size, activation=cell.activation,
                    output_activation=cell.output_activation,
                    context_decay=cell.context_decay)


def params(prefix: str, cell: Spec, input_size: int, make: Make) -> tuple[ir.Param, ...]:
    # no gates: the feedback matrix reads y (O), and a second layer Wo makes y from h
    h, o, init = cell.hidden_size, cell.output_size, cell.init
    out = [make.param(f"{prefix}.Wx_h", (h, input_size), init.input, "input -> hidden",
                      scale=init.scale),
           make.param(f"{prefix}.Wy_h", (h, o), init.recurrent,
                      "fed-back output (context) -> hidden", scale=init.scale)]
    if cell.bias:
        out.append(make.bias(f"{prefix}.b_h", h, init.bias, "hidden bias", init.scale, h))
    out.append(make.param(f"{prefix}.Wo", (o, h), init.input, "hidden -> output",
                          scale=init.scale))
    if cell.bias:
        out.append(make.bias(f"{prefix}.bo", o, init.bias, "output bias", init.scale, h))
    return tuple(out)


def state_sizes(cell: Spec) -> tuple[int, ...]:
    return (cell.output_size, cell.output_size)  # y and its context s


def step_output_size(cell: Spec) -> int:
    return cell.output_size


def features(cell: Spec, path: SpecPath) -> list[tuple[str, SpecPath]]:
    return [(KIND, path)]


def describe(layer: ir.Layer) -> str:
    """``jordan(16, output 4)``: a copy bridge must match the output size too."""
    return f"{KIND}({layer.hidden_size}, output {layer.step_output_size})"
