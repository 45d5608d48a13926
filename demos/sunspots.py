"""Demo 3 (time series): yearly sunspots; AR(9) against statsmodels, an FF-AR network, an LSTM.

The data is the yearly series statsmodels ships (``sunspots``: 1700-2008, 309 values), written
to ``examples/demos/data/sunspots.csv``. Three specs read it with the same split, which the
generated ``train.py`` makes in time order: of the windows, the first 75% train, the next 10%
validate and the last 15% test, so every model is scored on the same held-out years
(1934-1963 validation, 1964-2008 test), with the training years' mean and std as its scaler.

* ``sunspots_ar.yaml``: the seed's linear AR(9) model, fitted with ``optimizer: lstsq``, the
  exact least-squares solution. Its coefficients (converted from standardised to raw units) and
  its one-step forecasts of the held-out years are compared with statsmodels'
  ``AutoReg(train_years, lags=9, trend="c")``, in every backend.
* ``sunspots_mlp.yaml``: the seed's feed-forward AR network (4 lags, two ReLU layers of 10).
* ``sunspots_lstm.yaml``: an LSTM (16) reading 9-year windows, last state -> the next year.

The MLP and the LSTM are trained with gradient descent by the generated ``train.py`` (several
seeds). The table reports ``final.json``'s ``test_rmse`` (one-step forecasts of the test years,
in sunspot units) next to the naive "same as last year" forecast. Each model's forecasts are
also recomputed here with the generated NumPy ``model.py`` and the run's ``weights.npz`` (the
canonical weights work in any backend), which gives the plots: one-step forecasts against the
actual test years, and iterated forecasts (each prediction fed back as the next input) from
1964 on, which drift away from the data.

    python demos/sunspots.py            # the full demo (a few minutes on 2 CPU cores)
    python demos/sunspots.py --quick    # the reduced version CI runs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, Demo, load_generated, parse, pyplot, table

CSV = DATA / "sunspots.csv"
COLUMN = "SUNACTIVITY"
VALIDATION, TEST = 0.1, 0.15  # the specs' data.split (checked against them below)
ORDER = 9  # the AR model's p (sunspots_ar.yaml)
BACKENDS = ("numpy", "torch", "tensorflow")  # the exact fit is checked in each
TOLERANCE = 1e-6  # |seqspec - AutoReg|, absolute, in sunspot units (coefficients and forecasts)
# (spec stem, what the tables call it)
NETWORKS = [("sunspots_mlp", "FF-AR network (4 lags, ReLU 10-10)"),
            ("sunspots_lstm", "LSTM (16), 9-year windows")]
SEEDS = {"full": (0, 1, 2, 3, 4), "quick": (0,)}
QUICK_EPOCHS = {"sunspots_mlp": 120, "sunspots_lstm": 40}


def make_data(path: Path = CSV) -> tuple[np.ndarray, np.ndarray]:
    """Write statsmodels' yearly sunspots as ``YEAR,SUNACTIVITY`` CSV; return (years, values)."""
    from statsmodels.datasets import sunspots  # shipped with statsmodels: nothing downloads

    frame = sunspots.load_pandas().data
    years = frame["YEAR"].to_numpy().astype(int)
    values = frame[COLUMN].to_numpy().astype(np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"YEAR,{COLUMN}"] + [f"{y},{float(v)!r}" for y, v in zip(years, values, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return years, values


def split_sizes(length: int, window: int, validation: float = VALIDATION,
                test: float = TEST) -> tuple[int, int, int]:
    """(train, validation, test) window counts, as the generated train.py splits a CSV series.

    There are ``length - window`` windows; the last ``int(n * test)`` are the test, the
    ``int(n * validation)`` before them the validation (docs/training.md, _train_data.py.j2).
    """
    n = length - window
    n_val, n_test = int(n * validation), int(n * test)
    return n - n_val - n_test, n_val, n_test


def ar_to_raw(phi: np.ndarray, c: float, mean: float, std: float) -> np.ndarray:
    """[const, phi_1..phi_p] in the series' units from weights fitted to (x - mean) / std.

    z_t = c + sum phi_i z_{t-i} with z = (x - mean) / std gives
    x_t = mean (1 - sum phi_i) + std c + sum phi_i x_{t-i}: the lag weights do not change.
    """
    return np.concatenate([[mean * (1.0 - phi.sum()) + std * c], phi])


def autoreg_fit(values: np.ndarray, n_train: int, order: int = ORDER):
    """statsmodels' AutoReg(trend="c") on the years the training windows see, and its forecasts.

    Returns (params [const, L1..Lp], one-step forecasts of every later year, dynamic=False:
    each from the actual previous values).
    """
    from statsmodels.tsa.ar_model import AutoReg

    seen = values[: n_train + order]  # hold_back = order: its rows are the training windows
    result = AutoReg(seen, lags=order, trend="c").fit()
    full = AutoReg(values, lags=order, trend="c")
    forecasts = full.predict(result.params, start=len(seen), end=len(values) - 1, dynamic=False)
    return np.asarray(result.params), np.asarray(forecasts)


class Forecaster:
    """A trained run's weights in the generated NumPy model (float64), in sunspot units."""

    def __init__(self, code: Path, run_out: Path, window: int, recurrent: bool):
        module = load_generated(code)
        self.model = module.Model(dtype="float64")
        self.model.load_npz(str(Path(run_out) / "weights.npz"))
        scaler = json.loads((Path(run_out) / "scaler.json").read_text(encoding="utf-8"))
        self.mean, self.std = scaler["mean"], scaler["std"]
        self.window, self.recurrent = window, recurrent

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """The next value after each raw window (N, window) -> (N,)."""
        z = (np.asarray(windows, dtype=np.float64) - self.mean) / self.std
        inputs = {"x": z[:, :, None]} if self.recurrent else {"windows": z}
        out, _ = self.model.forward(**inputs)
        return np.asarray(out)[:, 0] * self.std + self.mean

    def one_step(self, values: np.ndarray, start: int) -> np.ndarray:
        """Forecasts of values[start:], each from the actual `window` values before it."""
        steps = np.arange(start, len(values))[:, None] + np.arange(-self.window, 0)[None, :]
        return self.predict(values[steps])

    def iterated(self, values: np.ndarray, start: int) -> np.ndarray:
        """Forecasts of values[start:] from values[:start] alone: each prediction is fed back."""
        history = list(values[start - self.window: start])
        out = []
        for _ in range(len(values) - start):
            nxt = float(self.predict(np.array([history[-self.window:]]))[0])
            out.append(nxt)
            history.append(nxt)
        return np.array(out)


def rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(forecast) - np.asarray(actual)) ** 2)))


