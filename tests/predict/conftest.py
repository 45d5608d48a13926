"""Fixtures of tests/predict: small specs written here and compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import seqspec


@pytest.fixture(scope="session")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("predict-specs")


@pytest.fixture(scope="session")
def compile_text(spec_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """compile_text(name, yaml_text, backend) -> (ir model, compiled folder), cached."""
    cache: dict[tuple[str, str], tuple[object, Path]] = {}

    def compile_(name: str, text: str, backend: str):
        key = (name, backend)
        if key not in cache:
            spec = spec_dir / f"{name}.yaml"
            if not spec.exists():
                spec.write_text(text, encoding="utf-8")
            out = tmp_path_factory.mktemp(f"{name}-{backend}")
            seqspec.compile_spec(spec, backend, out)
            cache[key] = (seqspec.lower_file(spec), out)
        return cache[key]

    return compile_
