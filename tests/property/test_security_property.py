"""Spec strings are untrusted: they must never become code.

Every string a spec can carry (name, description, data.source, data.column) is fuzzed with
quotes, newlines, backslashes, unicode, Python and Jinja syntax. A spec that validates is
compiled with every backend; every generated Python file must parse, have exactly the AST of
the same spec with harmless strings once string literals are blanked (so spec text changed
nothing but literals), and hold the fuzzed text only inside string/comment tokens.
"""

from __future__ import annotations

import ast
import io
import tempfile
import time
import tokenize
from pathlib import Path
from typing import Any

import pytest
import yaml
from budget import STATS, budget
from hypothesis import given, note
from hypothesis import strategies as st

import seqspec
from seqspec import registry
from seqspec.errors import SpecError

MARKER = "PWNED_MARKER"
NASTY = st.sampled_from([
    '"', "'", '"""', "'''", "\\", "\\n", "\n", "\t", "\r", "\u2028", "\x85", "\x0b", "é", "😀",
    "{{ 7 * 7 }}", "{% for x in range(3) %}", "{% endfor %}", "{# c #}", "{{", "}}", "%}",
    f'__import__("os").system("touch {MARKER}")', f'"); import os; os.system("{MARKER}',
    f'"""; {MARKER} = 1; """', f"\\\"; {MARKER}()", "# noqa", "\\N{BULLET}", "\\x41",
    "`", "${HOME}", "%s%d", "\0", "\ud800",
])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=4)), min_size=1, max_size=8).map("".join)
IDENTS = st.sampled_from(["np", "os", "sys", "torch", "tf", "keras", "Model", "Config",
                          "CONFIG", "PARAMETERS", "init_weights", "self", "print", "__import__",
                          "__name__", "_", "x" * 64, "None", "class", "import", "lambda"])
NAMES = st.one_of(IDENTS, TEXT, st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True))


def _spec(kind: str, name: str, description: str, source: str, column: str) -> dict[str, Any]:
    if kind == "lm":
        model = {"scheme": "many_to_many",
                 "input": {"kind": "tokens", "vocab_size": 5, "embedding_dim": 3},
                 "layers": [{"cell": "lstm", "hidden_size": 3}],
                 "head": {"kind": "softmax", "classes": 5}}
        data = {"source": source, "format": "text"}
    else:
        model = {"scheme": "ar_linear", "order": 3}
        data = {"source": source, "format": "csv", "column": column, "window": 3}
    return {"seqspec": 1, "name": name, "description": description, "model": model,
            "data": data}


def _backends() -> list[str]:
    out = []
    for name in registry.BUILTIN:
        try:
            registry.get(name)
        except Exception:  # a backend still being written: nothing to compile yet
            continue
        out.append(name)
    return out


BACKENDS = _backends()


def _compile(spec: dict[str, Any], folder: Path) -> dict[str, dict[str, str]] | None:
    """{backend: {file: source}}, or None when the spec is (cleanly) refused."""
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")
    try:
        seqspec.load(path)
    except SpecError as exc:
        assert exc.problems and all(p.line is not None for p in exc.problems)
        return None
    out = {}
    for backend in BACKENDS:
        target = folder / backend
        seqspec.compile_spec(path, backend, target)
        out[backend] = {p.relative_to(target).as_posix(): p.read_text("utf-8")
                        for p in sorted(target.rglob("*.py"))}
    return out


