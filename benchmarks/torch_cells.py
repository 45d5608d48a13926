"""Benchmark the generated PyTorch models against hand-written torch layers.

B=32, T=100, I=64, H=128, float32, forward + backward of sum(outputs * G), CPU by default,
``torch.set_num_threads`` left at torch's default (printed). Each model is a many-to-many
stack of one layer with a linear head (H -> 1), and each baseline is the same: the
hand-written layer plus an ``nn.Linear(H, 1)``, so the recurrent parts compare like for like.

* fused cells: the generated LSTM / GRU (reset-after) / Elman tanh models run nn.LSTM /
  nn.GRU / nn.RNN; the baseline is that torch layer itself. Target <= 1.05x.
* explicit cells: the generated peephole LSTM, Jordan (output size H) and reset-before GRU
  models against nn.LSTM of the same size. Target <= 2.0x. Printed for comparison: a Python
  loop over nn.LSTMCell (the usual hand-written alternative), and the generated peephole
  LSTM's own math in a plain loop differentiated by autograd (what the hand-written backward
  pass of the generated code saves).

The cases run in turn inside each repeat, and a ratio is the median over repeats of the two
times measured in the same repeat, so a slow spell of a shared machine hits both sides.
Run: ``python benchmarks/torch_cells.py [--repeats N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
B, T, IN, H = 32, 100, 64, 128  # batch, steps, input size, hidden size

CELLS = {
    "lstm": "{cell: lstm, hidden_size: %(H)d}",
    "gru": "{cell: gru, hidden_size: %(H)d, variant: reset_after}",
    "elman": "{cell: elman, hidden_size: %(H)d, activation: tanh}",
    "peephole_lstm": "{cell: lstm, hidden_size: %(H)d, peepholes: true}",
    "jordan": "{cell: jordan, hidden_size: %(H)d, output_size: %(H)d}",
    "gru_reset_before": "{cell: gru, hidden_size: %(H)d, variant: reset_before}",
}

SPEC = """\
seqspec: 1
name: bench_%(name)s
model:
  scheme: many_to_many
  input: {kind: features, size: %(I)d}
  layers:
    - %(cell)s
  head: {kind: regression, outputs: 1}
"""

#: (generated model, baseline, target ratio)
PAIRS = [
    ("lstm", "nn.LSTM", 1.05),
    ("gru", "nn.GRU", 1.05),
    ("elman", "nn.RNN", 1.05),
    ("peephole_lstm", "nn.LSTM", 2.0),
    ("jordan", "nn.LSTM", 2.0),
    ("gru_reset_before", "nn.LSTM", 2.0),
    ("nn.LSTMCell loop", "nn.LSTM", None),
    ("peephole autograd", "nn.LSTM", None),
]


def generated_models(device: str, dtype: str, folder: Path) -> dict[str, object]:
    """Compile and build every generated model of CELLS (seeded weights)."""
    from seqspec.backends.torch.runner import load_module

    import seqspec
    from seqspec.weights import init_weights

    models = {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, cell in CELLS.items():
        spec = folder / f"{name}.yaml"
        spec.write_text(SPEC % {"name": name, "I": IN, "cell": cell % {"H": H}}, encoding="utf-8")
        seqspec.compile_spec(spec, "torch", folder / name)
        module = load_module(folder / name)
        weights = init_weights(seqspec.lower_file(spec), seed=0)
        models[name] = module.Model(weights, dtype=dtype, device=device)
    return models


class PeepholeAutograd:
    """The generated peephole LSTM's math as a plain loop that autograd differentiates: what
    the generated code would be without its hand-written backward pass (for comparison)."""

    def __init__(self, torch, model) -> None:
        self.torch, self.model = torch, model
        self.cell = model.encoder[0]

    def __call__(self, x):
        torch, cell = self.torch, self.cell
        xw = torch.nn.functional.linear(x.transpose(0, 1), cell.weight_ih, cell.bias)
        h = c = x.new_zeros(x.shape[0], H)
        w_t, outs = cell.weight_hh.t(), []
        for t in range(x.shape[1]):
            a_i, a_f, a_g, a_o = torch.addmm(xw[t], h, w_t).chunk(4, dim=1)
            i = torch.sigmoid(a_i + cell.p_i * c)
            f = torch.sigmoid(a_f + cell.p_f * c)
            c = f * c + i * torch.tanh(a_g)
            h = torch.sigmoid(a_o + cell.p_o * c) * torch.tanh(c)
            outs.append(h)
        return self.model.head(torch.stack(outs, dim=1))

    def parameters(self):
        return list(self.model.parameters())


class LayerAndHead:
    """A hand-written baseline: a torch recurrent layer and a linear head, batch first."""

    def __init__(self, torch, kind: str, device: str, dtype) -> None:
        nn = torch.nn
        self.torch = torch
        if kind == "nn.LSTMCell loop":
            self.cell = nn.LSTMCell(IN, H, device=device, dtype=dtype)
            self.rnn = None
        else:
            layer = {"nn.LSTM": nn.LSTM, "nn.GRU": nn.GRU, "nn.RNN": nn.RNN}[kind]
            self.rnn = layer(IN, H, batch_first=True, device=device, dtype=dtype)
        self.head = nn.Linear(H, 1, device=device, dtype=dtype)

    def __call__(self, x):
        if self.rnn is not None:
            z, _ = self.rnn(x)
        else:  # the Python loop a person writes around nn.LSTMCell
            h = c = x.new_zeros(x.shape[0], H)
            outs = []
            for t in range(x.shape[1]):
                h, c = self.cell(x[:, t], (h, c))
                outs.append(h)
            z = self.torch.stack(outs, dim=1)
        return self.head(z)

    def parameters(self):
        mods = [m for m in (self.rnn, getattr(self, "cell", None), self.head) if m is not None]
        return [p for m in mods for p in m.parameters()]


def step_fn(torch, model, x, g) -> Callable[[], None]:
    """One training step's worth of work: forward, then backward of sum(outputs * G)."""
    params = list(model.parameters())

    def step() -> None:
        for p in params:
            p.grad = None
        y = model(x)
        y = y[0] if isinstance(y, tuple) else y
        (y * g).sum().backward()

    return step


