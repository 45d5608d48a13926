"""Property: any chain of Embedding / Masking, SimpleRNN / LSTM / GRU (optionally
Bidirectional, every merge mode), pooling and a Dense head that the importer accepts passes its
own self-check against Keras (float32 within 1e-5)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("hypothesis")

PROPERTY = Path(__file__).resolve().parents[1] / "property"
if str(PROPERTY) not in sys.path:  # importlib import mode: the shared budgets
    sys.path.insert(0, str(PROPERTY))

from budget import budget  # noqa: E402
from hypothesis import given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from seqspec.importers import import_model  # noqa: E402
from seqspec.importers.common import TOLERANCE, SourceError  # noqa: E402


@st.composite
def recurrent(draw: st.DrawFn, last: bool, sequences: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    cfg: dict[str, Any] = {"units": draw(st.integers(1, 5)), "use_bias": draw(st.booleans()),
                           "return_sequences": sequences or not last}
    if kind == "SimpleRNN":
        cfg["activation"] = draw(st.sampled_from(["tanh", "relu", "sigmoid"]))
    if kind == "GRU":
        cfg["reset_after"] = draw(st.booleans())
    merge = draw(st.sampled_from([None, "concat", "sum", "ave", "mul"]))
    return {"kind": kind, "config": cfg, "merge": merge}


@st.composite
def chains(draw: st.DrawFn) -> dict[str, Any]:
    tokens, masked = draw(st.booleans()), draw(st.booleans())
    depth = draw(st.integers(1, 2))
    pooling = draw(st.sampled_from([None, "avg", "max"]))
    many_to_many = pooling is None and draw(st.booleans())
    layers = [draw(recurrent(k == depth - 1, pooling is not None or many_to_many))
              for k in range(depth)]
    return {"tokens": tokens, "masked": masked, "vocab": draw(st.integers(2, 9)),
            "features": draw(st.integers(1, 4)), "layers": layers, "pooling": pooling,
            "outputs": draw(st.integers(1, 3)), "softmax": draw(st.booleans()),
            "head_bias": draw(st.booleans()), "seed": draw(st.integers(0, 2**16))}


def _build(chain: dict[str, Any]) -> Any:
    from keras import layers as L

    keras.utils.set_random_seed(chain["seed"])
    if chain["tokens"]:
        stack = [keras.Input((None,), dtype="int32"),
                 L.Embedding(chain["vocab"], 3, mask_zero=chain["masked"])]
    else:
        stack = [keras.Input((None, chain["features"]))]
        if chain["masked"]:
            stack.append(L.Masking(0.0))
    for spec in chain["layers"]:
        layer = getattr(L, spec["kind"])(**spec["config"])
        stack.append(L.Bidirectional(layer, merge_mode=spec["merge"]) if spec["merge"]
                     else layer)
    if chain["pooling"]:
        stack.append(L.GlobalAveragePooling1D() if chain["pooling"] == "avg"
                     else L.GlobalMaxPooling1D())
    stack.append(L.Dense(chain["outputs"], use_bias=chain["head_bias"],
                         activation="softmax" if chain["softmax"] else None))
    model = keras.Sequential(stack)
    for w in model.weights:  # non-zero biases, so a dropped or misplaced one shows
        w.assign(keras.random.uniform(w.shape, -0.5, 0.5, seed=chain["seed"]))
    return model


@pytest.mark.slow
@given(chains())
@budget("import_roundtrip")
def test_every_keras_chain_imports_within_tolerance(chain: dict[str, Any]) -> None:
    note(str(chain))
    with tempfile.TemporaryDirectory() as tmp:
        _build(chain).save(str(Path(tmp) / "drawn.keras"))
        if chain["masked"] and chain["pooling"] == "max":
            with pytest.raises(SourceError, match="ignores the mask"):
                import_model(Path(tmp) / "drawn.keras", Path(tmp) / "out")
            return
        if chain["softmax"] and chain["outputs"] == 1:
            with pytest.raises(SourceError, match="1-class softmax"):
                import_model(Path(tmp) / "drawn.keras", Path(tmp) / "out")
            return
        report = import_model(Path(tmp) / "drawn.keras", Path(tmp) / "out")
        assert report.max_difference <= TOLERANCE["float32"]