def _shape(source: str) -> str:
    """The module's AST with every string literal blanked.

    ``data_outside_spec`` (a ``Task`` field) is the one literal that is not a string but still
    comes from spec text (whether data.source leaves the spec's folder): its value is blanked
    too.
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        if (isinstance(node, ast.keyword) and node.arg == "data_outside_spec"
                and isinstance(node.value, ast.Constant)):
            node.value.value = None
    return ast.dump(tree, include_attributes=False)


def _top_level(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names += [a.asname or a.name for a in node.names]
        else:
            names.append(type(node).__name__)
    return names


def _marker_only_in_literals(source: str) -> None:
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if MARKER in tok.string:
            assert tok.type in (tokenize.STRING, tokenize.COMMENT), tok


_BASELINES: dict[tuple[str, str], dict[str, dict[str, str]]] = {}


def _baseline(kind: str, name: str) -> dict[str, dict[str, str]]:
    if (kind, name) not in _BASELINES:
        with tempfile.TemporaryDirectory() as tmp:
            files = _compile(_spec(kind, name, "harmless", "data.txt", "col"), Path(tmp))
        assert files is not None
        _BASELINES[(kind, name)] = files
    return _BASELINES[(kind, name)]


def _assert_inert(kind: str, name: str, files: dict[str, dict[str, str]]) -> None:
    baseline = _baseline(kind, name)
    for backend, sources in files.items():
        assert set(sources) == set(baseline[backend])
        for rel, source in sources.items():
            where = f"{backend}/{rel}"
            assert _top_level(source) == _top_level(baseline[backend][rel]), where
            assert _shape(source) == _shape(baseline[backend][rel]), where
            _marker_only_in_literals(source)


@budget("strings")
@given(kind=st.sampled_from(["lm", "ar"]), description=TEXT, source=TEXT,
       column=st.one_of(st.just("value"), NAMES))
def test_spec_text_only_ever_becomes_string_literals(kind: str, description: str,
                                                     source: str, column: str) -> None:
    start = time.perf_counter()
    spec = _spec(kind, "fuzzed", description, source, column)
    note(repr(spec))
    with tempfile.TemporaryDirectory() as tmp:
        files = _compile(spec, Path(tmp))
    if files is not None:
        _assert_inert(kind, "fuzzed", files)
    STATS.record("strings", time.perf_counter() - start)


@budget("names")
@given(name=NAMES)
def test_names_are_identifiers_or_refused(name: str) -> None:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = _compile(_spec("lm", name, "d", "data.txt", "col"), Path(tmp))
    if files is not None:  # an identifier that is no keyword: it changes only literals
        assert name.isidentifier()
        baseline = _baseline("lm", "baseline_name")
        for backend, sources in files.items():
            for rel, source in sources.items():
                assert _shape(source) == _shape(baseline[backend][rel]), (backend, rel)
    STATS.record("names", time.perf_counter() - start)


INJECTIONS = ['x"); import os; os.system("touch /tmp/pwned', "a b", "x\ny", "a-b", "1abc",
              "é", "x'", "{{name}}", "__import__('os')"]


@pytest.mark.parametrize("name", INJECTIONS)
def test_an_injecting_name_is_refused_by_validation(tmp_path, name: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec("lm", name, "d", "data.txt", "c"), sort_keys=False),
                    "utf-8")
    with pytest.raises(SpecError) as info:
        seqspec.load(path)
    assert [p.path for p in info.value.problems] == [("name",)]
    assert info.value.problems[0].line == 2


def _runner(backend: str):
    import importlib
    import importlib.util

    package = registry.get(backend).package
    framework = registry.get(backend).framework
    if importlib.util.find_spec(framework) is None:
        return None
    if importlib.util.find_spec(f"{package}.runner") is None:
        return None
    return importlib.import_module(f"{package}.runner")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_description_holding_code_is_inert_when_the_model_runs(tmp_path, backend: str
                                                                  ) -> None:
    marker = tmp_path / "pwned"
    payload = f'__import__("os").system("touch {marker}")'
    description = "\n".join([payload, f'"""{payload}"""', f"'''\n{payload}\n'''",
                             f"\\\n{payload}", f"{{{{ {payload} }}}}", f"{{% {payload} %}}",
                             f'"); {payload}; ("', f"# {payload}"])
    spec = _spec("lm", "inert", description, "data.txt", "c")
    files = _compile(spec, tmp_path)
    assert files is not None
    _assert_inert("lm", "inert", {backend: files[backend]})
    runner = _runner(backend)
    if runner is None:
        pytest.skip(f"{backend}: framework or runner not available to import the model")
    import numpy as np

    from seqspec.testing import make_inputs
    from seqspec.weights import random_weights

    model = seqspec.lower_file(tmp_path / "spec.yaml")
    inputs = make_inputs(model, batch=1, steps=2)
    out = runner.run(tmp_path / backend, random_weights(model), inputs,
                     np.ones((1, 2, 5)), "float64")
    assert out["outputs"]["outputs"].shape == (1, 2, 5)
    assert not marker.exists()
