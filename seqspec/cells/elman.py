"""Elman cell (Elman 1990): ``h_t = act(Wx_h x_t + Wh_h h_{t-1} + b_h)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from seqspec import ir
from seqspec.cells.base import Activation, CellBase, Make
from seqspec.errors import SpecPath

KIND = "elman"
ORDER = 0  # where the kind is listed: the Cell union, schema, error messages
DESCRIPTION = "simple recurrent network: the hidden state is fed back"
CITATION = "Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2)."
EQUATIONS = "h_t = act(Wx_h x_t + Wh_h h_{t-1} + b_h)"
FEATURES = frozenset({"elman"})
GATES = ("h",)
STATES = ("h",)


class ElmanCell(CellBase):
    """Elman / simple RNN: h_t = act(Wx x_t + Wh h_{t-1} + b)."""

    cell: Literal["elman"] = Field(description="The cell kind.")
    activation: Activation = Field("tanh", description="The hidden nonlinearity.")


Spec = ElmanCell


@dataclass(frozen=True, slots=True)
class Settings(ir.CellSettings):
    """What an Elman layer needs beyond sizes."""

    activation: str  # tanh | relu | sigmoid


def settings(cell: Spec) -> Settings:
    return Settings(activation=cell.activation)


def params(prefix: str, cell: Spec, input_size: int, make: Make) -> tuple[ir.Param, ...]:
    return tuple(make.gates(prefix, cell, input_size, {"h": "hidden"}))


def state_sizes(cell: Spec) -> tuple[int, ...]:
    return (cell.hidden_size,)


def step_output_size(cell: Spec) -> int:
    return cell.hidden_size


def features(cell: Spec, path: SpecPath) -> list[tuple[str, SpecPath]]:
    return [(KIND, path)]
