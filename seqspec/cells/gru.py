"""GRU (Cho et al. 2014), in PyTorch's reset-after form or the paper's reset-before form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from seqspec import ir
from seqspec.cells.base import CellBase, Make
from seqspec.errors import SpecPath

KIND = "gru"
ORDER = 3  # where the kind is listed: the Cell union, schema, error messages
DESCRIPTION = "gated recurrent unit: update and reset gates, no separate cell state"
CITATION = ("Cho, K. et al. (2014). Learning phrase representations using RNN encoder-decoder "
            "for statistical machine translation. EMNLP.")
EQUATIONS = """\
z_t = σ(Wx_z x_t + Wh_z h_{t-1} + b_z)
r_t = σ(Wx_r x_t + Wh_r h_{t-1} + b_r)
reset_after:   n_t = tanh(Wx_n x_t + b_n + r_t ⊙ (Wh_n h_{t-1} + bhn))
reset_before:  n_t = tanh(Wx_n x_t + b_n + bhn + Wh_n (r_t ⊙ h_{t-1}))
h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ n_t"""
FEATURES = frozenset({"gru", "gru_reset_after", "gru_reset_before"})
GATES = ("z", "r", "n")
STATES = ("h",)


class GRUCell(CellBase):
    """GRU (Cho 2014); z weights the old state: h_t = z*h_{t-1} + (1-z)*n.

    reset_after:  n = tanh(Wx_n x + b_n + r*(Wh_n h + bhn))   (cuDNN / PyTorch / Keras default)
    reset_before: n = tanh(Wx_n x + b_n + bhn + Wh_n (r*h))   (Cho 2014, ONNX default)
    """

    cell: Literal["gru"] = Field(description="The cell kind.")
    variant: Literal["reset_after", "reset_before"] = Field(
        "reset_after", description="Where the reset gate applies; see the class docstring."
    )


Spec = GRUCell


@dataclass(frozen=True, slots=True)
class Settings(ir.CellSettings):
    """What a GRU layer needs beyond sizes."""

    variant: str  # reset_after | reset_before


def settings(cell: Spec) -> Settings:
    return Settings(variant=cell.variant)


def params(prefix: str, cell: Spec, input_size: int, make: Make) -> tuple[ir.Param, ...]:
    docs = {"z": "update gate", "r": "reset gate", "n": "candidate state"}
    out = make.gates(prefix, cell, input_size, docs)
    if cell.bias:  # bhn sits on the recurrent side of the candidate (inside r in reset_after)
        h, init = cell.hidden_size, cell.init
        out.append(make.bias(f"{prefix}.bhn", h, init.bias, "recurrent-side candidate bias",
                             init.scale, h))
    return tuple(out)


def state_sizes(cell: Spec) -> tuple[int, ...]:
    return (cell.hidden_size,)


def step_output_size(cell: Spec) -> int:
    return cell.hidden_size


def features(cell: Spec, path: SpecPath) -> list[tuple[str, SpecPath]]:
    return [(KIND, path), (f"gru_{cell.variant}", path)]
