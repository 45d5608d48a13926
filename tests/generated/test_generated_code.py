"""Generated code, every backend x every example: golden bytes, determinism, lint, standalone
import, and no dead definitions.

One suite for the three backends (issue 15): it reads whatever files the emitter writes, so it
holds for model.py + train.py + predict.py as for the split into model / runtime / train /
train runtime modules. Each (example, backend) is compiled once per session (conftest.py).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = [p.stem for p in sorted((ROOT / "examples").glob("*.yaml"))
            + sorted((HERE / "specs").glob("*.yaml"))]
BACKENDS = ("numpy", "torch", "tensorflow")
CASES = [pytest.param(b, e, id=f"{b}-{e}") for b in BACKENDS for e in EXAMPLES]

#: what generated code may import, besides the standard library and its own folder's modules
FRAMEWORK = {"numpy": {"numpy"}, "torch": {"numpy", "torch"},
             "tensorflow": {"numpy", "tensorflow", "keras"}}
# imported inside a function, with a fallback (or a one-line refusal of the flag) when missing
OPTIONAL = {"tqdm", "matplotlib", "tensorboard", "threadpoolctl"}
RUFF_RULES = "E,F,W,I,UP,B,SIM,C901"
MAX_COMPLEXITY = 12  # ruff C901: every generated function stays small enough to read
#: ... in the training script and its runtime; the model and predict.py are not held to it (yet)
NOT_C901 = ("model.py", "predict.py", "numpy_runtime.py", "torch_runtime.py",
            "tensorflow_runtime.py")
PER_FILE_IGNORES = "lint.per-file-ignores = {%s}" % ", ".join(  # noqa: UP031 - TOML braces
    f'"**/{name}" = ["C901"]' for name in NOT_C901)


def _python_files(files: dict[str, str]) -> dict[str, str]:
    return {rel: text for rel, text in files.items() if rel.endswith(".py")}


# ---------------------------------------------------------------------------------- goldens


def test_every_file_is_pinned_by_a_golden(golden_case, compiled, check_golden,
                                          golden_plan) -> None:
    """The files of an example chosen to pin its backend's features (runtime modules apart)."""
    backend, example = golden_case
    files = compiled[example, backend].files
    for rel in golden_plan[backend][0][example]:
        check_golden(files[rel], f"{backend}/{example}/{rel}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_runtime_is_the_same_for_every_spec_and_pinned_once(backend, compiled, check_golden,
                                                           golden) -> None:
    runtimes: dict[str, set[str]] = {}
    for example in EXAMPLES:
        for rel, text in compiled[example, backend].files.items():
            if golden.is_runtime(rel):
                runtimes.setdefault(rel, set()).add(text)
    for rel, texts in sorted(runtimes.items()):
        assert len(texts) == 1, f"{backend} {rel} differs between specs"
        text = texts.pop()
        if rel in golden.DIFF_BASE:  # pinned as its difference from numpy's (pinned whole)
            base = golden.DIFF_BASE[rel]
            text = golden.as_diff(compiled[EXAMPLES[0], "numpy"].files[base], text, base, rel)
        check_golden(text, f"{backend}/{golden.runtime_golden(rel)}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_goldens_cover_every_feature_and_none_is_stale(backend, compiled, golden, golden_plan,
                                                      update_golden) -> None:
    pinned, uncovered = golden_plan[backend]
    assert not uncovered, f"no example shows {sorted(uncovered)}: add one to examples/"
    expected = {golden.runtime_golden(rel) for e in EXAMPLES
                for rel in compiled[e, backend].files if golden.is_runtime(rel)}
    expected |= {f"{e}/{rel}" for e, files in pinned.items() for rel in files}
    for e in pinned:  # every generated file that is not a runtime is model.py or a script
        assert set(compiled[e, backend].files) - expected - {
            rel for rel in compiled[e, backend].files if golden.is_runtime(rel)} <= set(
            golden.MODEL_FILES + golden.SCRIPT_FILES)
    folder = GOLDEN / backend
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    stale = sorted(present - expected)
    if update_golden:
        for rel in stale:
            (folder / rel).unlink()
        return
    assert not stale, f"goldens no example produces (pytest --update-golden removes them): {stale}"


def test_the_cover_is_small_and_deterministic(golden) -> None:
    tags = {"b": frozenset({"lstm", "x"}), "a": frozenset({"lstm"}), "c": frozenset({"gru"}),
            "d": frozenset({"lstm", "x", "gru"})}
    assert golden.cover({"lstm", "gru"}, tags) == (["d"], frozenset())
    tags.pop("d")
    assert golden.cover({"lstm", "gru"}, tags) == (["b", "c"], frozenset())  # b covers x too
    assert golden.cover({"lstm", "indrnn"}, {"a": frozenset({"lstm"})}) == (
        ["a"], frozenset({"indrnn"}))  # a feature no example shows is reported, not hidden


# ------------------------------------------------------------------------------ determinism


@pytest.mark.parametrize("backend,example", CASES)
def test_compiling_twice_gives_the_same_bytes(backend, example, compiled, compiled_again) -> None:
    first, second = compiled[example, backend], compiled_again[example, backend]
    assert sorted(first.files) == sorted(second.files)
    for rel, text in first.files.items():
        assert text == second.files[rel], rel
        for where in (first.folder, second.folder):  # no absolute path of the output
            assert str(where.parents[2]) not in text, rel


# ------------------------------------------------------------------------------------- ruff


@pytest.fixture(scope="module")
def ruff() -> str:
    path = shutil.which("ruff")
    if path is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    return path


