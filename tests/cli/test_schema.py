"""The JSON Schema: generated from the pydantic Spec, committed, and never drifting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from seqspec import cli, schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / schema.SCHEMA_PATH
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_committed_schema_has_not_drifted() -> None:
    assert SCHEMA_FILE.read_bytes() == schema.render().encode("utf-8"), (
        "schemas/seqspec.schema.json is out of date; regenerate it with:\n"
        "    seqspec schema -o schemas/seqspec.schema.json"
    )


def test_schema_is_deterministic_and_titled() -> None:
    doc = json.loads(schema.render())
    assert schema.render() == schema.render()
    assert list(doc)[:4] == ["$schema", "$id", "title", "description"]
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == schema.SCHEMA_ID
    assert doc["title"] and doc["additionalProperties"] is False
    assert set(doc["required"]) == {"seqspec", "name", "model"}


def test_every_field_is_documented() -> None:
    doc = json.loads(schema.render())
    undocumented = [
        f"{name}.{key}"
        for name, definition in doc["$defs"].items()
        for key, prop in definition.get("properties", {}).items()
        if "description" not in prop
    ]
    assert undocumented == []


def test_schema_command_prints_the_file(monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_check(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(["schema", "--check"]) == 0
    assert capsys.readouterr().out == "schemas/seqspec.schema.json: up to date\n"

    stale = tmp_path / "stale.json"
    stale.write_text(SCHEMA_FILE.read_text(encoding="utf-8").replace("Number of", "Count of"))
    assert cli.main(["schema", "--check", str(stale)]) == 1
    assert capsys.readouterr().err == (
        f"{stale}: error: the schema is out of date; regenerate it with: "
        f"seqspec schema -o {stale}\n"
    )
    assert cli.main(["schema", "--check", str(tmp_path / "absent.json")]) == 1
    assert "cannot read it" in capsys.readouterr().err

    written = tmp_path / "sub" / "schema.json"
    assert cli.main(["schema", "-o", str(written)]) == 0
    assert written.read_bytes() == SCHEMA_FILE.read_bytes()


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_satisfy_the_schema(validator, example: Path) -> None:
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    "name",
    ["misspelled_key", "misspelled_value", "unknown_cell", "unknown_scheme", "quoted_number",
     "zero_size", "negative_size", "dropout_one", "missing_keys", "bad_name", "wrong_version",
     "size_out_of_range", "layers_not_a_list", "several_errors"],
)
def test_schema_rejects_what_validate_rejects_structurally(validator, name: str) -> None:
    data = yaml.safe_load((ROOT / "tests" / "invalid" / f"{name}.yaml").read_text())
    assert list(validator.iter_errors(data)), f"the schema accepts tests/invalid/{name}.yaml"
