"""Problems in the formats CI systems read: GitHub workflow commands and SARIF 2.1.0.

``seqspec validate --format github`` prints one ``::error file=...,line=...::message`` workflow
command per problem (GitHub Actions turns each into an annotation on the pull request's diff);
``--format sarif`` prints one SARIF 2.1.0 log (GitHub code scanning, GitLab, Azure DevOps and
SARIF viewers read it). Both carry each problem's rule id (:data:`seqspec.errors.RULES`),
severity, and start and end position.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath

from seqspec import __version__
from seqspec.errors import RULES, Problem, escape, format_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def _command_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub's runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``, which end a property."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> str:
    """One workflow command per problem, e.g. ``::error file=a.yaml,line=3,col=5,...::msg``."""
    lines = []
    for p in problems:
        props = [f"file={_command_property(p.file or '<spec>')}"]
        if p.line is not None:
            props.append(f"line={p.line}")
            props.append(f"col={p.column or 1}")
            if p.end_line is not None:
                props.append(f"endLine={p.end_line}")
                props.append(f"endColumn={p.end_column}")
        props.append(f"title={_command_property(f'seqspec {p.rule}')}")
        message = f"{format_path(p.path)}: {escape(p.message)}"
        lines.append(f"::{p.severity} {','.join(props)}::{_command_data(message)}")
    return "".join(line + "\n" for line in lines)


def _uri(file: str | None) -> str:
    """A relative URI reference for a file name (forward slashes, percent-escaped)."""
    from urllib.parse import quote

    return quote(PurePath(file or "<spec>").as_posix(), safe="/")


def _result(p: Problem) -> dict[str, object]:
    region: dict[str, int] = {}
    if p.line is not None:
        region = {"startLine": p.line, "startColumn": p.column or 1}
        if p.end_line is not None and p.end_column is not None:
            region.update(endLine=p.end_line, endColumn=p.end_column)
    location: dict[str, object] = {"artifactLocation": {"uri": _uri(p.file)}}
    if region:
        location["region"] = region
    return {
        "ruleId": p.rule,
        "ruleIndex": list(RULES).index(p.rule),
        "level": p.severity,
        "message": {"text": f"{format_path(p.path)}: {escape(p.message)}"},
        "locations": [{"physicalLocation": location,
                       "logicalLocations": [{"fullyQualifiedName": format_path(p.path)}]}],
    }


def sarif(files: Sequence[str], problems: Sequence[Problem]) -> str:
    """One SARIF 2.1.0 log with one run: every rule, every problem, every file checked."""
    rules = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.summary},
            "defaultConfiguration": {"level": rule.severity},
        }
        for rule in RULES.values()
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "seqspec",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "artifacts": [{"location": {"uri": _uri(f)}} for f in files],
                "results": [_result(p) for p in problems],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
