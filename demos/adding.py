"""The adding problem (Hochreiter & Schmidhuber 1997): Elman, LSTM, GRU and IndRNN.

Each sequence has T steps of two features: a value drawn from U(0, 1) and a marker that is 1 at
exactly two steps (one in each half of the sequence) and 0 elsewhere. The target is the sum of
the two marked values. Always answering 1.0 (the mean of the target) scores MSE = 1/6 ~ 0.167,
the trivial predictor; a network beats it only if it carries the first marked value across up
to T steps. The gated cells (LSTM, GRU) do; the Elman network, trained with the same budget,
stays at the trivial MSE, and the error signal that would teach it vanishes with the distance
(the seed's lesson): ``adding_gradients.png`` plots ||dL/dh_{T-k}|| against k, at the initial
weights and after training.

IndRNN (Li et al. 2018) is the paper's claim for long sequences: ``--steps 500`` and
``--steps 1000`` run LSTM, GRU and IndRNN at those lengths (results ``adding_T500`` ...).

The specs are ``examples/demos/adding_{elman,lstm,gru,indrnn}.yaml``; they are compiled and
trained with the generated ``train.py`` (torch by default). The gradient norms are computed here
independently of the generated code, by an explicit loop over the canonical weights
(docs/weights.md) of each run's ``weights.npz``; ``tests/demos/test_adding.py`` checks that loop
against autograd through the generated model.

    python demos/adding.py            # T = 100, about 7 min on 2 (shared) cores
    python demos/adding.py --quick    # T = 30 with a smaller budget (CI), about 1 min
    python demos/adding.py --steps 500    # LSTM, GRU, IndRNN at T = 500, a smaller budget
    python demos/adding.py --steps 1000   # and at T = 1000
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, Demo, load_generated, parse, pyplot, run, split_test_indices, table

CELLS = ("elman", "lstm", "gru", "indrnn")
LONG_CELLS = ("lstm", "gru", "indrnn")  # what --steps T (T != 100) runs by default
PREFIX = "encoder.layers.0.forward."  # the one recurrent layer of each spec


# ----------------------------------------------------------------------------------- data


def make_data(n: int, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n adding-problem sequences of ``steps`` steps: x (n, steps, 2) float32, y (n, 1).

    Channel 0 holds U(0, 1) values, channel 1 the marker: exactly one 1 in the first half
    (steps 0 .. steps//2 - 1) and one in the second half; y is the sum of the two marked values.
    The same (n, steps, seed) always gives the same arrays.
    """
    if steps < 2:
        raise ValueError("the adding problem needs at least 2 steps")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, steps, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, steps))
    half = steps // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, steps, size=n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0]).reshape(n, 1).astype(np.float32)
    return x, y


def write_data(path: Path, n: int, steps: int, seed: int) -> Path:
    """make_data(...) saved as the npz the generated train.py reads (x, y)."""
    x, y = make_data(n, steps, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y)
    return path


# ------------------------------------------------------------------------ gradient norms


def _sigmoid(z):
    import torch

    return torch.sigmoid(z)


