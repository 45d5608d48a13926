"""Demo 4: 8x8 digits read row by row (many-to-one), LSTM, bidirectional LSTM and Elman.

The data maker and the helpers are checked fast; the demo's reduced run (``-m demo``) checks
the direction: every model far above chance after a few epochs, the bidirectional one included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demos"))
import digits  # noqa: E402

LSTM_GATES = 4


def test_make_data_reads_images_row_by_row(tmp_path: Path) -> None:
    arrays = digits.make_data(tmp_path / "rows.npz")
    with np.load(tmp_path / "rows.npz") as saved:
        assert saved["x"].shape == (1797, 8, 8) and saved["y"].shape == (1797,)
        np.testing.assert_array_equal(saved["x"], arrays["x"])
    from sklearn.datasets import load_digits

    flat = load_digits().data  # (N, 64): row after row
    np.testing.assert_allclose(arrays["x"][:, 2, :], flat[:, 16:24] / 16.0, rtol=1e-6)
    assert arrays["x"].min() >= 0.0 and arrays["x"].max() == 1.0
    assert sorted(set(arrays["y"].tolist())) == list(range(10))


def test_confusion_counts_pairs() -> None:
    counts = digits.confusion(np.array([0, 1, 1, 9]), np.array([0, 1, 7, 9]))
    assert counts.sum() == 4 and np.trace(counts) == 3 and counts[1, 7] == 1


@pytest.mark.demo
def test_digits_quick_every_model_learns(run_demo) -> None:
    result = run_demo("digits")
    models = result["models"]
    assert set(models) == {"digits_lstm", "digits_bilstm", "digits_elman"}
    for stem, numbers in models.items():
        # chance is 10%; a few epochs already read most test digits right
        assert numbers["test_accuracy"] > 0.6, (stem, numbers)
        assert numbers["epoch"] == digits.QUICK_EPOCHS
    # seqspec inspect's counts are the LSTM formulas: 4H(I + H + 1) per direction, head 10(in + 1)
    hidden, features = 64, 8
    direction = LSTM_GATES * hidden * (features + hidden + 1)
    assert models["digits_lstm"]["parameters"] == direction + 10 * (hidden + 1)
    assert models["digits_bilstm"]["parameters"] == 2 * direction + 10 * (2 * hidden + 1)
    # the confusion matrix recounts the best model's test accuracy on the same 359 images
    counts = np.array(result["confusion"])
    assert counts.sum() == result["test_images"] == round(1797 * 0.2)
    assert np.trace(counts) / counts.sum() == pytest.approx(
        models[result["best"]]["test_accuracy"])
