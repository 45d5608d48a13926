"""GPU checks of the generated Keras models: the cuDNN kernel, equivalence, speed.

Where TensorFlow sees a GPU:

1. cuDNN: trace the generated models' compiled forward and gradient functions and look for
   the CudnnRNN ops (forward and backprop) for LSTM and reset_after GRU layers: fixed length,
   variable length (right and left padding; left is rotated to right padding first) and
   bidirectional. Peephole, Jordan, reset_before GRU and SimpleRNN layers have no cuDNN kernel
   and must run the generic loop, so none should appear there.
2. Equivalence on the GPU with TF32 off: every example's outputs, final states and gradients
   (runner, GradientTape) against the NumPy reference backend on the CPU, float64 <= 1e-9 and
   float32 <= 1e-5.
3. Speed: the ratios of benchmarks/tf_cells.py (generated vs hand-written Keras), on the GPU.

Without a GPU it says so and exits 0. ``--cpu`` runs the same checks on the CPU (cuDNN
absent there), which exercises this script anywhere. Takes well under 5 minutes.

    python benchmarks/gpu_tensorflow.py [--repeats N] [--cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CUDNN_FORWARD = ("CudnnRNN", "CudnnRNNV2", "CudnnRNNV3")
CUDNN_BACKWARD = ("CudnnRNNBackprop", "CudnnRNNBackpropV2", "CudnnRNNBackpropV3")

# spec layer, input, and whether cuDNN should run it
CUDNN_CASES = [
    ("lstm", "{cell: lstm, hidden_size: 32}", "right", True),
    ("lstm_left", "{cell: lstm, hidden_size: 32}", "left", True),
    ("lstm_bidirectional", "{cell: lstm, hidden_size: 32, bidirectional: true}", "right", True),
    ("gru_reset_after", "{cell: gru, hidden_size: 32}", "right", True),
    ("gru_reset_before", "{cell: gru, hidden_size: 32, variant: reset_before}", "right", False),
    ("lstm_no_bias", "{cell: lstm, hidden_size: 32, bias: false}", "right", False),
    ("peephole_lstm", "{cell: lstm, hidden_size: 32, peepholes: true}", "right", False),
    ("jordan", "{cell: jordan, hidden_size: 32, output_size: 8}", "right", False),
    ("elman", "{cell: elman, hidden_size: 32}", "right", False),
]

SPEC = """\
seqspec: 1
name: gpu_{name}
model:
  scheme: many_to_many
  input: {{kind: features, size: 8, variable_length: true, padding: {padding}}}
  layers:
    - {cell}
  head: {{kind: regression, outputs: 1}}
"""


def op_types(concrete) -> set[str]:
    """Every op type in a concrete function's graph, nested functions (while bodies) included."""
    graph_def = concrete.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types.update(node.op for node in function.node_def)
    return types


def check_cudnn(work: Path) -> bool:
    """Trace forward and gradients with lengths and without; report the CudnnRNN ops."""
    import tensorflow as tf
    from seqspec.backends.tensorflow.runner import load_module

    import seqspec
    from seqspec.testing import make_inputs, output_cotangent
    from seqspec.weights import random_weights

    ok = True
    print("cuDNN kernels in the traced graphs (forward / gradient):")
    for name, cell, padding, expect in CUDNN_CASES:
        spec = work / f"{name}.yaml"
        spec.write_text(SPEC.format(name=name, cell=cell, padding=padding))
        seqspec.compile_spec(spec, "tensorflow", work / name)
        ir_model = seqspec.lower_file(spec)
        model = load_module(work / name).Model(random_weights(ir_model), dtype="float32")
        found = []
        for with_lengths in (True, False):
            inputs = make_inputs(ir_model, batch=4, steps=9, dtype="float32")
            if not with_lengths:
                inputs.pop("lengths")
            prepared = model._prepare(inputs)
            d_out = tf.constant(output_cotangent((4, 9, 1), dtype="float32"))
            fwd = op_types(model.forward_fn.get_concrete_function(prepared, False))
            bwd = op_types(model.gradients_fn.get_concrete_function(prepared, d_out, False))
            found.append((bool(fwd & set(CUDNN_FORWARD)), bool(bwd & set(CUDNN_BACKWARD))))
        used = all(f and b for f, b in found)
        unused = not any(f or b for f, b in found)
        good = used if expect else unused
        ok &= good
        marks = ", ".join(f"{'lengths' if i == 0 else 'fixed'} {f}/{b}"
                          for i, (f, b) in enumerate(found))
        want = "cuDNN" if expect else "generic loop"
        print(f"  {name:20s} expected {want:12s} {marks:42s} {'ok' if good else 'MISMATCH'}")
    return ok


