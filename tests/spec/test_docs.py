"""docs/spec.md documents every key and every allowed value of the spec language."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from seqspec import spec

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(tp: typing.Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                seen.append(tp)
                for field in tp.model_fields.values():
                    visit(field.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    visit(spec.Spec)
    return seen


def _literals(tp: typing.Any) -> set[str]:
    if typing.get_origin(tp) is typing.Literal:
        return {str(v) for v in typing.get_args(tp)}
    return {v for arg in typing.get_args(tp) for v in _literals(arg)}


def test_every_key_has_a_table_row() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)`", DOC, flags=re.MULTILINE))
    keys = {name for model in _models() for name in model.model_fields}
    assert keys - rows == set()


def test_every_allowed_value_is_named() -> None:
    named = set(re.findall(r"`([a-z0-9_]+)`", DOC))
    values = {v for model in _models() for f in model.model_fields.values()
              for v in _literals(f.annotation)}
    assert values - named == set()


def test_documented_limits_match_the_code() -> None:
    assert f"{spec.MAX_SIZE:,}" in DOC
    assert f"{spec.MAX_PARAMETERS:,}" in DOC
    assert "1,610,000" in DOC
