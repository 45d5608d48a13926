"""The loader reads YAML 1.2 scalars, JSON escapes, and keeps control characters inert."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seqspec import loader
from seqspec.errors import Problem, SpecError, escape

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "value"), [
    ("1:30", "1:30"),  # YAML 1.1: 90 (sexagesimal)
    ("yes", "yes"), ("on", "on"), ("No", "No"),  # YAML 1.1: booleans
    ("017", 17), ("0o17", 15), ("0x1F", 31),  # YAML 1.1: 017 is octal 15
    ("1_000", "1_000"), ("0b101", "0b101"),  # YAML 1.1: numbers
    ("1e-3", 0.001), ("-2.5E2", -250.0), (".5", 0.5), ("1.", 1.0),
    ("true", True), ("False", False), ("~", None), ("null", None),
    ("'1:30'", "1:30"), ('"017"', "017"), ("!!str 12", "12"), ("!!int '7'", 7),
])
def test_plain_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    doc = loader.parse(f"key: {text}\n")
    assert doc.data["key"] == value
    assert type(doc.data["key"]) is type(value)


def test_json_spec_with_an_escaped_emoji(tmp_path: Path) -> None:
    spec = {"seqspec": 1, "name": "a", "description": "smile \U0001F600 ok",
            "model": {"scheme": "ar_linear", "order": 2}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))  # ensure_ascii: "\ud83d\ude00", a surrogate pair
    assert "\\ud83d\\ude00" in path.read_text()
    doc, _ = loader.read(path)
    assert doc.data["description"] == "smile \U0001F600 ok"
    from seqspec.api import load

    assert load(path).description == "smile \U0001F600 ok"


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(SpecError) as exc:
        loader.parse('description: "a \\ud83d b"\n', "s.yaml")
    assert "lone UTF-16 surrogate" in str(exc.value)


def test_escape_keeps_every_problem_on_one_line() -> None:
    assert escape("plain ümlaut and 中文") == "plain ümlaut and 中文"
    assert escape("a\nb\rc\td\x1b[31m\x00\u202e\u2028") == (
        "a\\nb\\rc\\td\\x1b[31m\\x00\\u202e\\u2028")
    line = Problem(("model", "x\nerror: forged"), "unknown key 'x\\n'", "f\n.yaml", 3, 4).format()
    assert "\n" not in line and line.startswith("f\\n.yaml:3:4: error: model.x\\nerror: forged")


def test_a_pipe_is_read_once_and_bounded() -> None:
    """1 MB + 1 byte through stdin: refused after reading at most one byte past the limit."""
    big = b"seqspec: 1\n" + b"#" * loader.MAX_BYTES
    proc = subprocess.run([sys.executable, "-m", "seqspec", "validate", "-"], input=big,
                          capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.decode() == ("-:1:1: error: <document>: the file has more than 1,000,000 "
                                    "bytes; specs are limited to 1,000,000\n")
