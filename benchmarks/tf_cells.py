"""Benchmark the generated Keras models against hand-written Keras models, on the CPU.

One recurrent layer and a dense per-step head, B=32, T=100, I=64, H=128, float32, forward +
backward (gradients of sum(outputs * G) w.r.t. every weight and the input), in one process.
Both sides run the same harness, a tf.function around a GradientTape; the generated side calls
the generated keras.Model (`model({"x": x})`), the hand-written side keras.layers.X + Dense.

* Keras-native cells (LSTM, GRU reset_after, SimpleRNN): generated vs the same Keras layer
  written by hand (target <= 1.05x); also with variable lengths (a right-padded mask).
* Custom cells (peephole LSTM, Jordan): generated vs the hand-written Keras LSTM of the same
  size (target <= 2.0x).
* The generated model's own compiled entry point (Model.gradients_fn, what
  canonical_gradients runs) against the harness, for the LSTM.

Prints the median of several repeats (the two sides alternate call by call) and the ratios.

    python benchmarks/tf_cells.py [--repeats N] [--threads N]
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

B, T, IN, H = 32, 100, 64, 128  # batch, steps, input size, hidden size

SPEC = """\
seqspec: 1
name: bench_{name}
model:
  scheme: many_to_many
  input: {{kind: features, size: {IN}, variable_length: {variable}}}
  layers:
    - {cell}
  head: {{kind: regression, outputs: 1}}
"""

CELLS = {
    "lstm": f"{{cell: lstm, hidden_size: {H}}}",
    "gru": f"{{cell: gru, hidden_size: {H}, variant: reset_after}}",
    "elman": f"{{cell: elman, hidden_size: {H}}}",
    "peephole_lstm": f"{{cell: lstm, hidden_size: {H}, peepholes: true}}",
    "jordan": f"{{cell: jordan, hidden_size: {H}, output_size: {H}}}",
}


def generated_model(cell: str, variable: bool, workdir: Path):
    """The compiled spec's Model (float32) with seeded canonical weights."""
    from seqspec.backends.tensorflow.runner import load_module

    import seqspec
    from seqspec.weights import random_weights

    name = f"{cell}_{'var' if variable else 'fixed'}"
    spec = workdir / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, IN=IN, cell=CELLS[cell],
                                variable="true" if variable else "false"))
    seqspec.compile_spec(spec, "tensorflow", workdir / name)
    module = load_module(workdir / name)
    return module.Model(random_weights(seqspec.lower_file(spec), seed=0), dtype="float32")


def handwritten_model(cell: str):
    """keras.layers.LSTM / GRU / SimpleRNN + Dense, the way one writes it by hand."""
    import keras

    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
             "elman": keras.layers.SimpleRNN}[cell](H, return_sequences=True)
    head = keras.layers.Dense(1)
    layer.build((None, None, IN))
    head.build((None, H))

    def forward(x, mask=None):
        return head(layer(x, mask=mask))

    return forward, layer.trainable_weights + head.trainable_weights


def harness(forward, weights):
    """A compiled forward + backward: d sum(outputs * G) / d (weights, x)."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True, autograph=False)
    def step(x, g, mask):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(forward(x, mask) * g)
        return tape.gradient(loss, [x, *weights])

    return step


def median_pair(a, b, repeats: int) -> tuple[float, float]:
    """Median wall times of a() and b(), alternating call by call, after warm-ups."""
    for fn in (a, b, a, b):
        fn()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def run(repeats: int) -> list[tuple[str, float, float, float]]:
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-1, 1, (B, T, IN)).astype("float32"))
    g = tf.constant(rng.normal(size=(B, T, 1)).astype("float32"))
    lengths = rng.integers(T // 2, T + 1, size=B).astype("int32")
    lengths[0] = T
    mask = tf.sequence_mask(lengths, T)
    rows = []

    def add(label, gen_fn, ref_fn):
        t_gen, t_ref = median_pair(gen_fn, ref_fn, repeats)
        rows.append((label, t_gen, t_ref, t_gen / t_ref))
        print(f"{label:44s} {t_gen * 1e3:8.1f} ms {t_ref * 1e3:8.1f} ms {t_gen / t_ref:6.2f}x",
              flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        refs = {c: handwritten_model(c) for c in ("lstm", "gru", "elman")}
        ref_steps = {c: harness(*refs[c]) for c in refs}
        for cell in ("lstm", "gru", "elman"):
            model = generated_model(cell, False, work)
            gen = harness(lambda x, m, model=model: model({"x": x}), model.trainable_weights)
            add(f"{cell}: generated vs Keras {cell}", lambda gen=gen: gen(x, g, None),
                lambda c=cell: ref_steps[c](x, g, None))
        for cell in ("lstm", "gru", "elman"):
            model = generated_model(cell, True, work)
            lens = tf.constant(lengths)
            gen = harness(lambda x, m, model=model, lens=lens: model({"x": x, "lengths": lens}),
                          model.trainable_weights)
            add(f"{cell} + lengths: generated vs Keras + mask", lambda gen=gen: gen(x, g, None),
                lambda c=cell: ref_steps[c](x, g, mask))
        for cell in ("peephole_lstm", "jordan"):
            model = generated_model(cell, False, work)
            gen = harness(lambda x, m, model=model: model({"x": x}), model.trainable_weights)
            add(f"{cell}: generated vs Keras lstm", lambda gen=gen: gen(x, g, None),
                lambda: ref_steps["lstm"](x, g, None))
        model = generated_model("lstm", False, work)
        inputs = model._prepare({"x": x})
        add("lstm: Model.gradients_fn vs Keras lstm",
            lambda: model.gradients_fn(inputs, g, False), lambda: ref_steps["lstm"](x, g, None))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF's)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # a CPU benchmark, even on a GPU machine
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    print(f"TensorFlow {tf.__version__}, B={B} T={T} I={IN} H={H}, float32, CPU, "
          f"forward + backward, median of {args.repeats}")
    print(f"{'':44s} {'generated':>11s} {'reference':>11s} {'ratio':>7s}")
    run(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
