"""demos/char_lm.py: the character-level language model, its baselines and its generations."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import lzma
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_demo():
    spec = importlib.util.spec_from_file_location("char_lm_demo", ROOT / "demos" / "char_lm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_held_out_text_is_what_train_py_scores():
    """Train, validation, test in time order; the validation rows' targets, tail dropped."""
    demo = load_demo()
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    train, scored = demo.held_out_text(text, validation=0.1, test=0.05, steps=7)
    assert train == text[:850]
    held = text[850:950]  # 100 characters: 14 rows of 7 inputs, targets shifted by one
    assert scored == held[1:99]
    assert len(scored) == 14 * 7


def test_baselines_are_the_compressors_bits_per_character():
    demo = load_demo()
    train, held = "def f(x):\n    return x\n" * 200, "def g(y):\n    return y\n" * 20
    base = demo.baselines(train, held)
    alone = 8 * len(lzma.compress(held.encode(), preset=9)) / len(held)
    assert base["xz"]["alone"] == pytest.approx(alone)
    assert base["gzip"]["alone"] == pytest.approx(
        8 * len(gzip.compress(held.encode(), 9, mtime=0)) / len(held))
    for name in ("gzip", "xz"):  # the training text makes the held-out text cheaper
        assert 0 < base[name]["after_train"] < base[name]["alone"]


def test_corpus_is_printable_ascii(tmp_path):
    demo = load_demo()
    text = demo.make_data(tmp_path / "c.txt", 20_000)
    assert len(text) == 20_000
    assert (tmp_path / "c.txt").read_text(encoding="ascii") == text
    assert all(ch == "\n" or " " <= ch <= "~" for ch in text)


@pytest.mark.demo
def test_char_lm_quick(run_demo):
    result = run_demo("char_lm")
    stages = result["stages"]
    bpcs = [s["bpc"] for s in stages]
    # training more lowers the held-out bits per character, below a uniform guess
    assert all(b < a for a, b in itertools.pairwise(bpcs)), bpcs
    assert bpcs[-1] < result["uniform_bpc"] == pytest.approx(math.log2(result["vocab_size"]))
    assert result["final_bpc"] == bpcs[-1]
    assert [s["step"] for s in stages] == sorted({s["step"] for s in stages})
    assert result["unknown_chars"] == 0
    assert 0 <= result["held_out_shared_40"] <= 1
    for name in ("gzip", "xz"):
        for kind in ("alone", "after_train"):
            assert 0 < result["baselines_bpc"][name][kind] < 8
    # samples: the prime, then exactly the requested number of characters
    texts = [s["sample"] for s in stages] + [g["text"] for g in result["generations"]]
    length = len(texts[0]) - len(result["prime"])
    assert length > 0
    for text in texts:
        assert text.startswith(result["prime"])
        assert len(text) == len(result["prime"]) + length
    labels = [g["label"] for g in result["generations"]]
    assert labels[0] == "argmax" and any("top-k" in label for label in labels)
    assert len({g["text"] for g in result["generations"]}) > 1  # the strategies differ


def test_shared_fraction_counts_characters_copied_from_the_training_text():
    demo = load_demo()
    train = "abcdefghij" * 3
    assert demo.shared_fraction(train, "cdefg" + "xxxxx", width=4) == 0.5
    assert demo.shared_fraction(train, "zzzzzzzz", width=4) == 0.0
