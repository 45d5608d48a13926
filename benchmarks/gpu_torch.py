"""The torch backend on a CUDA GPU: cuDNN path, equivalence with NumPy, speed ratios.

1. cuDNN: ``torch.backends.cudnn`` is enabled and the fused models dispatch to it: the
   profiler records ``aten::_cudnn_rnn`` (forward) and ``aten::_cudnn_rnn_backward``, and
   the CUDA kernels it lists include cuDNN's RNN kernels, for a plain and a packed batch.
2. Equivalence: every example, canonical ``random_weights`` and ``make_inputs``, on the GPU
   in float64 (<= 1e-9) and float32 with TF32 off (<= 1e-5; gradients above 1 relative to
   their largest entry) against the NumPy reference: outputs, final states, gradients of
   every parameter and float input.
3. Speed: the ratios of benchmarks/torch_cells.py (B=32, T=100, I=64, H=128, float32,
   forward + backward) on the GPU, and one bf16 autocast step per model kind.

TF32 is switched off with the API torch offers for cuDNN RNNs (``cudnn.rnn.fp32_precision``
on torch >= 2.9, else the legacy ``cudnn.allow_tf32``; never both, which torch refuses), and
likewise for matmuls. Without a GPU it says so and exits 0; ``--cpu`` runs steps 2 and 3 on
the CPU instead (to check this script where there is no GPU). Budget: well under 5 minutes.
Run: ``python benchmarks/gpu_torch.py [--cpu] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import torch_cells  # noqa: E402  (the benchmark next to this file)

TOLERANCE = {"float64": 1e-9, "float32": 1e-5}


def ieee_float32(torch) -> str:
    """Switch TF32 off for cuDNN RNNs and matmuls (one API per backend); say which API."""
    rnn = getattr(getattr(torch.backends.cudnn, "rnn", None), "fp32_precision", None)
    if rnn is not None:  # torch >= 2.9: the per-operation precision API
        torch.backends.cudnn.rnn.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        return "torch.backends.cudnn.rnn.fp32_precision = 'ieee' (and cuda.matmul)"
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    return "torch.backends.cudnn.allow_tf32 = False (and cuda.matmul)"


def check_cudnn(torch, device: str, folder: Path) -> bool:
    """Profile a fused model forward + backward, plain and packed: is cuDNN doing the work?"""
    from seqspec.backends.torch.runner import load_module

    import seqspec
    from seqspec.testing import make_inputs
    from seqspec.weights import random_weights

    print(f"cudnn enabled: {torch.backends.cudnn.enabled}, "
          f"available: {torch.backends.cudnn.is_available()}, "
          f"version: {torch.backends.cudnn.version()}")
    ok = bool(torch.backends.cudnn.enabled)
    for name in ("char_lstm", "gru_reset_after", "bidirectional_gru_tagger"):
        example = ROOT / "examples" / f"{name}.yaml"
        model_ir = seqspec.lower_file(example)
        seqspec.compile_spec(example, "torch", folder / name)
        model = load_module(folder / name).Model(random_weights(model_ir, 0), device=device)
        inputs = make_inputs(model_ir, batch=8, steps=12, dtype="float32")  # lengths: packed
        activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
        with torch.profiler.profile(activities=activities) as prof:
            y, _ = model(**inputs)
            y.float().sum().backward()
            torch.cuda.synchronize()
        names = {e.key for e in prof.key_averages()}
        ops = sorted(n for n in names if "cudnn_rnn" in n)
        kernels = sorted(n for n in names if "rnn" in n.lower() and not n.startswith("aten::"))
        found = "aten::_cudnn_rnn" in names and "aten::_cudnn_rnn_backward" in names
        ok = ok and found
        print(f"  {name}: {'cuDNN' if found else 'NOT cuDNN'}; ops {ops}; "
              f"kernels {[k[:60] for k in kernels[:4]]}")
    return ok


def check_equivalence(torch, device: str, folder: Path) -> bool:
    """Every example on ``device`` against the NumPy reference (float64 and float32)."""
    from seqspec.backends.numpy.runner import run as run_numpy
    from seqspec.backends.torch.runner import run as run_torch

    import seqspec
    from seqspec.testing import make_inputs, output_cotangent
    from seqspec.weights import random_weights

    ok = True
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        model = seqspec.lower_file(example)
        for backend in ("numpy", "torch"):
            seqspec.compile_spec(example, backend, folder / f"{example.stem}-{backend}")
        weights = random_weights(model, seed=0)
        inputs = make_inputs(model, batch=3, steps=7, seed=0)
        first = run_numpy(folder / f"{example.stem}-numpy", weights, inputs)
        g = output_cotangent(first["outputs"]["outputs"].shape)
        want = run_numpy(folder / f"{example.stem}-numpy", weights, inputs, g, "float64")
        errors = []
        for dtype in ("float64", "float32"):
            cast = {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in inputs.items()}
            got = run_torch(folder / f"{example.stem}-torch", weights, cast, g, dtype,
                            device=device)
            err = 0.0
            for part in ("outputs", "states", "grads"):
                if sorted(got[part]) != sorted(want[part]):
                    print(f"  {example.stem}: {part} keys differ: "
                          f"{sorted(set(got[part]) ^ set(want[part]))}")
                    err = float("inf")
                    continue
                for key, value in want[part].items():
                    diff = np.abs(np.asarray(got[part][key], np.float64) - value)
                    if not diff.size:
                        continue
                    # float32 gradients above 1 in size: relative to their largest entry
                    scale = 1.0
                    if part == "grads" and dtype == "float32":
                        scale = max(1.0, float(np.abs(value).max()))
                    err = max(err, float(diff.max()) / scale)
            errors.append(err)
            ok = ok and err <= TOLERANCE[dtype]
        flag = "ok" if errors[0] <= 1e-9 and errors[1] <= 1e-5 else "FAILED"
        print(f"  {example.stem:<34} float64 {errors[0]:.1e}  float32 {errors[1]:.1e}  {flag}")
    return ok


def check_autocast(torch, device: str, folder: Path) -> bool:
    """One bf16 autocast step per model kind: bf16 outputs, finite, every parameter a grad."""
    models = torch_cells.generated_models(device, "float32", folder)
    x = torch.rand(torch_cells.B, torch_cells.T, torch_cells.IN, device=device)
    ok = True
    for name, model in models.items():
        model.autocast = "bfloat16"
        y, _ = model(x)
        y.float().sum().backward()
        good = y.dtype == torch.bfloat16 and bool(torch.isfinite(y).all()) and all(
            p.grad is not None for p in model.parameters())
        ok = ok and good
        print(f"  {name:<18} {y.dtype}  {'ok' if good else 'FAILED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true",
                        help="no GPU: run the equivalence and speed steps on the CPU")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("gpu_torch: torch is not installed; nothing to check")
        return 0
    if not torch.cuda.is_available() and not args.cpu:
        print(f"gpu_torch: no CUDA GPU (torch {torch.__version__}, "
              f"cuda {torch.version.cuda}); skipped. Use --cpu to run the CPU-side checks.")
        return 0
    device = "cpu" if args.cpu else "cuda"
    start = time.perf_counter()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if device == "cuda":
            print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, "
                  f"CUDA {torch.version.cuda}")
            print(f"TF32 off: {ieee_float32(torch)}")
            print("1. cuDNN path")
            ok = check_cudnn(torch, device, folder) and ok
        else:
            print(f"torch {torch.__version__}, CPU (--cpu): the cuDNN check is skipped")
        print(f"2. equivalence with the NumPy reference on {device}")
        ok = check_equivalence(torch, device, folder) and ok
        print(f"3. speed on {device}: B={torch_cells.B} T={torch_cells.T} I={torch_cells.IN} "
              f"H={torch_cells.H}, float32, forward + backward, {args.repeats} repeats")
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        steps = torch_cells.build_steps(torch, device, "float32", folder / "speed")
        torch_cells.report(torch_cells.measure(steps, args.repeats, sync))
        print("   bf16 autocast")
        ok = check_autocast(torch, device, folder / "autocast") and ok
    print(f"{'all checks passed' if ok else 'SOME CHECKS FAILED'} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
