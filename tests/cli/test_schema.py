"""The JSON Schema: generated from the pydantic Spec, committed, and never drifting."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from seqspec import cli, schema
from seqspec.errors import format_path

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


# --------------------------------------------------------------------------- the invalid corpus

#: Files that are not a YAML mapping both tools can read the same way (syntax errors, tags,
#: binary, duplicate keys, alias bombs, nesting, files that are not files), or whose problem
#: is the YAML 1.1 vs 1.2 reading itself, which a JSON Schema cannot see.
_NOT_SCHEMA_CASES = {
    "alias_bomb", "binary_garbage", "deep_nesting", "duplicate_key", "python_object_tag",
    "tab_indentation", "yaml_syntax_error", "control_characters", "version_float",
    "empty", "only_comments", "wrong_tagged_value",
    "nan_learning_rate",  # NaN is not a JSON number: no JSON Schema keyword refuses it
    "huge_number",  # check-jsonschema's YAML reader itself crashes on a 5,000-digit integer
}
#: Specs with a misspelled scheme/cell/kind: seqspec checks the rest as the closest kind and
#: reports more than a schema can (which stops at the tag), so the schema's keys are a subset.
_RECOVERED = {"misspelled_cell_recovers", "misspelled_scheme_recovers", "value_synonyms"}
_STRUCTURAL_RULES = {"unknown-key", "missing-key", "unknown-value", "type", "range", "format",
                     "version"}


def _seqspec_keys(name: str) -> set[str]:
    """The keys ``seqspec validate`` reports with a structural rule (what a schema checks)."""
    from seqspec.api import load
    from seqspec.errors import SpecError

    try:
        load(ROOT / "tests" / "invalid" / f"{name}.yaml")
    except SpecError as exc:
        return {format_path(p.path) for p in exc.problems if p.rule in _STRUCTURAL_RULES}
    raise AssertionError(f"tests/invalid/{name}.yaml is valid")


def _schema_key(error: dict[str, str]) -> set[str]:
    """check-jsonschema's path, made a seqspec path; the key itself for unexpected/required."""
    path = error["path"].removeprefix("$").removeprefix(".")
    message = error["message"]
    extra = re.match(r"Additional properties are not allowed \((.*) (?:was|were) unexpected\)",
                     message)
    if extra:
        names = re.findall(r"'([^']*)'", extra.group(1))
        return {f"{path}.{n}" if path else n for n in names}
    required = re.match(r"'([^']*)' is a required property", message)
    if required:
        return {f"{path}.{required.group(1)}" if path else required.group(1)}
    return {path or "<document>"}


@pytest.fixture(scope="module")
def check_jsonschema_errors() -> dict[str, set[str]]:
    """check-jsonschema run once over the whole corpus: file stem -> the keys it reports."""
    exe = shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    names = [n for n in INVALID_SPECS if n not in _NOT_SCHEMA_CASES]
    proc = subprocess.run(
        [exe, "--schemafile", str(SCHEMA_FILE), "-o", "JSON",
         *(f"tests/invalid/{n}.yaml" for n in names)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    report = json.loads(proc.stdout)
    assert not report.get("parse_errors"), report.get("parse_errors")
    found: dict[str, set[str]] = {n: set() for n in names}
    for error in report.get("errors", []):
        found[Path(error["filename"]).stem] |= _schema_key(error)
    return found


INVALID_SPECS = sorted(p.stem for p in (ROOT / "tests" / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("name", [n for n in INVALID_SPECS if n not in _NOT_SCHEMA_CASES])
def test_check_jsonschema_points_at_the_key_seqspec_reports(check_jsonschema_errors,
                                                            name: str) -> None:
    """An editor or CI schema check names the same keys as ``seqspec validate``.

    Every key check-jsonschema reports is one seqspec reports (a required key that a
    misspelled sibling explains counts as that sibling), and every structural problem
    seqspec reports is found by the schema too; specs whose only problems relate values to
    each other pass the schema.
    """
    ours = _seqspec_keys(name)
    theirs = check_jsonschema_errors[name]
    text = (ROOT / "tests" / "invalid" / f"{name}.txt").read_text(encoding="utf-8")
    explained = {k for k in theirs - ours
                 if re.search(rf"did you mean '{re.escape(k.rsplit('.', 1)[-1])}'\?", text)
                 or re.search(rf"{re.escape(k)}: .*belongs", text)
                 or f"{k.rsplit('.', 1)[0]}: unknown" in text}
    if name in _RECOVERED:
        assert theirs and theirs - explained <= ours, f"tests/invalid/{name}.yaml"
    else:
        assert theirs - explained == ours, f"tests/invalid/{name}.yaml"


def test_the_schema_accepts_every_example_in_check_jsonschema() -> None:
    exe = shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    specs = [str(p.relative_to(ROOT)) for p in [*EXAMPLES, *(ROOT / "examples" / "demos")
                                                .glob("*.yaml")]]
    proc = subprocess.run([exe, "--schemafile", str(SCHEMA_FILE), *specs], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unions_are_if_then_on_their_tag() -> None:
    """No OpenAPI ``discriminator`` is left; each tag value selects exactly one definition."""
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert '"discriminator"' not in text and '"oneOf"' not in text
    model = json.loads(text)["properties"]["model"]
    assert model["required"] == ["scheme"]
    tags = model["properties"]["scheme"]["enum"]
    assert [c["if"]["properties"]["scheme"]["const"] for c in model["allOf"]] == tags
    assert len({c["then"]["$ref"] for c in model["allOf"]}) == len(tags) == 6