def check_equivalence(work: Path) -> bool:
    """Every example on this device vs the NumPy reference backend (float64 on the CPU)."""
    from seqspec.backends.numpy import runner as numpy_runner
    from seqspec.backends.tensorflow import runner as tf_runner

    import seqspec
    from seqspec.testing import make_inputs, output_cotangent
    from seqspec.weights import random_weights

    ok = True
    print("equivalence with the NumPy reference (max abs difference: outputs, states, grads):")
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        model = seqspec.lower_file(example)
        for backend in ("numpy", "tensorflow"):
            seqspec.compile_spec(example, backend, work / example.stem / backend)
        w, inputs = random_weights(model), make_inputs(model)
        want = numpy_runner.run(work / example.stem / "numpy", w, inputs, None, "float64")
        d_outputs = output_cotangent(want["outputs"]["outputs"].shape)
        want = numpy_runner.run(work / example.stem / "numpy", w, inputs, d_outputs, "float64")
        line = []
        for dtype, tol in (("float64", 1e-9), ("float32", 1e-5)):
            got = tf_runner.run(work / example.stem / "tensorflow", w, inputs, d_outputs, dtype)
            diffs = [np.abs(got["outputs"]["outputs"] - want["outputs"]["outputs"]).max()]
            diffs.append(max([np.abs(got["states"][k] - v).max()
                              for k, v in want["states"].items()], default=0.0))
            diffs.append(max(np.abs(got["grads"][k] - v).max() for k, v in want["grads"].items()))
            good = max(diffs) <= tol and set(got["grads"]) == set(want["grads"])
            ok &= good
            line.append(f"{dtype} {' '.join(f'{d:.1e}' for d in diffs)} {'ok' if good else 'FAIL'}")
        print(f"  {example.stem:34s} {' | '.join(line)}")
    return ok


def load_cells_benchmark():
    """benchmarks/tf_cells.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("tf_cells", ROOT / "benchmarks" / "tf_cells.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cpu", action="store_true", help="run the checks on the CPU anyway")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.cpu:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    cuda = tf.sysconfig.get_build_info().get("is_cuda_build", False)
    print(f"TensorFlow {tf.__version__} (CUDA build: {cuda}), GPUs: {[g.name for g in gpus]}")
    if not gpus and not args.cpu:
        print("no GPU visible to TensorFlow: nothing to check (use --cpu to run on the CPU)")
        return 0
    # IEEE float32 in cuDNN and cuBLAS: TF32 (on by default on Ampere and later) keeps 10
    # mantissa bits, too few for a 1e-5 comparison.
    tf.config.experimental.enable_tensor_float_32_execution(False)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cudnn_ok = check_cudnn(work)
        same = check_equivalence(work)
    print(f"checks took {time.perf_counter() - start:.0f} s")
    print(f"speed on {'the CPU' if args.cpu else 'the GPU'} (B=32 T=100 I=64 H=128, float32, "
          f"forward + backward, median of {args.repeats}):")
    load_cells_benchmark().run(args.repeats)
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.cpu:  # no cuDNN on the CPU: only the equivalence verdict counts there
        return 0 if same else 1
    return 0 if cudnn_ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