def measure(steps: dict[str, Callable[[], None]], repeats: int,
            sync: Callable[[], None]) -> dict[str, list[float]]:
    """Seconds per call of each step, ``repeats`` times; the steps alternate in every repeat."""
    for fn in steps.values():  # warm-up (allocators, oneDNN primitives, cuDNN plans)
        for _ in range(2):
            fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def build_steps(torch, device: str, dtype: str, folder: Path) -> dict[str, Callable[[], None]]:
    """The step of every generated model and every baseline, on the same batch."""
    torch.manual_seed(0)
    tdtype = getattr(torch, dtype)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(-1, 1, size=(B, T, IN)), dtype=tdtype, device=device)
    g = torch.tensor(rng.normal(size=(B, T, 1)), dtype=tdtype, device=device)
    steps = {}
    models = generated_models(device, dtype, folder)
    for name, model in models.items():
        steps[name] = step_fn(torch, model, x, g)
    steps["peephole autograd"] = step_fn(torch, PeepholeAutograd(torch, models["peephole_lstm"]),
                                         x, g)
    for kind in ("nn.LSTM", "nn.GRU", "nn.RNN", "nn.LSTMCell loop"):
        steps[kind] = step_fn(torch, LayerAndHead(torch, kind, device, tdtype), x, g)
    return steps


def report(times: dict[str, list[float]]) -> list[tuple[str, str, float, float | None, bool]]:
    """Print the table; return (case, baseline, ratio, target, ok) rows.

    A ratio is the median over repeats of (case time / baseline time) within the same repeat:
    two runs seconds apart see the same machine, which a ratio of medians does not ensure.
    """
    print(f"{'case':<20} {'median ms':>10}   {'vs':<8} {'ratio':>6}  target")
    rows = []
    for case, base, target in PAIRS:
        ratio = statistics.median(a / b for a, b in zip(times[case], times[base], strict=True))
        ok = target is None or ratio <= target
        rows.append((case, base, ratio, target, ok))
        mark = "" if target is None else f"<= {target:.2f} {'ok' if ok else 'MISSED'}"
        ms = 1e3 * statistics.median(times[case])
        print(f"{case:<20} {ms:10.2f}   {base:<8} {ratio:6.2f}  {mark}")
    for base in ("nn.LSTM", "nn.GRU", "nn.RNN"):
        print(f"{base:<20} {1e3 * statistics.median(times[base]):10.2f}   (baseline)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} threads "
          f"(torch.get_num_threads), B={B} T={T} I={IN} H={H}, float32, forward + backward, "
          f"median of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        steps = build_steps(torch, "cpu", "float32", Path(tmp))
        times = measure(steps, args.repeats, lambda: None)
    rows = report(times)
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
