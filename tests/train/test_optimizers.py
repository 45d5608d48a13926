"""The same optimizer maths in every backend (training.optimizer, weight_decay, schedule).

The same spec, data and seed in float64, without dropout, give the same weights after 5 steps
in NumPy, torch and TensorFlow within 1e-9: PyTorch's formulas everywhere (TensorFlow's train
runtime has its own Keras optimizer because Keras' Adam and momentum differ from them).

The optimizer axis (sgd, momentum, adam, adamw; without and with weight decay) runs under the
constant schedule; the schedule axis (step, cosine with warmup, plateau) with two optimizers
only, to keep CI fast: momentum (whose formula is the one that a changing rate tells apart)
and adamw with weight decay (whose decay is scaled by the rate).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

TOLERANCE = 1e-9
# 77 training samples in batches of 40: 2 steps an epoch. The step schedule decays at steps 3
# and 5, the plateau schedule at step 5 (--min-delta 10: no epoch after the first improves)
COMMON = ["--max-steps", "5", "--epochs", "3", "--batch-size", "40", "--dtype", "float64"]
SCHEDULES = {
    "step": ["--schedule", "step", "--lr-decay", "0.5", "--lr-decay-epochs", "1"],
    "cosine": ["--schedule", "cosine", "--warmup-steps", "2"],
    "plateau": ["--schedule", "plateau", "--lr-decay", "0.5", "--lr-decay-epochs", "1",
                "--min-delta", "10"],
}
RUNS = {
    **{f"{opt}-wd{wd}": ["--optimizer", opt, "--weight-decay", wd]
       for opt in ("sgd", "momentum", "adam", "adamw") for wd in ("0", "0.1")},
    **{f"{opt}-wd{wd}-{name}": ["--optimizer", opt, "--weight-decay", wd, *args]
       for opt, wd in (("momentum", "0"), ("adamw", "0.1")) for name, args in SCHEDULES.items()},
}
#: TensorFlow starts slowly and traces every run afresh: by default it runs only these
FAST_TF = ("adam-wd0", "momentum-wd0-cosine", "adamw-wd0.1-step")

# train.py's main() once per run in one process, so a framework starts once
RUNNER = """\
import importlib.util, json, os, sys
folder, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
spec = importlib.util.spec_from_file_location("train_script", os.path.join(folder, "train.py"))
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
for name, argv in json.load(open(os.path.join(root, "runs.json"))).items():
    script.main(["--no-progress", "--out", os.path.join(root, name), *argv])
"""


@pytest.fixture(scope="module")
def trained(compiled_case, train_tools, tmp_path_factory):
    """trained(backend, names) -> {run name: {weight name: array}} after 5 steps (cached)."""
    cache: dict[tuple[str, tuple[str, ...]], dict[str, dict[str, np.ndarray]]] = {}

    def train(backend: str, names: tuple[str, ...]) -> dict[str, dict[str, np.ndarray]]:
        if (backend, names) not in cache:
            folder = compiled_case("many_to_one", backend)  # a GRU classifier, no dropout
            root = tmp_path_factory.mktemp(f"optimizers-{backend}")
            (root / "runs.json").write_text(
                json.dumps({n: [*COMMON, *RUNS[n]] for n in names}), encoding="utf-8")
            (root / "runner.py").write_text(RUNNER, encoding="utf-8")
            env = {**__import__("os").environ, **train_tools["env"]}
            proc = subprocess.run([sys.executable, str(root / "runner.py"), str(folder),
                                   str(root)], capture_output=True, text=True, env=env,
                                  timeout=1200)
            assert proc.returncode == 0, proc.stderr[-3000:]
            runs = {}
            for name in names:
                with np.load(root / name / "weights.npz") as f:
                    runs[name] = {k: f[k] for k in f.files}
                assert json.loads((root / name / "final.json").read_text())["step"] == 5
            cache[backend, names] = runs
        return cache[backend, names]

    return train


def max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert sorted(a) == sorted(b)
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


@pytest.mark.parametrize("backend, names", [
    pytest.param("torch", tuple(RUNS), marks=pytest.mark.torch, id="torch"),
    pytest.param("tensorflow", FAST_TF, marks=pytest.mark.tensorflow, id="tensorflow-fast"),
    pytest.param("tensorflow", tuple(RUNS), marks=[pytest.mark.tensorflow, pytest.mark.slow],
                 id="tensorflow"),
])
def test_every_optimizer_takes_the_same_steps_as_numpy(backend, names, trained):
    pytest.importorskip(backend)
    reference, runs = trained("numpy", tuple(RUNS)), trained(backend, names)
    far = {n: d for n in names if (d := max_difference(reference[n], runs[n])) > TOLERANCE}
    assert not far, f"{backend} differs from numpy after 5 float64 steps: {far}"


def test_the_settings_change_the_steps(trained):
    """The matrix compares runs that differ: decay, decoupling and schedules all matter."""
    runs = trained("numpy", tuple(RUNS))
    for a, b in [("sgd-wd0", "sgd-wd0.1"), ("momentum-wd0", "momentum-wd0.1"),
                 ("adam-wd0", "adam-wd0.1"), ("adamw-wd0", "adamw-wd0.1"),
                 ("adam-wd0.1", "adamw-wd0.1"), ("sgd-wd0", "momentum-wd0"),
                 ("adamw-wd0.1", "adamw-wd0.1-step"), ("momentum-wd0", "momentum-wd0-cosine"),
                 ("momentum-wd0", "momentum-wd0-plateau"),
                 ("momentum-wd0-step", "momentum-wd0-plateau")]:
        assert max_difference(runs[a], runs[b]) > 1e-6, (a, b)
    # without weight decay adamw is adam
    assert max_difference(runs["adam-wd0"], runs["adamw-wd0"]) == 0.0


def test_weight_decay_in_the_spec_is_checked_where_it_is_written(tmp_path):
    import seqspec

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "seqspec: 1\nname: wd\nmodel: {scheme: ar_linear, order: 2}\n"
        "training: {optimizer: adamw, weight_decay: -0.5}\n", encoding="utf-8")
    with pytest.raises(seqspec.SpecError) as caught:
        seqspec.lower_file(spec)
    assert "spec.yaml:4:" in str(caught.value)
    assert "training.weight_decay: must be greater than or equal to 0" in str(caught.value)
    spec.write_text(spec.read_text(encoding="utf-8").replace("-0.5", "0.01"), encoding="utf-8")
    assert seqspec.lower_file(spec).training.weight_decay == 0.01
