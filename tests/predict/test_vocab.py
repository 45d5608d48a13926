"""predict.py on a TEXT file encodes it with the training run's vocabulary (vocab.json).

train.py numbers the tokens of its training text (id 0 is "<unk>", then the kept tokens in
sorted order) and writes them to vocab.json next to weights.npz. predict.py must encode a NEW
text with those ids, not with a vocabulary of its own: a text that holds only some of the
training symbols would otherwise give them other ids than the model learned. A model is trained
2 steps with torch; every backend's predict.py is checked against outputs computed here by hand
from the NumPy model.py and vocab.json. Symbols the vocabulary lacks are refused in one line,
unless training itself read such symbols as "<unk>" (a full vocabulary: the word-level case).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import seqspec
from seqspec import cli

from .test_script import BACKENDS, predict_py, run

STEPS = 10
CHAR_LM = f"""seqspec: 1
name: char_lm
model:
  scheme: many_to_many
  input: {{kind: tokens, vocab_size: 12, encoding: embedding, embedding_dim: 8}}
  layers: [{{cell: gru, hidden_size: 8}}]
  head: {{kind: softmax, classes: 12}}
data: {{source: data.txt, format: text, level: char, sequence_length: {STEPS},
       split: {{validation: 0.1}}}}
training: {{optimizer: adam, learning_rate: 0.03, epochs: 1, batch_size: 8}}
"""
# 6 ids for 8 words: the training text's rarest words are "<unk>" in training already
WORD_LM = CHAR_LM.replace("char_lm", "word_lm").replace("level: char", "level: word").replace(
    "vocab_size: 12", "vocab_size: 6").replace("classes: 12", "classes: 6")
WORDS = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen"]


def train_on(folder: Path, yaml: str, text: str) -> Path:
    spec = folder / "lm.yaml"
    spec.write_text(yaml, encoding="utf-8")
    (folder / "data.txt").write_text(text, encoding="utf-8")
    for backend in BACKENDS:
        seqspec.compile_spec(spec, backend, folder / backend)
    proc = run(folder / "torch" / "train.py", "--max-steps", "2", "--out", folder / "run",
               "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "run" / "weights.npz"


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    """(folder, weights.npz, new text file, its text): the new text holds a subset of the
    training characters, the most frequent one first in ids ('h') absent and 'g' the commonest."""
    folder = tmp_path_factory.mktemp("char_lm")
    rng = np.random.default_rng(0)
    weights = train_on(folder, CHAR_LM, "".join(rng.choice(list("abcdefgh \n"), size=1500)))
    text = "".join(rng.choice(list("gggggdb \n"), size=300))
    new = folder / "new.txt"
    new.write_text(text, encoding="utf-8")
    return folder, weights, new, text


@pytest.fixture(scope="module")
def word_lm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("word_lm")
    rng = np.random.default_rng(1)
    p = np.array([8, 7, 6, 5, 4, 3, 2, 1], float)
    words = rng.choice(WORDS, size=600, p=p / p.sum())
    weights = train_on(folder, WORD_LM, " ".join(words) + "\n")
    text = " ".join(rng.choice(["eel", "eel", "ant", "hen", "yak"], size=200)) + "\n"
    new = folder / "new.txt"
    new.write_text(text, encoding="utf-8")
    return folder, weights, new, text


def last_line(proc) -> str:
    """The message a failed run ends with (TensorFlow may log lines of its own before it)."""
    return proc.stderr.strip().splitlines()[-1]


def by_hand(folder: Path, weights: Path, tokens: list[str]) -> np.ndarray:
    """The outputs predict.py must give: the tokens numbered by vocab.json (unknown ones 0),
    train.py's split (90% then 10%) cut into rows of STEPS, through the NumPy model."""
    vocab = json.loads((weights.parent / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    ids = np.array([vocab.index(tok) if tok in vocab else 0 for tok in tokens])
    n_val = int(len(ids) * 0.1)
    rows = []
    for part in (ids[: len(ids) - n_val], ids[len(ids) - n_val :]):
        steps = min(STEPS, len(part) - 1)
        n = (len(part) - 1) // steps
        rows.append(part[: n * steps].reshape(n, steps))
    x = np.concatenate(rows)
    path = folder / "numpy" / "model.py"
    spec = importlib.util.spec_from_file_location(f"{folder.name}_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    model = module.Model(dtype="float64")
    model.load_npz(str(weights))
    return np.asarray(model.predict(x=x))


def predicted(folder, backend, weights, new, out, *extra) -> np.ndarray:
    proc = predict_py(folder, backend, "--weights", weights, "--data", new, "-o", out,
                      "--dtype", "float64", *extra)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as f:
        return f["outputs"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_char_text_is_encoded_with_the_training_vocab(char_lm, backend, tmp_path):
    folder, weights, new, text = char_lm
    found = predicted(folder, backend, weights, new, tmp_path / "out.npz")
    np.testing.assert_allclose(found, by_hand(folder, weights, list(text)), rtol=1e-9, atol=1e-9)
    # the text's own vocabulary numbers its characters otherwise: the case that was wrong
    vocab = json.loads((weights.parent / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    own = ["<unk>", *sorted(set(text))]
    assert [own.index(c) for c in "gdb"] != [vocab.index(c) for c in "gdb"]
    proc = predict_py(folder, backend, "--weights", weights, "--data", new, "--evaluate",
                      "--format", "json", "--dtype", "float64")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(json.loads(proc.stdout.splitlines()[-1])) == {"val_loss", "val_bpc"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_word_text_reads_unknown_words_as_training_did(word_lm, backend, tmp_path):
    """The training vocabulary is full ("gnu", "hen" were "<unk>" in training): an unknown word
    ("yak") is id 0, train.py's own rule, not a refusal."""
    folder, weights, new, text = word_lm
    vocab = json.loads((weights.parent / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    assert len(vocab) == 6 and "hen" not in vocab and "yak" not in vocab
    found = predicted(folder, backend, weights, new, tmp_path / "out.npz")
    tokens = text.split(" ")
    tokens = [*tokens[:-1], tokens[-1].rstrip("\n"), "\n"]
    np.testing.assert_allclose(found, by_hand(folder, weights, tokens), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fixture", ["char_lm", "word_lm"])
def test_evaluate_on_the_training_text_equals_final_json(fixture, request):
    folder, weights, _, _ = request.getfixturevalue(fixture)
    final = json.loads((weights.parent / "final.json").read_text(encoding="utf-8"))
    expected = {k: v for k, v in final.items() if k.startswith(("val_", "test_"))}
    for backend in BACKENDS:
        proc = predict_py(folder, backend, "--weights", weights, "--evaluate", "--format",
                          "json", "--dtype", "float64", "--batch-size", "8")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout.splitlines()[-1]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_characters_are_one_line(char_lm, backend, tmp_path):
    """The char vocabulary has room left: "<unk>" never stood for anything in training."""
    folder, weights, _, _ = char_lm
    new = tmp_path / "new.txt"
    new.write_text("abc xyz\nzz a" * 3, encoding="utf-8")
    out = tmp_path / "out.npz"
    proc = predict_py(folder, backend, "--weights", weights, "--data", new, "-o", out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert last_line(proc) == (
        f"{new}: 15 tokens (3 distinct, first 'x') are not in the training vocabulary "
        f"{weights.parent / 'vocab.json'}"
    )
    assert not out.exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_prime_with_unknown_characters_is_one_line(char_lm, backend):
    """--prime is checked like a data file: a prompt symbol that training never saw is no
    silent <unk>; nothing is generated for any prompt."""
    folder, weights, _, _ = char_lm
    proc = predict_py(folder, backend, "--weights", weights, "--prime", "a", "--prime", "xyzzy")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert last_line(proc) == (
        f"--prime: 5 tokens (3 distinct, first 'x') are not in the training vocabulary "
        f"{weights.parent / 'vocab.json'}"
    )
    assert proc.stdout.strip() == ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_vocab_is_one_line(char_lm, backend, tmp_path):
    folder, weights, new, _ = char_lm
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")  # without its vocab.json
    proc = predict_py(folder, backend, "--weights", lone / "weights.npz", "--data", new,
                      "--evaluate")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert last_line(proc) == (
        f"no vocabulary {str(lone / 'vocab.json')!r}: train.py writes vocab.json next to "
        "weights.npz (pass --vocab FILE)"
    )


def test_a_bad_vocab_is_one_line_and_vocab_names_another(char_lm, tmp_path):
    """The reading is predict.py's shared code: once, with NumPy."""
    folder, weights, new, text = char_lm
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")
    (tmp_path / "broken.json").write_text('{"tokens": [', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "nounk.json").write_text('{"tokens": ["a", "b"]}', encoding="utf-8")
    (tmp_path / "big.json").write_text(json.dumps({"tokens": ["<unk>", *"abcdefghijklm"]}),
                                       encoding="utf-8")
    for name in ("broken.json", "list.json", "nounk.json", "big.json"):
        proc = predict_py(folder, "numpy", "--weights", lone / "weights.npz", "--data", new,
                          "--evaluate", "--vocab", tmp_path / name)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert last_line(proc).startswith(f"{tmp_path / name}: not a vocab.json of train.py")
    found = predicted(folder, "numpy", lone / "weights.npz", new, tmp_path / "out.npz",
                      "--vocab", weights.parent / "vocab.json")
    np.testing.assert_allclose(found, by_hand(folder, weights, list(text)), rtol=1e-9)


def test_seqspec_predict_and_evaluate_use_the_vocab(char_lm, tmp_path, capfd):
    folder, weights, new, text = char_lm
    spec = str(folder / "lm.yaml")
    out = tmp_path / "cli.npz"
    code = cli.main(["predict", spec, "-b", "numpy", "--weights", str(weights), "--data",
                     str(new), "-o", str(out), "--dtype", "float64"])
    assert code == 0, capfd.readouterr().err
    with np.load(out) as f:
        np.testing.assert_allclose(f["outputs"], by_hand(folder, weights, list(text)), rtol=1e-9)
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(weights, lone / "weights.npz")
    capfd.readouterr()
    code = cli.main(["evaluate", spec, "-b", "numpy", "--weights", str(lone / "weights.npz")])
    assert code == 1
    assert capfd.readouterr().err.strip().startswith(f"no vocabulary {str(lone / 'vocab.json')!r}")
    code = cli.main(["evaluate", spec, "-b", "numpy", "--weights", str(lone / "weights.npz"),
                     "--vocab", str(weights.parent / "vocab.json"), "--format", "json"])
    assert code == 0
    assert "val_bpc" in json.loads(capfd.readouterr().out.splitlines()[-1])
    # --scaler is for CSV series only: one line, exit 1, not a usage error
    code = cli.main(["evaluate", spec, "-b", "numpy", "--weights", str(weights),
                     "--scaler", str(tmp_path / "scaler.json")])
    assert code == 1
    assert capfd.readouterr().err.strip().splitlines()[-1] == (
        "--scaler: this model reads no CSV series (scaler.json is for CSV only)")


@pytest.mark.parametrize("backend", BACKENDS)
def test_vocab_for_a_csv_model_is_one_line(backend, compile_text, tmp_path):
    from .test_scaling import FORECASTER

    _, folder = compile_text("forecaster", FORECASTER, backend)
    proc = run(folder / "predict.py", "--weights", tmp_path / "w.npz", "--evaluate",
               "--vocab", tmp_path / "vocab.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert last_line(proc) == "--vocab: this model reads no text (vocab.json is for text only)"
