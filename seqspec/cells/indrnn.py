"""IndRNN (Li et al. 2018): every hidden unit has its own scalar recurrent weight.

``h_t = act(Wx_h x_t + u_h * h_{t-1} + b_h)``, with ``u_h`` a vector (H,) and ``*`` the
elementwise product, so unit k only ever sees its own past: the gradient through T steps is
``prod_t u_k act'(.)``, which a bound on ``|u_k|`` keeps from exploding or vanishing.

- ``u_h`` is drawn from U(0, min(init.scale, recurrent_max)) (``positive_uniform``): U(0, 1)
  by default, the default of the authors' PyTorch implementation, and always inside the
  bound. ``init.recurrent`` names a matrix initialiser and does not apply.
- ``recurrent_max`` (optional) is ``u_h``'s bound (``ir.Param.bound``): every backend's
  trainer clips ``u_h`` to ``[-recurrent_max, recurrent_max]`` after every optimizer update,
  as the paper does. The forward pass uses ``u_h`` as it is, so the equations are exact for
  any weights, loaded ones included. For relu and T steps the paper uses ``2 ** (1 / T)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from seqspec import ir
from seqspec.cells.base import CellBase, Make
from seqspec.errors import SpecPath

KIND = "indrnn"
ORDER = 4  # where the kind is listed: the Cell union, schema, error messages
DESCRIPTION = "IndRNN: an elementwise recurrent weight per hidden unit"
CITATION = ("Li, S., Li, W., Cook, C., Zhu, C., Gao, Y. (2018). Independently recurrent neural "
            "network (IndRNN): building a longer and deeper RNN. CVPR 2018.")
EQUATIONS = "h_t = act(Wx_h x_t + u_h * h_{t-1} + b_h)    (u_h: (H,), * elementwise)"
FEATURES = frozenset({"indrnn"})
GATES = ("h",)
STATES = ("h",)


class IndRNNCell(CellBase):
    """IndRNN (Li et al. 2018): h_t = act(Wx x_t + u * h_{t-1} + b), u a vector (H,).

    u starts in U(0, 1) (capped at recurrent_max); with recurrent_max, u is clipped to
    [-recurrent_max, recurrent_max] after every optimizer update.
    """

    cell: Literal["indrnn"] = Field(description="The cell kind.")
    activation: Literal["relu", "tanh"] = Field("relu", description="The hidden nonlinearity.")
    recurrent_max: float | None = Field(
        None,
        gt=0,
        le=100,
        description="Bound on |u|, enforced after every optimizer update (the paper uses "
        "2 ** (1 / T) with relu for T steps); none by default.",
    )


Spec = IndRNNCell


@dataclass(frozen=True, slots=True)
class Settings(ir.CellSettings):
    """What an IndRNN layer needs beyond sizes."""

    activation: str  # relu | tanh
    recurrent_max: float | None  # |u_h| <= recurrent_max after every update; None: no bound


def settings(cell: Spec) -> Settings:
    return Settings(activation=cell.activation, recurrent_max=cell.recurrent_max)


def params(prefix: str, cell: Spec, input_size: int, make: Make) -> tuple[ir.Param, ...]:
    """Wx_h (H, I), u_h (H,), b_h (H): the canonical parameters of one direction."""
    h, init, bound = cell.hidden_size, cell.init, cell.recurrent_max
    high = init.scale if bound is None else min(init.scale, bound)  # U(0, high): inside the bound
    out = [
        make.param(f"{prefix}.Wx_h", (h, input_size), init.input, "input -> hidden",
                   scale=init.scale),
        ir.Param(f"{prefix}.u_h", (h,), "positive_uniform",
                 "elementwise hidden -> hidden (each unit's own past), U(0, scale)",
                 scale=high, fan_in=h, fan_out=h, bound=bound),
    ]
    if cell.bias:
        out.append(make.bias(f"{prefix}.b_h", h, init.bias, "hidden bias", init.scale, h))
    return tuple(out)


def state_sizes(cell: Spec) -> tuple[int, ...]:
    return (cell.hidden_size,)


def step_output_size(cell: Spec) -> int:
    return cell.hidden_size


def features(cell: Spec, path: SpecPath) -> list[tuple[str, SpecPath]]:
    return [(KIND, path)]
