"""Benchmark the generated NumPy LSTM against torch.nn.LSTM on the CPU.

One LSTM layer, B=32, T=100, I=64, H=128, float32, in the same process:

* forward: the generated layer's forward pass (input projection, time loop, what backward
  needs kept) vs ``torch.nn.LSTM`` forward under ``torch.no_grad()``;
* forward + BPTT: the generated forward and hand-written backward (all parameter gradients and
  dL/dx) vs torch forward + ``backward()`` of the same loss, sum(outputs * G).

Prints the median of several repeats (the two alternate call by call) and the ratios
(targets: forward <= 2x, forward + BPTT <= 3x).

    python benchmarks/numpy_lstm.py [--repeats N] [--threads N]   (N: torch's and BLAS's)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SPEC = """\
seqspec: 1
name: bench_lstm
model:
  scheme: many_to_many
  input: {kind: features, size: %(I)d}
  layers:
    - {cell: lstm, hidden_size: %(H)d}
  head: {kind: regression, outputs: 1}
"""


def time_once(fn) -> float:
    """Wall time of one call of fn(), in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn, repeats: int) -> float:
    """Median wall time of fn() in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_layer(B: int, T: int, n_in: int, H: int, workdir: Path):
    """The compiled model's LSTM layer with seeded weights, and a float32 input batch."""
    from seqspec.backends.numpy.runner import load_module

    import seqspec

    spec = workdir / "bench_lstm.yaml"
    spec.write_text(SPEC % {"I": n_in, "H": H})
    seqspec.compile_spec(spec, "numpy", workdir / "out")
    module = load_module(workdir / "out")
    model = module.Model(module.init_weights(0), dtype="float32")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(B, T, n_in)).astype(np.float32)
    return module, model, x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch's threads and NumPy's BLAS threads (0: their defaults)")
    parser.add_argument("-B", type=int, default=32)
    parser.add_argument("-T", type=int, default=100)
    parser.add_argument("-I", type=int, default=64)
    parser.add_argument("-H", type=int, default=128)
    args = parser.parse_args()
    B, T, n_in, H = args.B, args.T, args.I, args.H
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare against", file=sys.stderr)
        return 1
    blas = "BLAS threads default"
    if args.threads:
        torch.set_num_threads(args.threads)
        # NumPy's BLAS too: else on a shared machine one side runs on more cores than the other
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            print("threadpoolctl is not installed: --threads leaves NumPy's BLAS threads as they "
                  "are (or set OPENBLAS_NUM_THREADS)", file=sys.stderr)
        else:
            threadpool_limits(limits=args.threads, user_api="blas")
            blas = f"BLAS threads {args.threads}"

    with tempfile.TemporaryDirectory() as tmp:
        module, model, x = numpy_layer(B, T, n_in, H, Path(tmp))
        layer = model.encoder.layers[0]
        xc = module.columns(x)  # (T, I, B): the layout inside the model
        G = np.random.default_rng(1).normal(size=(T, H, B)).astype(np.float32)
        zero = np.zeros((H, B), np.float32)
        start = [(zero, zero)]

        def np_forward():
            layer.forward(xc, start, None)

        def np_forward_backward():
            layer.forward(xc, start, None)
            layer.backward(G, [(zero, zero)], None)

        def np_model_forward_backward():
            out, _ = model.forward(x)
            model.backward(np.ones_like(out))

        lstm = torch.nn.LSTM(n_in, H, batch_first=True)
        xt = torch.from_numpy(x)
        xg = xt.clone().requires_grad_(True)
        Gt = torch.from_numpy(np.ascontiguousarray(G.transpose(2, 0, 1)))  # (B, T, H)

        def torch_forward():
            with torch.no_grad():
                lstm(xt)

        def torch_forward_backward():
            lstm.zero_grad()
            y, _ = lstm(xg)
            (y * Gt).sum().backward()

        rows = []
        for name, np_fn, torch_fn in (
            ("forward", np_forward, torch_forward),
            ("forward + BPTT", np_forward_backward, torch_forward_backward),
        ):
            np_fn(), torch_fn()  # warm up
            # Alternate the two, call by call, so that a busy neighbour slows both alike; the
            # ratio is the median of the per-pair ratios.
            t_np, t_torch = [], []
            for _ in range(args.repeats):
                t_np.append(time_once(np_fn))
                t_torch.append(time_once(torch_fn))
            ratio = statistics.median(a / b for a, b in zip(t_np, t_torch, strict=True))
            rows.append((name, t_np, t_torch, ratio))
        t_model = median_time(np_model_forward_backward, max(3, args.repeats // 4))

    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    print(f"LSTM B={B} T={T} I={n_in} H={H} float32; numpy {np.__version__} ({blas}), torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads); OPENBLAS_CORETYPE="
          f"{coretype}")
    print(f"{'':16}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}   (median; min numpy, torch)")
    for name, t_np, t_torch, ratio in rows:
        print(f"{name:16}{statistics.median(t_np) * 1e3:10.2f}"
              f"{statistics.median(t_torch) * 1e3:10.2f}{ratio:8.2f}   "
              f"({min(t_np) * 1e3:.2f}, {min(t_torch) * 1e3:.2f})")
    print(f"whole generated model (layer + head), forward + backward: {t_model * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
