"""``inspect``'s native parameter counts equal what torch and Keras count, for every example.

seqspec computes them from the IR (no framework import); these tests build each generated
model in its framework and count: torch's ``sum(p.numel() for p in model.parameters())`` and
Keras' ``count_params()``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import seqspec
from seqspec.summary import native_counts
from seqspec.weights import init_weights

ROOT = Path(__file__).resolve().parents[2]
#: The examples (compiled once per session, shared with the backend tests); the demos' specs
#: use the same cells and only add compile time, so they run with -m slow.
EXAMPLES = [*sorted((ROOT / "examples").glob("*.yaml")),
            *(pytest.param(p, marks=pytest.mark.slow, id=f"demos-{p.stem}")
              for p in sorted((ROOT / "examples" / "demos").glob("*.yaml")))]


def _native(model, backend: str) -> int:
    return next(c.total for c in native_counts(model) if c.backend == backend)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: getattr(p, "stem", None))
def test_torch_counts(example: Path, compiled_dir) -> None:
    pytest.importorskip("torch")
    from seqspec.backends.torch.runner import load_module

    model = seqspec.lower_file(example)
    weights = init_weights(model, 0)
    net = load_module(compiled_dir(example, "torch")).Model(weights=weights, dtype="float32")
    assert _native(model, "torch") == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: getattr(p, "stem", None))
def test_keras_counts(example: Path, compiled_dir) -> None:
    pytest.importorskip("tensorflow")
    from seqspec.backends.tensorflow.runner import load_module

    model = seqspec.lower_file(example)
    weights = init_weights(model, 0)
    net = load_module(compiled_dir(example, "tensorflow")).Model(weights=weights,
                                                                 dtype="float32")
    assert _native(model, "tensorflow") == net.count_params()


def test_numpy_is_canonical_and_reasons_are_given() -> None:
    model = seqspec.lower_file(ROOT / "examples" / "bidirectional_gru_tagger.yaml")
    counts = {c.backend: c for c in native_counts(model)}
    assert counts["numpy"].total == model.parameter_count == 3_750
    assert counts["numpy"].differences == ()
    # gru(16) both ways: torch +2H per direction; elman(8) both ways: torch +H per direction
    assert [(p, d) for p, d, _ in counts["torch"].differences] == [
        ("encoder.layers.0", 64), ("encoder.layers.1", 16)]
    assert all("bias_ih, bias_hh" in why for _, _, why in counts["torch"].differences)
    assert counts["tensorflow"].total == 3_750 + 64


def test_inspect_prints_native_counts(capsys) -> None:
    from seqspec import cli

    assert cli.main(["inspect", str(ROOT / "examples" / "gru_reset_before.yaml")]) == 0
    out = capsys.readouterr().out
    assert "  numpy       1,643  the canonical layout" in out
    assert "  tensorflow  1,623  -20" in out
    assert "b_n and bhn only appear as a sum" in out
