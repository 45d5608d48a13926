"""The pre-commit hook this repository provides: its definition and what its entry does."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from seqspec import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (found,) = [h for h in hooks if h["id"] == "seqspec-validate"]
    return found


def test_hook_definition(hook: dict) -> None:
    assert hook["language"] == "python"
    assert shlex.split(hook["entry"])[:2] == ["seqspec", "validate"]
    assert hook["name"] and hook["description"]


@pytest.mark.parametrize(
    ("path", "matches"),
    [("model.seqspec.yaml", True), ("models/lm.seqspec.yml", True), ("seqspec.yaml", True),
     ("cfg/seqspec.yml", True), ("examples/elman_lm.yaml", False), ("notseqspec.yaml", False),
     ("model.seqspec.yaml.orig", False), (".pre-commit-config.yaml", False)],
)
def test_hook_file_pattern(hook: dict, path: str, matches: bool) -> None:
    assert bool(re.search(hook["files"], path)) is matches


def test_hook_entry_passes_valid_and_fails_invalid(hook: dict, tmp_path: Path, monkeypatch,
                                                   capsys) -> None:
    args = shlex.split(hook["entry"])[1:]
    good = tmp_path / "lm.seqspec.yaml"
    bad = tmp_path / "bad.seqspec.yaml"
    shutil.copy2(ROOT / "examples" / "elman_lm.yaml", good)
    shutil.copy2(ROOT / "tests" / "invalid" / "misspelled_key.yaml", bad)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*args, good.name]) == 0
    assert capsys.readouterr() == ("", "")  # quiet when all is well
    assert cli.main([*args, good.name, bad.name]) == 1
    assert capsys.readouterr().err.startswith("bad.seqspec.yaml:9:7: error: ")


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_hook_entry_with_a_ci_format(hook: dict, fmt: str, tmp_path: Path, monkeypatch,
                                     capsys) -> None:
    """``args: [--format, github|sarif]`` (README, .pre-commit-hooks.yaml) refuses the commit
    and prints the annotations on standard output."""
    bad = tmp_path / "bad.seqspec.yaml"
    shutil.copy2(ROOT / "tests" / "invalid" / "misspelled_key.yaml", bad)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*shlex.split(hook["entry"])[1:], "--format", fmt, bad.name]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "hiden_size" in out and "unknown-key" in out
