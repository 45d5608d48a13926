"""spec -> ``seqspec export --format onnx`` -> ``seqspec import`` gives back the same spec (up
to formatting and what ONNX does not carry) and bit-identical canonical weights, for every
example whose graph the importer reads; the others are refused in one line naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec.cli import main
from seqspec.weights import load_npz, random_weights, save_npz

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {p.stem: p for p in sorted((ROOT / "examples").glob("*.yaml"))}
#: Examples whose ONNX graph needs what the importer refuses, and the words that say why.
REFUSED = {
    "jordan_series": "(Scan)",  # a Jordan layer is a Scan: no ONNX operator feeds outputs back
    "jordan_bidirectional_classifier": "(Scan)",
    "indrnn_classifier": "(Scan)",  # an IndRNN layer is a Scan too: no ONNX operator has u * h
    "seq2seq_gru": "initial_h",  # a decoder starts from the encoder's state
    "seq2seq_bilstm_dense": "initial_h",
    "caption_one_to_many": "initial_h",
}
ROUND_TRIP = [name for name in EXAMPLES if name not in REFUSED]
#: What ONNX does not carry: initialisers and the forget-gate bias's initial value (training
#: only), dropout (inactive at inference).
NOT_IN_ONNX = {"init", "forget_bias", "dropout"}


def _model_section(spec: seqspec.spec.Spec) -> dict:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in NOT_IN_ONNX}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(spec.model.model_dump())


def _export(name: str, folder: Path) -> tuple[Path, dict[str, np.ndarray]]:
    model = seqspec.lower_file(EXAMPLES[name])
    # float32-representable values: the graph holds float32, so these survive it exactly
    weights = {k: v.astype(np.float32).astype(np.float64)
               for k, v in random_weights(model, 0).items()}
    save_npz(folder / "weights.npz", weights)
    onnx_path = folder / f"{name}.onnx"
    assert main(["export", str(EXAMPLES[name]), "--format", "onnx", "-o", str(onnx_path),
                 "--weights", str(folder / "weights.npz")]) == 0
    return onnx_path, weights


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_export_then_import_gives_the_same_spec_and_identical_weights(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx_path, weights = _export(name, tmp_path)
    out = tmp_path / "imported"
    assert main(["import", str(onnx_path), "-o", str(out)]) == 0
    assert "self-check" in capsys.readouterr().out
    original, imported = seqspec.load(EXAMPLES[name]), seqspec.load(out / f"{name}.yaml")
    assert imported.name == original.name
    assert _model_section(imported) == _model_section(original)
    back = load_npz(out / "weights.npz")
    assert sorted(back) == sorted(weights)
    for key, value in weights.items():
        assert back[key].dtype == np.float64
        assert back[key].tobytes() == value.tobytes(), key  # bit for bit


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_examples_the_importer_cannot_read_are_refused_in_one_line(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx_path, _ = _export(name, tmp_path)
    capsys.readouterr()
    assert main(["import", str(onnx_path), "-o", str(tmp_path / "imported")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert REFUSED[name] in err
    assert not (tmp_path / "imported").exists()