def check_spec_split(demo: Demo) -> None:
    """The fractions and windows this script assumes are the specs' own."""
    import yaml

    for stem in ("sunspots_ar", *(s for s, _ in NETWORKS)):
        data = yaml.safe_load(demo.spec(stem).read_text(encoding="utf-8"))["data"]
        split = data["split"]
        assert (split["validation"], split["test"]) == (VALIDATION, TEST), stem
        assert data["source"] == f"data/{CSV.name}" and data["column"] == COLUMN, stem


def fit_ar(demo: Demo, values: np.ndarray) -> dict:
    """The exact AR(9) fit in every backend, compared with AutoReg."""
    n_train, n_val, _ = split_sizes(len(values), ORDER)
    params, ar_forecasts = autoreg_fit(values, n_train)
    start = n_train + ORDER  # the first held-out year
    held_out = values[start:]
    record = {"autoreg_params": params.tolist(), "backends": {}}
    numpy_code = demo.compile("sunspots_ar", "numpy")  # recomputes every backend's forecasts
    for backend in BACKENDS:
        code = numpy_code if backend == "numpy" else demo.compile("sunspots_ar", backend)
        result = demo.train(code, f"sunspots_ar-{backend}", "--dtype", "float64")
        out = Path(result["out"])
        with np.load(out / "weights.npz") as w:
            phi, c = w["ar.phi"], float(w["ar.c"][0])
        scaler = json.loads((out / "scaler.json").read_text(encoding="utf-8"))
        raw = ar_to_raw(phi, c, scaler["mean"], scaler["std"])
        forecasts = Forecaster(numpy_code, out, ORDER, recurrent=False).one_step(values, start)
        record["backends"][backend] = {
            "params": raw.tolist(),
            "params_max_abs_diff": float(np.abs(raw - params).max()),
            "params_max_rel_diff": float(np.max(np.abs(raw - params) / np.abs(params))),
            "forecast_max_abs_diff": float(np.abs(forecasts - ar_forecasts).max()),
            "val_rmse": result["val_rmse"], "test_rmse": result["test_rmse"],
            "seconds": result["seconds"],
        }
    record["autoreg_test_rmse"] = rmse(ar_forecasts[n_val:], held_out[n_val:])
    record["autoreg_val_rmse"] = rmse(ar_forecasts[:n_val], held_out[:n_val])
    record["held_out_years"] = len(held_out)
    record["max_abs_diff"] = max(max(b["params_max_abs_diff"], b["forecast_max_abs_diff"])
                                 for b in record["backends"].values())
    record["equal_to_autoreg"] = record["max_abs_diff"] <= TOLERANCE
    return record


