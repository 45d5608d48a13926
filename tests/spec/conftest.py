"""Helpers for spec-language tests: build, validate and lower specs written as dicts or YAML."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import seqspec
from seqspec import ir
from seqspec.errors import SpecError


def make_sequence_model(layers: list[dict[str, Any]], *, scheme: str = "many_to_many",
                   inp: dict[str, Any] | None = None, head: dict[str, Any] | None = None,
                   **extra: Any) -> dict[str, Any]:
    """A spec dict around ``layers`` (features of size 3 and a 1-output regression by default)."""
    model = {"scheme": scheme, "input": inp or {"kind": "features", "size": 3},
             "layers": layers, "head": head or {"kind": "regression"}}
    model.update(extra)
    return {"seqspec": 1, "name": "m", "model": model}


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sequence_model():
    """sequence_model(layers, ...) -> a spec dict (see :func:`make_sequence_model`)."""
    return make_sequence_model


@pytest.fixture
def lower_dict(tmp_path: Path):
    """lower_dict(spec_dict) -> ir.Model through the real file path (YAML dump, load, lower)."""
    import yaml

    def run(spec: dict[str, Any]) -> ir.Model:
        path = write(tmp_path, yaml.safe_dump(copy.deepcopy(spec), sort_keys=False))
        return seqspec.lower_file(path)

    return run


@pytest.fixture
def problems(tmp_path: Path):
    """problems(spec_dict or YAML text) -> [(path, message)] of the SpecError it raises."""
    import yaml

    from seqspec.errors import format_path

    def run(spec: dict[str, Any] | str) -> list[tuple[str, str]]:
        text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)
        path = write(tmp_path, text)
        with pytest.raises(SpecError) as info:
            seqspec.lower_file(path)
        return [(format_path(p.path), p.message) for p in info.value.problems]

    return run
