"""The generated predict.py: one script for every backend (tests/generated pins its bytes,
lint and imports)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
IDS = [p.stem for p in EXAMPLES]
BACKENDS = ["numpy", "torch", "tensorflow"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """predict.py of every example and backend, from specs at a fixed relative place."""
    root = tmp_path_factory.mktemp("predict-golden")
    (root / "spec").mkdir()
    out = {}
    for example in EXAMPLES:
        spec = root / "spec" / example.name
        shutil.copy(example, spec)
        for backend in BACKENDS:
            folder = root / "out" / example.stem / backend
            seqspec.compile_spec(spec, backend, folder)
            out[example.stem, backend] = (folder / "predict.py").read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("example", IDS)
def test_one_script_for_every_backend(example, compiled):
    # the script uses the Model API alone, the same in every backend, through its backend's
    # train runtime
    texts = {
        compiled[example, backend].replace(f"{backend}_train_runtime", "numpy_train_runtime")
        for backend in BACKENDS
    }
    assert len(texts) == 1