def unroll(cell: str, weights: dict, x, initial=None, variant: str = "reset_after"):
    """Run one recurrent layer over x (B, T, I) from canonical weights, step by step.

    Returns (hidden states [h_1 .. h_T], cell states [c_1 .. c_T] or None, prediction (B, O)).
    Every h_t is a separate tensor on which ``retain_grad`` is called, so that after a backward
    pass ``h_t.grad`` is dL/dh_t: the gradient of the loss with respect to the hidden state at
    step t, through every path that leaves h_t (for an LSTM, c_t is a separate state).
    The equations are those of docs/weights.md; nothing of the generated code is used.
    """
    import torch

    # The weights take part in autograd so that every h_t does, whatever the initial state.
    w = {k: torch.tensor(np.asarray(v), dtype=torch.float64, requires_grad=True)
         for k, v in weights.items()}

    def g(name):
        return w[PREFIX + name]

    def affine(gate, xt, h):
        return xt @ g(f"Wx_{gate}").T + h @ g(f"Wh_{gate}").T + g(f"b_{gate}")

    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    batch, steps, _ = x.shape
    size = g({"gru": "Wh_z", "elman": "Wh_h", "lstm": "Wh_i", "indrnn": "u_h"}[cell]).shape[0]
    h = torch.zeros(batch, size, dtype=torch.float64) if initial is None else initial[0]
    c = None
    if cell == "lstm":
        c = torch.zeros(batch, size, dtype=torch.float64) if initial is None else initial[1]
    hs, cs = [], []
    for t in range(steps):
        xt = x[:, t]
        if cell == "elman":
            h = torch.tanh(affine("h", xt, h))
        elif cell == "lstm":
            i, f = _sigmoid(affine("i", xt, h)), _sigmoid(affine("f", xt, h))
            cand, o = torch.tanh(affine("g", xt, h)), _sigmoid(affine("o", xt, h))
            c = f * c + i * cand
            h = o * torch.tanh(c)
            cs.append(c)
        elif cell == "gru":
            z, r = _sigmoid(affine("z", xt, h)), _sigmoid(affine("r", xt, h))
            if variant == "reset_after":
                n = torch.tanh(xt @ g("Wx_n").T + g("b_n") + r * (h @ g("Wh_n").T + g("bhn")))
            else:
                n = torch.tanh(xt @ g("Wx_n").T + g("b_n") + g("bhn") + (r * h) @ g("Wh_n").T)
            h = z * h + (1 - z) * n
        elif cell == "indrnn":  # the demo's IndRNN is relu (examples/demos/adding_indrnn.yaml)
            h = torch.relu(xt @ g("Wx_h").T + g("u_h") * h + g("b_h"))
        else:
            raise ValueError(f"unknown cell {cell!r}")
        h.retain_grad()
        hs.append(h)
    prediction = h @ w["head.W"].T + w["head.b"]
    return hs, (cs if cell == "lstm" else None), prediction


def hidden_gradient_norms(cell: str, weights: dict, x, y) -> np.ndarray:
    """||dL_i/dh_{T-k}|| for k = 0 .. T-1 (rows) and each sequence i of x (columns).

    L_i is sequence i's own squared error (y_hat_i - y_i)^2; the loss summed over the batch is
    differentiated, so each column is its own sequence's gradient (no 1/B). Row k = 0 is the
    last state h_T, row T - 1 the first, h_1.
    """
    import torch

    hs, _, prediction = unroll(cell, weights, x)
    target = torch.as_tensor(np.asarray(y), dtype=torch.float64)
    ((prediction - target) ** 2).sum().backward()
    return np.stack([hs[-1 - k].grad.norm(dim=1).numpy() for k in range(len(hs))])


def saturated_fraction(cell: str, weights: dict, x) -> float:
    """The fraction of hidden values h_t (all steps, units and sequences) with |h| > 0.99:
    where tanh is that flat, its derivative (< 0.02) all but stops the gradient (for the relu
    IndRNN it only counts large activations)."""
    hs, _, _ = unroll(cell, weights, x)
    return float(np.mean([(h.detach().abs() > 0.99).double().mean().item() for h in hs]))


