"""Property: for random valid specs that ONNX and the importer express (many_to_many,
many_to_one and AR models without Jordan layers), export -> import gives back the same model
section (the head's kind aside: ONNX does not record it) and bit-identical weights."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("hypothesis")

PROPERTY = Path(__file__).resolve().parents[1] / "property"
if str(PROPERTY) not in sys.path:  # importlib import mode: the shared strategies and budgets
    sys.path.insert(0, str(PROPERTY))

from budget import budget  # noqa: E402
from hypothesis import given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from spec_strategies import models  # noqa: E402

import seqspec  # noqa: E402
from seqspec.importers import read  # noqa: E402
from seqspec.importers.common import write  # noqa: E402
from seqspec.onnx import export  # noqa: E402
from seqspec.weights import load_npz, random_weights  # noqa: E402

NOT_IN_ONNX = {"init", "forget_bias", "dropout"}


def _normal(model: Any) -> Any:
    """A model section without what ONNX does not carry; the head as (size, bias)."""
    if isinstance(model, dict):
        out = {k: _normal(v) for k, v in model.items() if k not in NOT_IN_ONNX}
        if "kind" in out and ("classes" in out or "outputs" in out):  # a head
            out = {"size": out.get("classes", out.get("outputs")), "bias": out["bias"]}
        return out
    if isinstance(model, list):
        return [_normal(v) for v in model]
    return model


def _importable(model: dict[str, Any]) -> bool:
    return all(layer["cell"] != "jordan" for layer in model.get("layers", []))


@given(st.sampled_from(["many_to_many", "many_to_one", "ar_linear", "ar_mlp"]).flatmap(
    lambda scheme: models(scheme)).filter(_importable))
@budget("import_roundtrip")
def test_export_then_import_is_the_identity(model_section: dict[str, Any]) -> None:
    note(str(model_section))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec_path = folder / "drawn.yaml"
        spec_path.write_text(yaml.safe_dump({"seqspec": 1, "name": "drawn",
                                             "model": model_section}))
        original = seqspec.load(spec_path)
        model = seqspec.lower_file(spec_path)
        weights = {k: v.astype(np.float32).astype(np.float64)
                   for k, v in random_weights(model, 0).items()}
        (folder / "drawn.onnx").write_bytes(export(model, weights).SerializeToString())
        report = write(read(folder / "drawn.onnx"), folder / "imported")
        imported = seqspec.load(report.spec_path)
        assert _normal(imported.model.model_dump()) == _normal(original.model.model_dump())
        back = load_npz(report.weights_path)
        assert sorted(back) == sorted(weights)
        for key, value in weights.items():
            assert back[key].tobytes() == value.tobytes(), key