def _all_files(compiled, backend: str) -> list[str]:
    """Every generated .py file of the backend; a runtime module (the same everywhere) once."""
    out, seen = [], set()
    for example in EXAMPLES:
        for rel in sorted(_python_files(compiled[example, backend].files)):
            if rel.endswith("_runtime.py"):
                if rel in seen:
                    continue
                seen.add(rel)
            out.append(str(compiled[example, backend].folder / rel))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_ruff_check(backend, compiled, ruff) -> None:
    """One ruff run per backend over every example's files."""
    result = subprocess.run(
        [ruff, "check", "--isolated", "--select", RUFF_RULES, "--line-length", "100",
         "--config", f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}", "--config",
         PER_FILE_IGNORES,
         "--target-version", "py310", *_all_files(compiled, backend)],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ruff_format(backend, compiled, ruff) -> None:
    """The templates render formatted code: ruff format would change nothing (but the quotes
    of the literals that seqspec.render.pyrepr writes)."""
    result = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--diff", "--line-length", "100", "--config",
         "format.quote-style='preserve'", *_all_files(compiled, backend)],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# -------------------------------------------------------------------------------- standalone


@pytest.mark.parametrize("backend,example", CASES)
def test_imports_only_its_framework_and_the_standard_library(backend, example,
                                                             compiled) -> None:
    files = _python_files(compiled[example, backend].files)
    siblings = {Path(rel).stem for rel in files}
    allowed = set(sys.stdlib_module_names) | FRAMEWORK[backend] | siblings
    for rel, text in files.items():
        tree = ast.parse(text)
        top = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{rel}: relative import"
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert "seqspec" not in names, rel
            assert names <= (allowed if node in top else allowed | OPTIONAL), (rel, names)


STANDALONE = textwrap.dedent("""
    import importlib, json, sys
    from pathlib import Path
    sys.modules["seqspec"] = None  # any `import seqspec` now raises ImportError
    results = {}
    for folder in sys.argv[1:]:
        names = sorted(p.stem for p in Path(folder).glob("*.py"))
        for name in names:  # model, train, ... of the previous folder
            sys.modules.pop(name, None)
        sys.path.insert(0, folder)
        try:
            for name in names:
                importlib.import_module(name)
            assert hasattr(sys.modules["model"], "Model"), "model.py has no Model"
            loaded = [k for k, v in sys.modules.items()
                      if v is not None and k.split(".")[0] == "seqspec"]
            assert not loaded, loaded
            results[folder] = None
        except BaseException as error:  # noqa: BLE001 - reported per folder
            results[folder] = f"{type(error).__name__}: {error}"
        finally:
            sys.path.remove(folder)
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def standalone(compiled, tmp_path_factory):
    """standalone(backend) -> {example: None or why its files do not import without seqspec}:
    one fresh `python -I` per backend imports every example's files (the framework once)."""
    script = tmp_path_factory.mktemp("standalone") / "import_all.py"
    script.write_text(STANDALONE, encoding="utf-8")
    cache: dict[str, dict[str, str | None]] = {}

    def run(backend: str) -> dict[str, str | None]:
        if backend not in cache:
            folders = {str(compiled[e, backend].folder): e for e in EXAMPLES}
            env = {"OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
            proc = subprocess.run([sys.executable, "-I", str(script), *folders],
                                  capture_output=True, text=True, check=False, env=env,
                                  cwd=script.parent, timeout=600)
            assert proc.returncode == 0, proc.stderr[-4000:]
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            cache[backend] = {folders[f]: why for f, why in result.items()}
        return cache[backend]

    return run


@pytest.mark.parametrize("backend,example", CASES)
def test_imports_without_seqspec(backend, example, standalone) -> None:
    if importlib.util.find_spec(backend) is None:  # found, not imported: that is the child's
        pytest.skip(f"the {backend} backend's code needs {backend}")
    assert standalone(backend)[example] is None, standalone(backend)[example]


# ---------------------------------------------------------------------- dead definitions


@pytest.mark.parametrize("backend,example", CASES)
def test_no_dead_definitions(backend, example, compiled, deadcode) -> None:
    """Every top-level def, class and assignment is referenced by a file of the folder; a
    runtime module's by any folder of its backend (docs: tests/generated/deadcode.py)."""
    users = [compiled[e, backend].folder for e in EXAMPLES]
    dead = deadcode.unreferenced_definitions(compiled[example, backend].folder, users)
    assert not dead, f"defined but never used: {dead}"


def test_the_dead_definition_check_finds_what_it_should(tmp_path, deadcode) -> None:
    """The check itself, on a folder made up here: what it must flag and what it must not."""
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        from numpy_runtime import helper

        SPEC_NAME = "x"        # public API: used by whoever imports the model
        UNUSED = 3
        SCALE = 2.0

        def recursive(n):      # only calls itself
            return recursive(n - 1) if n else 0

        def only_for_dead():
            return 1

        def dead():
            return only_for_dead()

        class Model:
            def run(self):
                return helper() * SCALE
    """), encoding="utf-8")
    (tmp_path / "numpy_runtime.py").write_text(textwrap.dedent("""
        def helper():
            return inner()

        def inner():
            return 1

        def used_elsewhere():
            return 2

        def nobody():
            return 3
    """), encoding="utf-8")
    (tmp_path / "train.py").write_text("import model\n\nprint(model.SCALE)\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.py").write_text("from numpy_runtime import used_elsewhere\n\n"
                                    "UNUSED = used_elsewhere()\n", encoding="utf-8")
    assert deadcode.unreferenced_definitions(tmp_path, [tmp_path, other]) == [
        "model.py: UNUSED", "model.py: dead", "model.py: only_for_dead", "model.py: recursive",
        "numpy_runtime.py: nobody"]
    assert "numpy_runtime.py: used_elsewhere" in deadcode.unreferenced_definitions(tmp_path)
