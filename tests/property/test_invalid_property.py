"""Valid specs mutated into invalid ones (wrong types, out-of-range sizes, unknown or missing
keys, bad enum values, broken YAML): every one is refused with located errors and exit 1 by
``seqspec validate``, never with a traceback."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import time
from pathlib import Path

import pytest
from budget import STATS, budget
from hypothesis import given, note
from spec_strategies import invalid_documents, specs

import seqspec
from seqspec.errors import SpecError

cli = pytest.importorskip("seqspec.cli")


def _validate(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["validate", str(path)])
    return code, out.getvalue(), err.getvalue()


@budget("invalid")
@given(case=invalid_documents())
def test_mutated_specs_get_located_errors_and_exit_1(case: tuple[str, str]) -> None:
    how, text = case
    note(f"{how}:\n{text}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SpecError) as info:
            seqspec.load(path)
        assert info.value.problems
        assert all(p.line is not None and p.file == str(path) for p in info.value.problems)
        code, out, err = _validate(path)
    STATS.record("invalid", time.perf_counter() - start)
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert "internal error" not in err and "bug in seqspec" not in err
    lines = err.strip().splitlines()
    assert lines
    located = re.compile(rf"^{re.escape(str(path))}:\d+:\d+: error: ")
    assert all(located.match(line) for line in lines), err


@budget("invalid")
@given(spec=specs())
def test_the_unmutated_specs_are_valid(spec: dict) -> None:
    """The generator's valid specs are valid: the mutations above start from real specs."""
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")
        seqspec.lower_file(path)
        code, _, err = _validate(path)
    assert code == 0, err
