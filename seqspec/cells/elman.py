"""Elman cell (Elman 1990): ``h_t = act(Wx_h x_t + Wh_h h_{t-1} + b_h)``."""

from __future__ import annotations

from dataclasses import dataclass

from seqspec.ir import CellSettings

KIND = "elman"
GATES = ("h",)
STATES = ("h",)


@dataclass(frozen=True, slots=True)
class Settings(CellSettings):
    """What an Elman layer needs beyond sizes."""

    activation: str  # tanh | relu | sigmoid


def settings(cell) -> Settings:
    return Settings(activation=cell.activation)
