"""Every invalid spec in tests/invalid/ is refused with exactly the expected located messages.

``tests/invalid/NAME.yaml`` is the spec and ``tests/invalid/NAME.txt`` the exact stderr of
``seqspec validate tests/invalid/NAME.yaml`` run from the repository root. A few inputs are made
by the test instead of stored (a file over the size limit, a directory, a missing file).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from seqspec import cli
from seqspec.errors import RULES

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "invalid"
CASES = sorted(p.stem for p in INVALID.glob("*.txt"))


def _make_oversized(folder: Path) -> None:
    (folder / "oversized.yaml").write_text("seqspec: 1\n" + "# padding\n" * 110_000)


def _make_directory(folder: Path) -> None:
    (folder / "directory.yaml").mkdir()


def _make_fifo(folder: Path) -> None:
    os.mkfifo(folder / "fifo.yaml")  # no writer: opening it for reading must not wait


def _make_device(folder: Path) -> None:
    (folder / "device.yaml").symlink_to("/dev/zero")  # endless: reading it must not grow


def _make_many_problems(folder: Path) -> None:
    """Close to 1 MB, with 45,000 unknown keys: refused quickly, the first 100 reported."""
    head = ("seqspec: 1\nname: big\nmodel:\n  scheme: many_to_many\n"
            "  input: {kind: features, size: 3}\n  head: {kind: regression}\n"
            "  layers:\n    - cell: gru\n      hidden_size: 4\n")
    keys = "".join(f"      key{i}: {i}\n" for i in range(45_000))
    (folder / "many_problems.yaml").write_text(head + keys)


#: Inputs the test creates (under tmp_path/tests/invalid, run from tmp_path).
GENERATED = {"oversized": _make_oversized, "directory": _make_directory, "fifo": _make_fifo,
             "device": _make_device, "many_problems": _make_many_problems}


def _workdir(name: str, tmp_path: Path) -> Path:
    if name not in GENERATED:
        return ROOT
    folder = tmp_path / "tests" / "invalid"
    folder.mkdir(parents=True)
    GENERATED[name](folder)
    return tmp_path


def _expected(name: str) -> list[str]:
    return (INVALID / f"{name}.txt").read_text(encoding="utf-8").splitlines()


def test_enough_cases() -> None:
    assert len(CASES) >= 25
    stored = {p.stem for p in INVALID.glob("*.yaml")}
    # every stored spec has its expected output, and only generated/missing ones lack a spec
    assert stored <= set(CASES)
    assert set(CASES) - stored == {*GENERATED, "missing_file"}


@pytest.mark.parametrize("name", CASES)
def test_validate_reports_exactly(name: str, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(_workdir(name, tmp_path))
    code = cli.main(["validate", f"tests/invalid/{name}.yaml"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.splitlines() == _expected(name)
    assert "Traceback" not in err


@pytest.mark.parametrize("name", ["several_errors", "alias_bomb", "binary_garbage", "directory",
                                  "fifo", "device", "many_problems"])
def test_validate_in_a_real_process(name: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "seqspec", "validate", f"tests/invalid/{name}.yaml"],
        cwd=_workdir(name, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == _expected(name)
    assert "Traceback" not in proc.stderr


def test_every_file_is_reported_and_valid_ones_too(monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    code = cli.main(
        ["validate", "tests/invalid/zero_size.yaml", "examples/elman_lm.yaml",
         "tests/invalid/missing_keys.yaml"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert out == "examples/elman_lm.yaml: ok\n"
    assert err.splitlines() == _expected("zero_size") + _expected("missing_keys")


def test_trillion_parameters_refused_before_allocation(monkeypatch, capsys) -> None:
    """9e12 parameters would need 72 TB; the refusal must not allocate anything sizeable."""
    monkeypatch.chdir(ROOT)
    tracemalloc.start()
    try:
        code = cli.main(["validate", "tests/invalid/trillion_parameters.yaml"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert "over the limit" in capsys.readouterr().err
    assert peak < 50_000_000, f"validating allocated {peak:,} bytes at its peak"


def test_alias_bomb_stops_early(monkeypatch, capsys) -> None:
    """10^9 expanded strings would take many GB; the loader stops at its node budget."""
    monkeypatch.chdir(ROOT)
    tracemalloc.start()
    try:
        code = cli.main(["validate", "tests/invalid/alias_bomb.yaml"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert "alias bomb" in capsys.readouterr().err
    assert peak < 100_000_000, f"validating allocated {peak:,} bytes at its peak"


def test_json_format_for_invalid_specs(monkeypatch, capsys) -> None:
    import json

    monkeypatch.chdir(ROOT)
    code = cli.main(["validate", "--format", "json", "tests/invalid/several_errors.yaml",
                     "tests/invalid/missing_file.yaml"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err == ""
    doc = json.loads(out)
    assert [d["file"] for d in doc] == ["tests/invalid/several_errors.yaml",
                                        "tests/invalid/missing_file.yaml"]
    assert [d["valid"] for d in doc] == [False, False]
    first = doc[0]["problems"]
    lines = _expected("several_errors")
    assert len(first) == len(lines)
    for problem, line in zip(first, lines, strict=True):
        assert set(problem) == {"file", "line", "column", "end_line", "end_column", "path",
                                "message", "rule", "severity"}
        where = f"{problem['file']}:{problem['line']}:{problem['column']}"
        assert line == f"{where}: error: {problem['path']}: {problem['message']}"
        assert problem["rule"] in RULES and problem["severity"] == "error"
        assert (problem["end_line"], problem["end_column"]) > (problem["line"], problem["column"])
    assert doc[1]["problems"][0]["line"] is None
    assert doc[1]["problems"][0]["message"] == "no such file"
