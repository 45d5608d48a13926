"""LSTM (Hochreiter & Schmidhuber 1997; forget gate Gers et al. 2000; peepholes Gers &
Schmidhuber 2000)."""

from __future__ import annotations

from dataclasses import dataclass

from seqspec.ir import CellSettings

KIND = "lstm"
GATES = ("i", "f", "g", "o")
STATES = ("h", "c")


@dataclass(frozen=True, slots=True)
class Settings(CellSettings):
    """What an LSTM layer needs beyond sizes."""

    peepholes: bool
    forget_bias: float


def settings(cell) -> Settings:
    return Settings(peepholes=cell.peepholes, forget_bias=cell.forget_bias)
