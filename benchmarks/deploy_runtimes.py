"""Time one inference batch in every deployment route of docs/deploy.md.

The spec (default examples/char_lstm.yaml) is compiled for every backend and exported in every
format with the same weights (init_weights(0)); each route then runs the same batch (B=32,
T=100 by default, variable lengths where the spec has them, float32, CPU):

* model.py: NumPy ``forward``, torch ``Model`` in ``eval()`` under ``inference_mode``, Keras
  ``forward`` (compiled with tf.function);
* artifacts: ONNX Runtime, TorchScript (``torch.jit.load``), torch.export
  (``torch.export.load(...).module()``), SavedModel (``tf.saved_model.load(...).serve``).

Every route's outputs are checked against the NumPy model's first (float32, 1e-4) so a fast
wrong answer cannot count. The routes run in turn inside each repeat and each time is the
median over repeats (after one warm-up call each), so a slow spell of a shared machine hits
all of them. Run: ``python benchmarks/deploy_runtimes.py [SPEC] [--batch B] [--steps T]
[--repeats N]``.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqspec.api import compile_spec, lower_file  # noqa: E402
from seqspec.deploy import example_inputs, export_artifact, input_names  # noqa: E402
from seqspec.generated import import_model  # noqa: E402
from seqspec.onnx import export_file  # noqa: E402
from seqspec.weights import init_weights, save_npz  # noqa: E402


def routes(spec: Path, folder: Path, inputs: dict[str, np.ndarray]
           ) -> dict[str, Callable[[], np.ndarray]]:
    """name -> a call that runs the batch and returns the outputs as a NumPy array."""
    import onnxruntime as ort
    import tensorflow as tf
    import torch

    model = lower_file(spec)
    weights = init_weights(model, 0)
    save_npz(folder / "w.npz", weights)
    modules = {}
    for backend in ("numpy", "torch", "tensorflow"):
        compile_spec(spec, backend, folder / backend)
        modules[backend] = import_model(folder / backend, prefix=f"_bench_{backend}")
    export_file(spec, folder / "m.onnx", folder / "w.npz")
    export_artifact(spec, "torchscript", folder / "m.pt", folder / "w.npz")
    export_artifact(spec, "torch-export", folder / "m.pt2", folder / "w.npz")
    export_artifact(spec, "savedmodel", folder / "saved", folder / "w.npz")

    numpy_model = modules["numpy"].Model(weights, dtype="float32")
    torch_model = modules["torch"].Model(weights, dtype="float32", device="cpu").eval()
    keras_model = modules["tensorflow"].Model(weights, dtype="float32")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(folder / "m.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    feeds = {a.name: inputs[a.name] for a in session.get_inputs()}
    scripted = torch.jit.load(str(folder / "m.pt"))
    exported = torch.export.load(str(folder / "m.pt2")).module()
    served = tf.saved_model.load(str(folder / "saved"))
    tensors = [torch.from_numpy(inputs[name]) for name in input_names(model)]
    tf_inputs = {k: tf.constant(v) for k, v in inputs.items()}

    def torch_call(fn):
        def call():
            with torch.inference_mode():
                return fn()
        return call

    return {
        "numpy model.py": lambda: numpy_model.forward(**inputs)[0],
        "torch model.py (eval)": torch_call(
            lambda: torch_model(**{k: torch.from_numpy(v) for k, v in inputs.items()})[0]
            .numpy()),
        "keras model.py": lambda: keras_model.forward(**inputs)[0].numpy(),
        "onnxruntime": lambda: session.run(["outputs"], feeds)[0],
        "torchscript": torch_call(lambda: scripted(*tensors)["outputs"].numpy()),
        "torch.export": torch_call(lambda: exported(*tensors)["outputs"].numpy()),
        "savedmodel": lambda: served.serve(tf_inputs).numpy(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "examples" / "char_lstm.yaml"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import torch

    spec = Path(args.spec)
    model = lower_file(spec)
    inputs = example_inputs(model, args.steps, batch=args.batch, seed=1)
    with tempfile.TemporaryDirectory() as work:
        calls = routes(spec, Path(work), inputs)
        reference = calls["numpy model.py"]()
        for name, call in calls.items():  # warm-up, and a fast wrong answer does not count
            worst = float(np.abs(np.asarray(call(), dtype=np.float64) - reference).max())
            assert worst <= 1e-4, (name, worst)
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    print(f"{spec.name}: B={args.batch}, T={args.steps}, float32, CPU, torch threads "
          f"{torch.get_num_threads()}, median of {args.repeats}")
    for name, values in times.items():
        print(f"  {name:24s} {statistics.median(values) * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
