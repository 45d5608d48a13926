"""Jordan cell (Jordan 1986): the output, not the hidden state, is fed back.

``s_t = mu * s_{t-1} + y_{t-1}``; ``h_t = act(Wx_h x_t + Wy_h s_t + b_h)``;
``y_t = out_act(Wo h_t + bo)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqspec.ir import CellSettings

KIND = "jordan"
GATES = ("h",)
STATES = ("y", "s")


@dataclass(frozen=True, slots=True)
class Settings(CellSettings):
    """What a Jordan layer needs beyond sizes."""

    output_size: int  # O: width of y, the fed-back output
    activation: str  # hidden nonlinearity
    output_activation: str  # linear | tanh | sigmoid | ...
    context_decay: float  # mu


def settings(cell) -> Settings:
    return Settings(output_size=cell.output_size, activation=cell.activation,
                    output_activation=cell.output_activation,
                    context_decay=cell.context_decay)
