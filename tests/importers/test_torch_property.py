"""Property: any state_dict of nn.Embedding / nn.RNN / nn.LSTM / nn.GRU / nn.Linear that the
importer accepts passes its own self-check (PyTorch's modules against the compiled NumPy model)
for every scheme, pooling, activation and length choice given as flags."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

PROPERTY = Path(__file__).resolve().parents[1] / "property"
if str(PROPERTY) not in sys.path:  # importlib import mode: the shared budgets
    sys.path.insert(0, str(PROPERTY))

from budget import budget  # noqa: E402
from hypothesis import given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from seqspec.importers import import_model  # noqa: E402
from seqspec.importers.common import TOLERANCE  # noqa: E402

CELLS = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


@st.composite
def modules(draw: st.DrawFn) -> tuple[dict, dict, str]:
    from torch import nn

    cell = draw(st.sampled_from(sorted(CELLS)))
    hidden, layers = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    bidirectional, bias = draw(st.booleans()), draw(st.booleans())
    options: dict = {"scheme": draw(st.sampled_from(["many_to_many", "many_to_one"])),
                     "variable_length": draw(st.booleans())}
    if options["scheme"] == "many_to_one":
        options["pooling"] = draw(st.sampled_from(["last", "mean", "max"]))
    kwargs = {"num_layers": layers, "bidirectional": bidirectional, "bias": bias,
              "batch_first": draw(st.booleans())}
    if cell == "elman":
        options["activation"] = draw(st.sampled_from(["tanh", "relu"]))
        kwargs["nonlinearity"] = options["activation"]
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    torch.manual_seed(draw(st.integers(0, 2**16)))
    state = {}
    size = draw(st.integers(1, 4))
    if draw(st.booleans()):
        state["embedding.weight"] = nn.Embedding(draw(st.integers(2, 9)), size).weight
    rnn = CELLS[cell](size, hidden, **kwargs)
    state.update({f"rnn.{k}": v for k, v in rnn.state_dict().items()})
    head = nn.Linear(hidden * (2 if bidirectional else 1), draw(st.integers(1, 4)),
                     bias=draw(st.booleans()))
    state.update({f"head.{k}": v for k, v in head.state_dict().items()})
    state = {k: v.detach().to(dtype) for k, v in state.items()}
    return state, options, "float64" if dtype == torch.float64 else "float32"


@given(modules())
@budget("import_roundtrip")
def test_every_state_dict_imports_within_tolerance(drawn: tuple[dict, dict, str]) -> None:
    state, options, dtype = drawn
    note(f"{sorted((k, tuple(v.shape)) for k, v in state.items())} {options}")
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(state, Path(tmp) / "drawn.pt")
        report = import_model(Path(tmp) / "drawn.pt", Path(tmp) / "out", **options)
        assert report.dtype == dtype
        assert report.max_difference <= TOLERANCE[dtype]
        assert report.spec_path.is_file() and report.weights_path.is_file()
