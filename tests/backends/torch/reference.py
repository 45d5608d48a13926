"""Independent float64 oracles for the torch tests: naive step-by-step loops in torch.

Written from the canonical equations (docs and seqspec/ir.py), one sequence at a time, with
no packing, masking or fused layer: a variable-length batch is checked row by row against
each sequence run alone. Gradients come from autograd through these loops.
"""

from __future__ import annotations

import torch

ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
       "linear": lambda a: a}


def leaf_weights(weights):
    """Canonical weights as float64 leaf tensors that collect gradients."""
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in weights.items()}


def _lin(w, p, name, x):
    """W x (+ b): x is (I,) floats, or an int token read as a one-hot vector."""
    return w[f"{p}.{name}"][:, x] if isinstance(x, int) else w[f"{p}.{name}"] @ x


def _bias(w, key):
    return w.get(key, 0.0)


def cell_step(layer, w, p, x, state):
    """One step of ``layer`` (an ir.Layer) in direction prefix p: (output, new state)."""
    if layer.cell == "elman":
        (h,) = state
        h = ACT[layer.activation](_lin(w, p, "Wx_h", x) + w[f"{p}.Wh_h"] @ h + _bias(w, f"{p}.b_h"))
        return h, (h,)
    if layer.cell == "jordan":
        y, s = state
        s = layer.context_decay * s + y
        h = ACT[layer.activation](_lin(w, p, "Wx_h", x) + w[f"{p}.Wy_h"] @ s + _bias(w, f"{p}.b_h"))
        y = ACT[layer.output_activation](w[f"{p}.Wo"] @ h + _bias(w, f"{p}.bo"))
        return y, (y, s)
    if layer.cell == "lstm":
        h, c = state
        a = {g: _lin(w, p, f"Wx_{g}", x) + w[f"{p}.Wh_{g}"] @ h + _bias(w, f"{p}.b_{g}")
             for g in "ifgo"}
        peep = layer.peepholes
        i = torch.sigmoid(a["i"] + (w[f"{p}.p_i"] * c if peep else 0.0))
        f = torch.sigmoid(a["f"] + (w[f"{p}.p_f"] * c if peep else 0.0))
        c = f * c + i * torch.tanh(a["g"])
        o = torch.sigmoid(a["o"] + (w[f"{p}.p_o"] * c if peep else 0.0))
        h = o * torch.tanh(c)
        return h, (h, c)
    (h,) = state  # gru
    z = torch.sigmoid(_lin(w, p, "Wx_z", x) + w[f"{p}.Wh_z"] @ h + _bias(w, f"{p}.b_z"))
    r = torch.sigmoid(_lin(w, p, "Wx_r", x) + w[f"{p}.Wh_r"] @ h + _bias(w, f"{p}.b_r"))
    xn = _lin(w, p, "Wx_n", x) + _bias(w, f"{p}.b_n")
    bhn = _bias(w, f"{p}.bhn")
    if layer.gru_variant == "reset_after":
        n = torch.tanh(xn + r * (w[f"{p}.Wh_n"] @ h + bhn))
    else:
        n = torch.tanh(xn + bhn + w[f"{p}.Wh_n"] @ (r * h))
    h = z * h + (1 - z) * n
    return h, (h,)


def merge(fw, bw, mode):
    if mode == "concat":
        return torch.cat([fw, bw])
    if mode == "sum":
        return fw + bw
    if mode == "ave":
        return (fw + bw) / 2
    return fw * bw


def run_stack(stack, w, xs, state=None):
    """One sequence alone: xs a list of per-step inputs (valid steps only).

    Returns (top-layer outputs, a list of per-step tensors; final states {key: (S,)}).
    """
    state = state or {}
    final = {}
    for layer in stack.layers:
        per_dir = []
        for d in layer.directions:
            st = tuple(state.get(f"{d.prefix}.{n}", torch.zeros(s, dtype=torch.float64))
                       for n, s in zip(layer.state_names, layer.state_sizes, strict=True))
            order = range(len(xs)) if d.name == "forward" else range(len(xs) - 1, -1, -1)
            outs = [None] * len(xs)
            for t in order:
                outs[t], st = cell_step(layer, w, d.prefix, xs[t], st)
            final.update({f"{d.prefix}.{n}": v for n, v in zip(layer.state_names, st, strict=True)})
            per_dir.append(outs)
        if layer.bidirectional:
            xs = [merge(f, b, layer.merge_mode) for f, b in zip(*per_dir, strict=True)]
        else:
            xs = per_dir[0]
    return xs, final


def valid_steps(row, n, padding):
    """The valid part of one padded row (a tensor (T, ...) or a list), and its positions."""
    steps = len(row)
    where = range(n) if padding == "right" else range(steps - n, steps)
    return [row[t] for t in where], list(where)