def train_networks(demo: Demo, values: np.ndarray) -> dict:
    """Train the FF-AR network and the LSTM (several seeds); their test RMSE and forecasts."""
    out = {}
    seeds = SEEDS["quick" if demo.quick else "full"]
    for stem, label in NETWORKS:
        code = demo.compile(stem)
        numpy_code = code if demo.backend == "numpy" else demo.compile(stem, "numpy")
        window = 4 if stem == "sunspots_mlp" else 9
        recurrent = stem == "sunspots_lstm"
        runs = []
        for seed in seeds:
            args = ["--seed", str(seed)]
            if demo.quick:
                args += ["--epochs", str(QUICK_EPOCHS[stem])]
            result = demo.train(code, f"{stem}-seed{seed}", *args)
            n_train, n_val, _ = split_sizes(len(values), window)
            start = n_train + n_val + window  # the first test year
            model = Forecaster(numpy_code, Path(result["out"]), window, recurrent)
            one_step = model.one_step(values, start)
            runs.append({
                "seed": seed, "test_rmse": result["test_rmse"], "val_rmse": result["val_rmse"],
                "seconds": result["seconds"], "epochs": result["epoch"], "steps": result["step"],
                "numpy_test_rmse": rmse(one_step, values[start:]),
                "one_step": one_step.tolist(),
                "iterated": model.iterated(values, start).tolist(),
                "first_test_index": start,
            })
        test = np.array([r["test_rmse"] for r in runs])
        out[stem] = {"label": label, "runs": runs, "test_rmse_mean": float(test.mean()),
                     "test_rmse_std": float(test.std()), "backend": demo.backend}
    return out


