"""Demo 5: 8x8 digit pixels -> the digit's name spelled letter by letter (one-to-many).

The tokens and the data maker are checked fast; the demo's reduced run (``-m demo``) checks the
direction: most held-out images spelled exactly right, and what is generated decodes to names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import seqspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demos"))
import digits_spell  # noqa: E402


def test_tokens_round_trip_and_fit_the_spec() -> None:
    for name in digits_spell.NAMES:
        tokens = digits_spell.encode(name)
        assert tokens[-1] == digits_spell.END and min(tokens[:-1]) >= 3
        assert digits_spell.decode([*tokens, digits_spell.PAD]) == name
    assert digits_spell.decode([digits_spell.TOKEN["s"], digits_spell.START]) == "s?"
    spec = (ROOT / "examples" / "demos" / "digits_spell.yaml").read_text(encoding="utf-8")
    assert f"vocab_size: {digits_spell.VOCAB}," in spec
    assert f"classes: {digits_spell.VOCAB}}}" in spec
    assert f"max_length: {digits_spell.STEPS}\n" in spec
    model = seqspec.lower_file(ROOT / "examples" / "demos" / "digits_spell.yaml")
    assert model.data.source == "data/digits_spell.npz"


def test_make_data_spells_every_label(tmp_path: Path) -> None:
    arrays = digits_spell.make_data(tmp_path / "spell.npz")
    assert arrays["features"].shape == (1797, 64) and arrays["y"].shape == (1797, 6)
    for row in range(0, 1797, 97):
        n = arrays["lengths"][row]
        name = digits_spell.NAMES[arrays["labels"][row]]
        assert n == len(name) + 1
        assert digits_spell.decode(arrays["y"][row, :n]) == name
        assert (arrays["y"][row, n:] == digits_spell.PAD).all()


@pytest.mark.demo
def test_digits_spell_quick_spells_names(run_demo) -> None:
    result = run_demo("digits_spell")
    # guessing one of ten names would match 10% of the time
    assert result["test_exact_match"] > 0.7, result
    n, wrong = result["test_images"], result["wrong"]
    assert (n - wrong) / n == pytest.approx(result["test_exact_match"])
    # nearly everything generated is one of the ten names
    assert (wrong - result["wrong_but_a_name"]) / n < 0.1, result["mistakes"]
    assert len(set(result["spelled_names"]) & set(digits_spell.NAMES)) == 10
