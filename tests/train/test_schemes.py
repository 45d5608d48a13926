"""Every backend's generated train.py trains a tiny model of every scheme: the loss goes down."""

from __future__ import annotations

import json

import numpy as np
import pytest

import seqspec

SCHEMES = ["many_to_many", "many_to_one", "one_to_many", "seq2seq", "ar_linear", "ar_mlp"]
BACKENDS = [
    pytest.param("numpy"),
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("tensorflow", marks=pytest.mark.tensorflow),
]
FRAMEWORK = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow"}
#: the validation metric each scheme's script reports besides the loss
METRIC = {
    "many_to_many": "val_bpc", "many_to_one": "val_accuracy", "one_to_many": "val_exact_match",
    "seq2seq": "val_exact_match", "ar_linear": "val_rmse", "ar_mlp": "val_rmse",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_loss_goes_down(scheme, backend, compiled_case, train_tools, tmp_path):
    pytest.importorskip(FRAMEWORK[backend])
    folder = compiled_case(scheme, backend)
    out = tmp_path / "run"
    proc = train_tools["run"](folder, "--out", str(out))  # the data through the default path
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = train_tools["metrics"](out)
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    first, last = records[0]["train_loss"], records[-1]["train_loss"]
    last_step = records[-1]["step"]
    assert last < 0.9 * first, (first, last)
    assert METRIC[scheme] in records[-1]
    assert "done: " in proc.stdout
    # what is left: a reloadable canonical .npz with every parameter, and the plot
    model = seqspec.lower_file(folder.parent / "spec.yaml")
    with np.load(out / "weights.npz") as f:
        assert sorted(f.files) == sorted(p.name for p in model.params)
        assert all(np.isfinite(f[k]).all() for k in f.files)
    assert (out / "curves.png").stat().st_size > 1000
    assert (out / "checkpoint.npz").exists()
    # final.json: the final weights judged again, the same numbers as the last epoch's record
    final = json.loads((out / "final.json").read_text())
    assert final["step"] == last_step and final["epoch"] == 4
    assert final[METRIC[scheme]] == pytest.approx(records[-1][METRIC[scheme]], rel=1e-6)
    if scheme == "many_to_many":  # a language model: sample from what was trained
        proc = train_tools["run"](folder, "--out", str(out), "--sample", "30", "--temperature",
                                  "0", "--prime", "the ")
        assert proc.returncode == 0, proc.stderr[-3000:]
        text = proc.stdout.rstrip("\n").replace("<unk>", "?")  # id 0 may come out
        assert text.startswith("the ") and len(text) == 34, text
