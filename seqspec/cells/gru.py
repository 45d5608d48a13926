"""GRU (Cho et al. 2014), in PyTorch's reset-after form or the paper's reset-before form."""

from __future__ import annotations

from dataclasses import dataclass

from seqspec.ir import CellSettings

KIND = "gru"
GATES = ("z", "r", "n")
STATES = ("h",)


@dataclass(frozen=True, slots=True)
class Settings(CellSettings):
    """What a GRU layer needs beyond sizes."""

    variant: str  # reset_after | reset_before


def settings(cell) -> Settings:
    return Settings(variant=cell.variant)