def plot(demo: Demo, years, values, start, curves: dict, iterated: dict) -> list[str]:
    """Two PNGs: one-step forecasts vs actual on the test years; one-step vs iterated."""
    plt = pyplot()

    test_years = years[start:]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(test_years, values[start:], "k-o", ms=3, lw=2, label="actual")
    for (name, forecast), style in zip(curves.items(), ("-", "--", ":", "-."), strict=False):
        ax.plot(test_years, forecast, style, lw=1.5, label=name)
    ax.set(xlabel="year", ylabel="sunspot number",
           title="One-step forecasts of the held-out test years")
    ax.legend(fontsize=8)
    fig.tight_layout()
    first = demo.png("sunspots_forecasts")
    fig.savefig(first, dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(test_years, values[start:], "k-o", ms=3, lw=2, label="actual")
    for k, (name, (one, many)) in enumerate(iterated.items()):
        ax.plot(test_years, one, "-", color=f"C{k}", lw=1.2, label=f"{name}: one-step")
        ax.plot(test_years, many, "--", color=f"C{k}", lw=1.8, label=f"{name}: iterated")
    ax.set(xlabel="year", ylabel="sunspot number",
           title=f"Iterated forecasts from {test_years[0]} (predictions fed back) vs one-step")
    ax.legend(fontsize=8)
    fig.tight_layout()
    second = demo.png("sunspots_iterated")
    fig.savefig(second, dpi=100)
    plt.close(fig)
    return [first.name, second.name]


def main(argv: list[str] | None = None) -> None:
    demo, _ = parse("sunspots", __doc__.splitlines()[0], argv)
    check_spec_split(demo)
    years, values = make_data()
    ar = fit_ar(demo, values)
    networks = train_networks(demo, values)

    # the common test years: the last n_test values (the same for windows 4 and 9)
    n_train, n_val, n_test = split_sizes(len(values), ORDER)
    start = n_train + n_val + ORDER
    for stem, _ in NETWORKS:
        assert networks[stem]["runs"][0]["first_test_index"] == start, stem
    actual = values[start:]
    naive = values[start - 1: -1]  # same as last year
    naive_rmse = rmse(naive, actual)
    train_mean = float(values[: n_train + ORDER].mean())
    mean_rmse = rmse(np.full_like(actual, train_mean), actual)
    ar_code = demo.out / "code" / "sunspots_ar-numpy"
    ar_model = Forecaster(ar_code, demo.out / "runs" / "sunspots_ar-numpy", ORDER, False)
    ar_one, ar_many = ar_model.one_step(values, start), ar_model.iterated(values, start)

    def best(stem):
        return min(networks[stem]["runs"], key=lambda r: r["val_rmse"])  # chosen on validation

    mlp, lstm = best("sunspots_mlp"), best("sunspots_lstm")
    iterated_rmse = {"AR(9) (lstsq)": rmse(ar_many, actual),
                     "FF-AR network": rmse(mlp["iterated"], actual),
                     "LSTM": rmse(lstm["iterated"], actual)}
    curves = {"AR(9), seqspec lstsq": ar_one, "FF-AR network": mlp["one_step"],
              "LSTM": lstm["one_step"], "naive (last year)": naive}
    iterated = {"AR(9)": (ar_one, ar_many), "FF-AR": (mlp["one_step"], mlp["iterated"]),
                "LSTM": (lstm["one_step"], lstm["iterated"])}
    pngs = plot(demo, years, values, start, curves, iterated)

    b = demo.backend
    ar_b = ar["backends"][b]
    seeds = len(networks["sunspots_mlp"]["runs"])
    rows = [
        ["AR(9), seqspec `optimizer: lstsq`", f"{ar_b['test_rmse']:.2f}",
         f"{ar_b['val_rmse']:.2f}", f"{rmse(ar_many, actual):.1f}", f"{ar_b['seconds']:.1f}"],
        ["AR(9), statsmodels AutoReg", f"{ar['autoreg_test_rmse']:.2f}",
         f"{ar['autoreg_val_rmse']:.2f}", "", ""],
    ]
    for stem, label in NETWORKS:
        net = networks[stem]
        runs = net["runs"]
        spread = f" ± {net['test_rmse_std']:.2f}" if len(runs) > 1 else ""
        val = np.mean([r["val_rmse"] for r in runs])
        rows.append([label, f"{net['test_rmse_mean']:.2f}{spread}", f"{val:.2f}",
                     f"{rmse(best(stem)['iterated'], actual):.1f}",
                     f"{np.mean([r['seconds'] for r in runs]):.1f}"])
    rows.append(["naive: same as last year", f"{naive_rmse:.2f}", "", "", ""])
    rows.append(["training-years mean", f"{mean_rmse:.2f}", "", "", ""])
    main_table = table(["model", f"test RMSE ({years[start]}-{years[-1]})",
                        f"val RMSE ({years[start - n_val]}-{years[start - 1]})",
                        "iterated test RMSE", "train s"], rows)
    ar_rows = []
    for backend, rec in ar["backends"].items():
        ar_rows.append([backend, f"{rec['params_max_abs_diff']:.1e}",
                        f"{rec['params_max_rel_diff']:.1e}",
                        f"{rec['forecast_max_abs_diff']:.1e}", f"{rec['test_rmse']:.4f}"])
    ar_table = table(["backend", "coefficients: max abs diff", "max rel diff",
                      f"forecasts ({ar['held_out_years']} held-out years): max abs diff",
                      "test RMSE"], ar_rows)
    coef = table(["", "const", *[f"phi_{i}" for i in range(1, ORDER + 1)]],
                 [["AutoReg", *[f"{v:.6f}" for v in ar["autoreg_params"]]],
                  [f"seqspec ({b})", *[f"{v:.6f}" for v in ar_b["params"]]]])
    # which model leads on each held-out span (means over seeds), said from the numbers
    spans = {"AR(9)": (ar_b["test_rmse"], ar_b["val_rmse"])}
    for stem, _ in NETWORKS:
        runs = networks[stem]["runs"]
        name = "FF-AR network" if stem == "sunspots_mlp" else "LSTM"
        spans[name] = (networks[stem]["test_rmse_mean"], np.mean([r["val_rmse"] for r in runs]))
    best_test = min(spans, key=lambda k: spans[k][0])
    best_val = min(spans, key=lambda k: spans[k][1])
    leaders = f"Lowest test RMSE: {best_test}; lowest validation RMSE: {best_val}"
    if best_test != best_val:
        leaders += " (the two spans disagree: over 30 and 45 years the ranking is not settled)"
    if all(test < naive_rmse for test, _ in spans.values()):
        leaders += f". Every model beats the naive forecast ({naive_rmse:.1f}) on the test years"
    verdict = "equal" if ar["equal_to_autoreg"] else "NOT equal"
    one_step_rmse = {"AR(9) (lstsq)": rmse(ar_one, actual),
                     "FF-AR network": rmse(mlp["one_step"], actual),
                     "LSTM": rmse(lstm["one_step"], actual)}
    worse = [k for k in iterated_rmse if iterated_rmse[k] > one_step_rmse[k]]
    iterated_text = (
        "Fed their own predictions, " + ("every model does worse" if len(worse) == 3 else
                                         f"{', '.join(worse) or 'no model'} does worse")
        + " than with the actual previous years (test RMSE, one-step -> iterated: "
        + "; ".join(f"{k} {one_step_rmse[k]:.1f} -> {iterated_rmse[k]:.1f}" for k in iterated_rmse)
        + "):"
    )
    markdown = f"""# Sunspots: AR(9) vs statsmodels, an FF-AR network and an LSTM

The yearly sunspot numbers statsmodels ships ({years[0]}-{years[-1]}, {len(values)} values).
The generated `train.py` splits the windows in time order: training targets
{years[ORDER]}-{years[n_train + ORDER - 1]}, validation {years[start - n_val]}-{years[start - 1]},
test {years[start]}-{years[-1]} ({n_test} years), the same years for every model; the series is
standardised with the training years' mean and std and RMSE is in sunspot numbers.

## AR(9): seqspec's exact fit equals statsmodels' AutoReg

`examples/demos/sunspots_ar.yaml` says `training: {{optimizer: lstsq}}`: the generated
`train.py` solves the least-squares problem in closed form (float64) instead of running
gradient descent. Its weights, converted from standardised to raw units
(const = mean (1 - sum phi) + std c), against `AutoReg(train_years, lags=9, trend="c").fit()`,
and its one-step forecasts (generated NumPy `model.py`, actual previous years) against
`AutoReg.predict(params, dynamic=False)` on the {ar['held_out_years']} held-out years
(validation + test). Tolerance {TOLERANCE:g}, absolute, in sunspot units: **{verdict}**
(largest difference {ar['max_abs_diff']:.1e}).

{ar_table}
{coef}
## One-step forecasts of the test years

Test RMSE is `final.json`'s `test_rmse` (one-step: each year from the actual previous years).
The networks are trained by the generated {b} `train.py` (Adam, the specs' epochs), over
{seeds} seed{"s" if seeds > 1 else ""} (mean{" ± std" if seeds > 1 else ""}); the plots and the
iterated column use the seed with the best validation RMSE. "Iterated": from {years[start]} on,
each forecast is fed back as input instead of the actual year.

{main_table}
{leaders}.

![one-step forecasts vs actual]({"./" + pngs[0]})

{iterated_text}

![one-step vs iterated forecasts]({"./" + pngs[1]})
"""
    numbers = {
        "ar": ar,
        "networks": {k: {**v, "runs": [{kk: vv for kk, vv in r.items()
                                        if kk not in ("one_step", "iterated")}
                                       for r in v["runs"]]} for k, v in networks.items()},
        "naive_test_rmse": naive_rmse, "train_mean_test_rmse": mean_rmse,
        "iterated_test_rmse": iterated_rmse, "one_step_test_rmse": one_step_rmse,
        "test_years": [int(years[start]), int(years[-1])],
        "series_std": float(values.std()),
    }
    demo.finish(markdown, numbers)


if __name__ == "__main__":
    main()
