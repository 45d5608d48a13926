"""Demo 3: yearly sunspots; seqspec's exact AR(9) fit against statsmodels' AutoReg, FF-AR, LSTM.

The data maker, the split and the unit conversion are checked fast; the demo's reduced run
(``-m demo``) checks what is exact (AR coefficients and forecasts equal AutoReg's to 1e-6 in
every backend) and the direction of the rest (the trained networks forecast the test years
better than "same as last year").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demos"))
import sunspots  # noqa: E402


def test_make_data_writes_the_statsmodels_series(tmp_path: Path) -> None:
    years, values = sunspots.make_data(tmp_path / "sunspots.csv")
    assert (years[0], years[-1], len(values)) == (1700, 2008, 309)
    saved = np.loadtxt(tmp_path / "sunspots.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(saved[:, 1], values)  # repr round-trips every float
    np.testing.assert_array_equal(saved[:, 0], years)
    header = (tmp_path / "sunspots.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == f"YEAR,{sunspots.COLUMN}"


def test_split_sizes_are_the_generated_scripts(tmp_path: Path) -> None:
    """The demo's split arithmetic is what the generated train.py does with the same file."""
    _, values = sunspots.make_data(tmp_path / "data" / "sunspots.csv")
    spec = tmp_path / "spec.yaml"  # its data.source, data/sunspots.csv, is the file above
    spec.write_text((ROOT / "examples" / "demos" / "sunspots_ar.yaml").read_text("utf-8"),
                    encoding="utf-8")
    code = tmp_path / "code"
    seqspec.compile_spec(spec, "numpy", code)
    train = sunspots.load_generated(code, "train")
    runtime = sys.modules[train.run_train.__module__]  # <backend>_train_runtime
    data = runtime.load_data(runtime.parse_args(train.TASK, []), train.TASK)
    sizes = sunspots.split_sizes(len(values), sunspots.ORDER)
    assert sizes == tuple(data.size(part) for part in (data.train, data.val, data.test))
    assert sizes == (225, 30, 45)  # targets 1709-1933, 1934-1963, 1964-2008
    n_train = sizes[0]
    assert data.mean == pytest.approx(values[: n_train + sunspots.ORDER].mean(), abs=1e-12)
    # the same 45 test years for the FF-AR network's 4-value windows
    assert sunspots.split_sizes(len(values), 4)[2] == 45


def test_ar_to_raw_gives_the_same_forecasts() -> None:
    rng = np.random.default_rng(0)
    phi, c, mean, std = rng.normal(size=5) * 0.3, 0.2, 48.0, 39.0
    windows = rng.uniform(0, 150, size=(7, 5))  # oldest first
    z = (windows - mean) / std
    standardised = (z[:, ::-1] @ phi + c) * std + mean
    raw = sunspots.ar_to_raw(phi, c, mean, std)
    np.testing.assert_allclose(windows[:, ::-1] @ raw[1:] + raw[0], standardised, rtol=1e-12)


@pytest.mark.demo
def test_sunspots_quick_ar_equals_autoreg_and_networks_beat_naive(run_demo) -> None:
    result = run_demo("sunspots")
    ar = result["ar"]
    assert set(ar["backends"]) == set(sunspots.BACKENDS)
    assert len(ar["autoreg_params"]) == sunspots.ORDER + 1
    for backend, rec in ar["backends"].items():
        # exact: the closed-form fit is AutoReg's, coefficients and one-step forecasts
        assert rec["params_max_abs_diff"] <= 1e-6, backend
        assert rec["forecast_max_abs_diff"] <= 1e-6, backend
        assert rec["test_rmse"] == pytest.approx(ar["autoreg_test_rmse"], rel=1e-6), backend
    assert ar["equal_to_autoreg"] and ar["held_out_years"] == 75
    assert result["test_years"] == [1964, 2008]
    naive = result["naive_test_rmse"]
    assert ar["backends"]["numpy"]["test_rmse"] < naive
    for stem, net in result["networks"].items():
        for run in net["runs"]:
            # direction: a trained forecaster beats "same as last year" and the series' spread
            assert run["test_rmse"] < naive, (stem, run)
            assert run["test_rmse"] < result["series_std"], (stem, run)
            # the generated NumPy model with the run's weights recomputes final.json's RMSE
            assert run["numpy_test_rmse"] == pytest.approx(run["test_rmse"], rel=1e-4), stem
    # feeding predictions back is worse than reading the actual years, for the AR model
    assert result["iterated_test_rmse"]["AR(9) (lstsq)"] > result["one_step_test_rmse"][
        "AR(9) (lstsq)"]
