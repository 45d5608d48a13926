"""LSTM (Hochreiter & Schmidhuber 1997; forget gate Gers et al. 2000; peepholes Gers &
Schmidhuber 2000)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from seqspec import ir
from seqspec.cells.base import CellBase, Make
from seqspec.errors import SpecPath

KIND = "lstm"
ORDER = 2  # where the kind is listed: the Cell union, schema, error messages
DESCRIPTION = "long short-term memory: a gated cell state, optionally with peepholes"
CITATION = ("Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural "
            "Computation 9(8); forget gate: Gers, Schmidhuber & Cummins (2000); peepholes: "
            "Gers & Schmidhuber (2000).")
EQUATIONS = """\
i_t = σ(a_i + p_i ⊙ c_{t-1})
f_t = σ(a_f + p_f ⊙ c_{t-1})
g_t = tanh(a_g)
c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
o_t = σ(a_o + p_o ⊙ c_t)
h_t = o_t ⊙ tanh(c_t)"""
FEATURES = frozenset({"lstm", "lstm_peepholes"})
GATES = ("i", "f", "g", "o")
STATES = ("h", "c")


class LSTMCell(CellBase):
    """LSTM with forget gate; gate order i, f, g, o.

    i = sig(a_i + p_i*c_{t-1})  f = sig(a_f + p_f*c_{t-1})  g = tanh(a_g)
    c_t = f*c_{t-1} + i*g       o = sig(a_o + p_o*c_t)      h_t = o*tanh(c_t)
    (the p terms only with peepholes: true, Gers & Schmidhuber 2000)
    """

    cell: Literal["lstm"] = Field(description="The cell kind.")
    peepholes: bool = Field(
        False,
        description="Peephole connections: input and forget gates see c_{t-1}, "
        "the output gate sees c_t.",
    )
    forget_bias: float = Field(
        1.0, ge=-100, le=100, description="Initial value of the forget-gate bias b_f."
    )


Spec = LSTMCell


@dataclass(frozen=True, slots=True)
class Settings(ir.CellSettings):
    """What an LSTM layer needs beyond sizes."""

    peepholes: bool
    forget_bias: float


def settings(cell: Spec) -> Settings:
    return Settings(peepholes=cell.peepholes, forget_bias=cell.forget_bias)


def params(prefix: str, cell: Spec, input_size: int, make: Make) -> tuple[ir.Param, ...]:
    h = cell.hidden_size
    docs = {"i": "input gate", "f": "forget gate", "g": "candidate cell", "o": "output gate"}
    forget = ir.Param(f"{prefix}.b_f", (h,), "constant", "forget gate bias (starts at "
                      "forget_bias)", value=cell.forget_bias)
    out = make.gates(prefix, cell, input_size, docs, biases={"f": forget})
    if cell.peepholes:
        for g in ("i", "f", "o"):
            out.append(ir.Param(f"{prefix}.p_{g}", (h,), "uniform", f"peephole cell -> "
                                f"{docs[g]}", scale=cell.init.scale, fan_in=h, fan_out=h))
    return tuple(out)


def state_sizes(cell: Spec) -> tuple[int, ...]:
    return (cell.hidden_size, cell.hidden_size)


def step_output_size(cell: Spec) -> int:
    return cell.hidden_size


def features(cell: Spec, path: SpecPath) -> list[tuple[str, SpecPath]]:
    out = [(KIND, path)]
    if cell.peepholes:
        out.append(("lstm_peepholes", (*path, "peepholes")))
    return out


def check(cell: Spec, path: SpecPath, error: Callable[[SpecPath, str], None]) -> None:
    """forget_bias initialises b_f: meaningless without biases."""
    if not cell.bias and "forget_bias" in cell.model_fields_set:
        error((*path, "forget_bias"), "forget_bias sets the forget-gate bias, and this cell "
              "has bias: false")