def gradient_summary(norms: np.ndarray) -> dict:
    """What the plot and the JSON show of hidden_gradient_norms(...) (T, B).

    ``mean``: the mean over sequences of ||dL/dh_{T-k}||. ``relative``: the geometric mean over
    sequences of ||dL/dh_{T-k}|| / ||dL/dh_T||, the fraction of the error signal at the last
    state that reaches k steps back; dividing by the last state's gradient removes the size of
    the residual, so a trained model with a small loss compares with an untrained one.
    ``reach``: the geometric mean of ``relative`` over the first half of the sequence
    (k >= T/2), where the first marked value always is: how much of the error signal gets there.
    """
    tiny = 1e-300  # a gradient that underflowed to 0 still has a logarithm
    relative = np.exp(np.mean(np.log(norms / (norms[:1] + tiny) + tiny), axis=1))
    steps = len(norms)
    reach = float(np.exp(np.mean(np.log(relative[steps // 2:] + tiny))))
    # The mean factor per step back, between k = T/10 and 9T/10 (away from both ends).
    near, far = steps // 10, steps - 1 - steps // 10
    per_step = float(np.exp((np.log(relative[far] + tiny) - np.log(relative[near] + tiny))
                            / max(far - near, 1)))
    return {"mean": norms.mean(axis=1).tolist(), "relative": relative.tolist(), "reach": reach,
            "factor_per_step": per_step}


# ----------------------------------------------------------------------------------- demo


def load_weights(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def init_weights_of(code: Path) -> dict:
    """The generated model's init_weights(0): the weights a run with seed 0 starts from."""
    return load_generated(code, "model").init_weights(0)


def plot_curves(demo: Demo, results: dict, trivial: float, steps: int) -> str:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for cell, r in results.items():
        hist = r["history"]
        ax.plot([h["step"] for h in hist], [h["val_loss"] for h in hist], marker=".",
                label=f"{cell} (validation)")
    ax.axhline(trivial, color="grey", linestyle="--", label="trivial predictor (always 1)")
    ax.axhline(0.01, color="grey", linestyle=":", label="MSE 0.01")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step (batch of sequences)")
    ax.set_ylabel("validation MSE")
    ax.set_title(f"The adding problem, T = {steps}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = demo.png(f"{demo.stem or demo.name}_curves")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_gradients(demo: Demo, curves: dict, steps: int) -> str:
    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharey=True)
    colors = {"elman": "C0", "lstm": "C1", "gru": "C2", "indrnn": "C3"}
    for ax, when in zip(axes, ("initial", "trained"), strict=True):
        for cell in curves:
            relative = np.array(curves[cell][when]["relative"])
            ax.plot(np.arange(len(relative)), relative, color=colors[cell], label=cell,
                    linewidth=2.0 if cell != "gru" else 1.0,
                    linestyle="-" if cell != "gru" else "--")
        ax.axvline(steps / 2, color="grey", linestyle=":", linewidth=1.0)
        ax.set_yscale("log")
        ax.set_xlabel("k (steps back from the last, T - k)")
        ax.set_title("at initialisation" if when == "initial" else "after training")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("||dL/dh_(T-k)|| / ||dL/dh_T|| (geometric mean)")
    axes[0].legend()
    fig.suptitle(f"Gradient of the loss with respect to the hidden state k steps back, T = {steps}")
    fig.tight_layout()
    path = demo.png(f"{demo.stem or demo.name}_gradients")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _options(p) -> None:
    p.add_argument("--steps", type=int, default=100,
                   help="sequence length T (default 100; 500 and 1000 are the long runs)")
    p.add_argument("--cells", default=None,
                   help="comma-separated cells to train (default: all four at T = 100, "
                        "lstm,gru,indrnn otherwise)")
    p.add_argument("--samples", type=int, default=None,
                   help="sequences to generate (default: BUDGETS[T])")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: BUDGETS[T])")


#: (samples, epochs) per T. A step costs the same at any T, so a sequence of T = 1000 costs 10
#: of T = 100: the long runs get far fewer sequences to fit minutes of a shared 2-core CPU
#: (docs/results.md says which budget each table had; --samples / --epochs override it).
BUDGETS = {30: (6000, 10), 100: (20000, 10), 500: (2000, 4), 1000: (2000, 2)}


def compile_indrnn(demo: Demo, steps: int) -> Path:
    """adding_indrnn.yaml with recurrent_max = 2 ** (1 / T), the paper's bound for relu."""
    text = demo.spec("adding_indrnn").read_text(encoding="utf-8")
    bound = 2 ** (1 / steps)
    text = text.replace("recurrent_max: 1.0069555500567189", f"recurrent_max: {bound!r}")
    text = text.replace("(T = 100)", f"(T = {steps})")
    spec = demo.out / "specs" / f"adding_indrnn_T{steps}.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text, encoding="utf-8")
    folder = demo.out / "code" / f"adding_indrnn_T{steps}-{demo.backend}"
    run([sys.executable, "-m", "seqspec", "compile", str(spec), "--backend", demo.backend,
         "-o", str(folder)])
    return folder


def main(argv: list[str] | None = None) -> None:
    demo, args = parse("adding", __doc__.splitlines()[0], argv, extra=_options)
    steps = 30 if demo.quick else args.steps
    cells = tuple(args.cells.split(",")) if args.cells else (
        CELLS if steps in (30, 100) else LONG_CELLS)
    unknown = [c for c in cells if c not in CELLS]
    if unknown or steps < 2:
        raise SystemExit(f"adding: unknown cell {unknown[0]!r}; use {', '.join(CELLS)}"
                         if unknown else "adding: --steps must be at least 2")
    samples, epochs = BUDGETS.get(steps, (max(2000, 1_000_000 // steps), 5))
    samples, epochs = args.samples or samples, args.epochs or epochs
    standard = steps == 100 and cells == CELLS and (samples, epochs) == BUDGETS[100]
    if not (standard or demo.quick):
        demo.stem = f"adding_T{steps}"  # its own results, beside the standard T = 100 section
    batch, lr, clip, seed = 64, 3e-3, 1.0, 0
    data = write_data(DATA / f"adding_T{steps}.npz", samples, steps, seed=1997)
    x, y = make_data(samples, steps, seed=1997)
    codes = {cell: compile_indrnn(demo, steps) if cell == "indrnn" and steps != 100
             else demo.compile(f"adding_{cell}") for cell in cells}
    test_rows = split_test_indices(codes[cells[0]], samples, seed)
    trivial = float(np.mean((y[test_rows] - 1.0) ** 2))  # always answer E[y] = 1

    results = {}
    for cell in cells:
        results[cell] = demo.train(codes[cell], f"{cell}-T{steps}", "--data", str(data),
                                   "--epochs", str(epochs), "--batch-size", str(batch),
                                   "--lr", str(lr), "--clip-norm", str(clip),
                                   "--seed", str(seed))

    # Gradient norms on 256 test sequences, at the initial weights and the trained ones.
    probe = test_rows[:256]
    curves = {}
    for cell in cells:
        trained = load_weights(Path(results[cell]["out"]) / "weights.npz")
        curves[cell] = {}
        for when, weights in (("initial", init_weights_of(codes[cell])), ("trained", trained)):
            summary = gradient_summary(hidden_gradient_norms(cell, weights, x[probe], y[probe]))
            summary["saturated_fraction"] = saturated_fraction(cell, weights, x[probe])
            curves[cell][when] = summary
    curves_png = plot_curves(demo, results, trivial, steps)
    gradients_png = plot_gradients(demo, curves, steps)

    updates = max(r["step"] for r in results.values())
    rows, numbers = [], {"steps_T": steps, "samples": samples, "epochs": epochs,
                         "batch_size": batch, "lr": lr, "clip_norm": clip,
                         "test_sequences": len(test_rows), "trivial_mse": trivial,
                         "backend": demo.backend, "models": {}}
    for cell in cells:
        r = results[cell]
        mse = r["test_rmse"] ** 2
        solved = next((h["step"] for h in r["history"] if h["val_loss"] < 0.01), None)
        numbers["models"][cell] = {
            "test_mse": mse, "test_rmse": r["test_rmse"], "seconds": r["seconds"],
            "steps": r["step"], "first_step_val_mse_below_0.01": solved,
            "gradients": curves[cell]}
        rows.append([cell, f"{mse:.4f}", f"{mse / trivial:.3f}", r["step"],
                     solved if solved is not None else "never", f"{r['seconds']:.0f}",
                     f"{curves[cell]['initial']['reach']:.1e}",
                     f"{curves[cell]['trained']['reach']:.1e}"])
    mses = {cell: numbers["models"][cell]["test_mse"] for cell in cells}
    solved_cells = [cell for cell in cells if mses[cell] < 0.01]
    verdict = (
        f"With the same budget, {' and '.join(c for c in solved_cells) or 'no cell'} reached a "
        f"test MSE below 0.01; "
        + "; ".join(f"{c} ended at {mses[c] / trivial:.2f} times the trivial predictor's MSE"
                    for c in cells if c not in solved_cells)
        + (". " if len(solved_cells) < len(cells) else "")
        + "\"Gradient reach\" is explained below."
    )
    gradient_text = " ".join(
        f"{cell}: {c['initial']['reach']:.1e} of the error signal reaches the first half at "
        f"initialisation, {c['trained']['reach']:.1e} after training (a factor of "
        f"{c['trained']['factor_per_step']:.3f} per step back; "
        f"{c['trained']['saturated_fraction']:.0%} of its hidden values have |h| > 0.99)."
        for cell, c in curves.items())
    if steps == 100 and "elman" in curves:
        gradient_text += (
            " The Elman network, which found no path for the first marked value and settles on "
            "the trivial answer, ends saturated, with a gradient that no longer sees the first "
            "half: the lesson is in the right-hand panel.")
    indrnn_spec = ("relu, u in U(0, 1),\n|u| clipped to 2^(1/T) after every update as in the "
                   "paper" if "indrnn" in cells else "")
    title = f"T = {steps}"
    if demo.stem:  # a variant: say what it ran
        title += f": {', '.join(cells)}, {updates} updates"
    md = f"""# The adding problem ({title})

Hochreiter & Schmidhuber's (1997) adding problem, generated on the fly ({samples} sequences,
split 80/10/10 by the generated `train.py`): each step holds a value from U(0, 1) and a marker,
1 at exactly two steps (one in each half); the target is the sum of the two marked values. The
trivial predictor (always 1.0) scores MSE {trivial:.4f} on the test set (1/6 in expectation).
The specs (`examples/demos/adding_{{{','.join(cells)}}}.yaml`: one layer of 64 units, the
last state, a linear output{'; IndRNN ' + indrnn_spec if indrnn_spec else ''}) are trained by
the generated {demo.backend} `train.py` with the same budget: Adam, lr {lr}, batch {batch}, clip
norm {clip}, {epochs} epochs.

{table(["cell", "test MSE", "/ trivial", "steps", "first step with val MSE < 0.01",
        "seconds", "gradient reach, initial", "trained"], rows)}
{verdict}

![validation MSE per epoch](./{curves_png})

## How far back the error signal reaches

![gradient norm against steps back](./{gradients_png})

For 256 test sequences, ||dL/dh_(T-k)||: the norm of the gradient of each sequence's squared
error with respect to the hidden state k steps before the last one, divided by its value at the
last state (k = 0) and averaged geometrically over the sequences, on a log scale; left at the
initial weights (`init_weights(0)`, what every run starts from), right after training. Dividing
by the k = 0 gradient removes the size of the residual, so the trained models, whose losses
differ by orders of magnitude, compare. The first marked value always lies in the first half of
the sequence, right of the dotted line (k >= T/2); the "gradient reach" columns above are the
geometric mean of the curve there. The curves are computed by an explicit loop over the
canonical weights of each run's `weights.npz` (`demos/adding.py: unroll`), which
`tests/demos/test_adding.py` checks against autograd through the generated model; the raw
means, unnormalised, are in `{demo.stem or demo.name}.json`.

{gradient_text}
"""
    demo.finish(md, numbers)


if __name__ == "__main__":
    main()
