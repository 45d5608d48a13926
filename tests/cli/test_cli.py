"""The ``seqspec`` command line: validate, schema, inspect, compile, backends; exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqspec import cli, registry
from seqspec.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/seqspec.schema.json"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _at_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)


# --------------------------------------------------------------------------- validate


def test_validate_every_example(capsys) -> None:
    files = [f"examples/{p.name}" for p in EXAMPLES]
    code, out, err = run(["validate", *files], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{f}: ok" for f in files]


def test_validate_quiet_prints_nothing_when_valid(capsys) -> None:
    assert run(["validate", "-q", "examples/elman_lm.yaml"], capsys) == (0, "", "")


def test_validate_json(capsys) -> None:
    code, out, err = run(
        ["validate", "--format", "json", "examples/elman_lm.yaml",
         "tests/invalid/misspelled_key.yaml"],
        capsys,
    )
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert doc[0] == {"file": "examples/elman_lm.yaml", "valid": True, "problems": []}
    assert doc[1]["valid"] is False
    assert doc[1]["problems"] == [{
        "file": "tests/invalid/misspelled_key.yaml", "line": 9, "column": 7,
        "end_line": 9, "end_column": 17, "path": "model.layers[0].hiden_size",
        "message": "unknown key 'hiden_size'; did you mean 'hidden_size'?",
        "rule": "unknown-key", "severity": "error",
    }]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_has_schema_line_and_header(example: Path) -> None:
    lines = example.read_text(encoding="utf-8").splitlines()
    assert lines[0] == SCHEMA_LINE
    assert lines[1].startswith("# ") and len(lines[1]) > 20, "a comment header says what it is"


def test_unexpected_failure_is_one_line(monkeypatch, capsys) -> None:
    import seqspec.api

    def broken(path):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(seqspec.api, "load", broken)
    code, _out, err = run(["validate", "examples/elman_lm.yaml"], capsys)
    assert code == 1
    assert err == ("examples/elman_lm.yaml: error: <document>: seqspec failed on this file "
                   "(RuntimeError: boom); this is a bug in seqspec, please report it\n")


def test_keyboard_interrupt_is_not_swallowed(monkeypatch) -> None:
    import seqspec.api

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqspec.api, "load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["validate", "examples/elman_lm.yaml"])


@pytest.mark.parametrize(
    "args",
    [[], ["validate"], ["frobnicate"], ["validate", "--format", "xml", "x.yaml"],
     ["inspect"], ["compile", "examples/elman_lm.yaml"], ["schema", "--check", "a", "-o", "b"]],
)
def test_usage_errors_exit_2(args: list[str], capsys) -> None:
    code, _out, err = run(args, capsys)
    assert code == 2
    assert "usage: seqspec" in err
    assert "Traceback" not in err


def test_help_and_version(capsys) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "validate" in out and "Exit codes" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and re.fullmatch(r"seqspec \d+\.\d+\.\d+\n", out)


def test_python_dash_m_and_console_script_agree(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "seqspec", "validate", "examples/elman_lm.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "examples/elman_lm.yaml: ok\n", "")


# --------------------------------------------------------------------------- inspect


def test_inspect_elman_lm_counts_the_lecture_weights(capsys) -> None:
    code, out, err = run(["inspect", "examples/elman_lm.yaml"], capsys)
    assert (code, err) == (0, "")
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[-1] == "1,610,000"  # 2HC + H^2 with C = 8000, H = 100
    assert "Biases are parameters and are counted when bias: true" in " ".join(out.split())
    layer = next(line for line in out.splitlines() if " elman " in line)
    assert layer.split() == ["encoder", "0", "elman", "forward", "8,000", "100", "h=100",
                             "810,000"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_inspect_json_adds_up(example: Path, capsys) -> None:
    from seqspec.api import lower_file
    from seqspec.lower import parameter_count_by_layer

    code, out, err = run(["inspect", "--format", "json", f"examples/{example.name}"], capsys)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    model = lower_file(example)
    assert doc["total_parameters"] == model.parameter_count
    assert sum(r["parameters"] for r in doc["rows"]) == model.parameter_count
    groups: dict[str, int] = {}
    for r in doc["rows"]:
        if r["group"]:
            groups[r["group"]] = groups.get(r["group"], 0) + r["parameters"]
    assert groups == dict(parameter_count_by_layer(model))


def test_inspect_invalid_spec(capsys) -> None:
    code, out, err = run(["inspect", "tests/invalid/zero_size.yaml"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("tests/invalid/zero_size.yaml:8:20: error: ")


# --------------------------------------------------------------------------- compile


def _fake_backend(features: frozenset[str]) -> registry.Backend:
    def emit(model):
        return {"model.py": f"# {model.name}\n", "README.md": "fake\n"}

    return registry.Backend("fake", "seqspec", features, emit, "json", "a test double")


@pytest.fixture
def fake_registry(monkeypatch):
    """Register a backend called 'fake' that supports only what the test says."""
    features: set[str] = set()
    real_names, real_get = registry.names, registry.get

    def get(name: str) -> registry.Backend:
        return _fake_backend(frozenset(features)) if name == "fake" else real_get(name)

    monkeypatch.setattr(registry, "names", lambda: [*real_names(), "fake"])
    monkeypatch.setattr(registry, "get", get)
    return features


def test_compile_writes_and_lists_files(fake_registry, tmp_path: Path, capsys) -> None:
    from seqspec.api import lower_file

    fake_registry.update(lower_file(ROOT / "examples/elman_lm.yaml").features)
    code, out, err = run(["compile", "examples/elman_lm.yaml", "--backend", "fake", "-o",
                          str(tmp_path / "out")], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(tmp_path / "out" / "README.md"),
                                str(tmp_path / "out" / "model.py")]
    assert (tmp_path / "out" / "model.py").read_text() == "# elman_lm\n"


def test_compile_unsupported_feature_is_located(fake_registry, tmp_path: Path, capsys) -> None:
    from seqspec.api import lower_file

    spec = "examples/bidirectional_lstm_classifier.yaml"
    fake_registry.update(lower_file(ROOT / spec).features - {"bidirectional"})
    code, out, err = run(["compile", spec, "-b", "fake", "-o", str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    lines = (ROOT / spec).read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if "bidirectional: true" in line)
    col = lines[row].index("bidirectional")
    assert err == (f"{spec}:{row + 1}:{col + 1}: error: model.layers[0].bidirectional: "
                   "the fake backend does not support bidirectional\n")
    assert not list(tmp_path.iterdir()), "nothing is written for a spec the backend refuses"


def test_compile_invalid_spec(fake_registry, tmp_path: Path, capsys) -> None:
    code, out, err = run(["compile", "tests/invalid/loss_mismatch.yaml", "-b", "fake", "-o",
                          str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == (ROOT / "tests/invalid/loss_mismatch.txt").read_text().splitlines()


def test_compile_unknown_backend_is_a_usage_error(tmp_path: Path, capsys) -> None:
    code, out, err = run(["compile", "examples/elman_lm.yaml", "-b", "pytorch", "-o",
                          str(tmp_path)], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "seqspec compile: error: unknown backend 'pytorch'; did you mean 'torch'? "
        "(known: numpy, torch, tensorflow)"
    )


def test_compile_backend_that_cannot_load(monkeypatch, tmp_path: Path, capsys) -> None:
    def get(name: str):
        raise ImportError("No module named 'jinja3'")

    monkeypatch.setattr(registry, "get", get)
    code, out, err = run(["compile", "examples/elman_lm.yaml", "-b", "numpy", "-o",
                          str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert err == ("seqspec: error: the numpy backend cannot be loaded "
                   "(ImportError: No module named 'jinja3')\n")


def test_compile_unwritable_output(fake_registry, tmp_path: Path, capsys) -> None:
    from seqspec.api import lower_file

    fake_registry.update(lower_file(ROOT / "examples/elman_lm.yaml").features)
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(["compile", "examples/elman_lm.yaml", "-b", "fake", "-o",
                          str(blocker / "out")], capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"{blocker / 'out'}"), err
    assert ": error: cannot " in err and "Not a directory" in err


def test_compile_numpy_for_real(tmp_path: Path, capsys) -> None:
    code, out, err = run(["compile", "examples/elman_lm.yaml", "-b", "numpy", "-o",
                          str(tmp_path)], capsys)
    assert (code, err) == (0, "")
    assert str(tmp_path / "model.py") in out.splitlines()


# --------------------------------------------------------------------------- backends


def test_backends_lists_every_builtin(capsys) -> None:
    code, out, _err = run(["backends", "--format", "json"], capsys)
    assert code == 0
    infos = json.loads(out)
    assert [i["name"] for i in infos][:3] == ["numpy", "torch", "tensorflow"]
    for info in infos:
        if info["available"]:
            assert info["features"] == sorted(info["features"]) and info["features"]
            assert isinstance(info["framework_installed"], bool)
        else:
            assert info["error"]
    code, out, _ = run(["backends"], capsys)
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")][:3] \
        == ["numpy", "torch", "tensorflow"]


def test_spec_error_type_is_public() -> None:
    import seqspec

    assert seqspec.SpecError is SpecError


# --------------------------------------------------------------------------- plug-in commands


def test_plugin_commands_load_only_when_asked(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "PLUGIN_COMMANDS",
                        (("frob", "seqspec.no_such_module", "add", "frobnicate specs"),))
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "frob" in out and "(unavailable)" in out
    code, out, err = run(["frob", "x.yaml"], capsys)
    assert (code, out) == (1, "")
    assert err == ("seqspec: error: seqspec frob is not available "
                   "(ModuleNotFoundError: No module named 'seqspec.no_such_module')\n")
    parser = cli.build_parser(["validate", "x.yaml"])
    assert "frob" not in parser.format_help()  # a core command never imports plug-ins


def test_check_is_listed(capsys) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "\n    check " in out
