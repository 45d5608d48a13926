"""One module per cell kind: seqspec/cells/<kind>.py is the only place that knows a kind."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from seqspec import api, cells, features, ir, registry, spec
from seqspec.cells.base import Make
from seqspec.check import ALL_BACKENDS
from seqspec.onnx import cells as onnx_cells

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "seqspec"
MODULES = sorted(p.stem for p in (PACKAGE / "cells").glob("*.py")
                 if p.stem not in ("__init__", "base"))
EXAMPLES = sorted((ROOT / "examples").glob("**/*.yaml"))


def test_every_module_is_a_kind() -> None:
    assert MODULES, "no cell modules found"
    assert sorted(cells.KINDS) == MODULES
    # the first four keep the order the schema and the error messages list them in
    assert list(cells.KINDS)[:4] == ["elman", "jordan", "lstm", "gru"]


@pytest.mark.parametrize("kind", MODULES)
def test_module_defines_the_contract(kind: str) -> None:
    module = cells.get(kind)
    missing = [name for name in cells.REQUIRED if not hasattr(module, name)]
    assert missing == []
    assert kind == module.KIND
    assert typing.get_args(module.Spec.model_fields["cell"].annotation) == (kind,)
    assert issubclass(module.Spec, cells.base.CellBase)
    assert issubclass(module.Settings, ir.CellSettings)
    assert kind in module.FEATURES
    assert module.GATES and module.STATES
    assert module.DESCRIPTION and "\n" not in module.DESCRIPTION
    assert module.CITATION and module.EQUATIONS


@pytest.mark.parametrize("kind", MODULES)
def test_module_sizes_agree_with_its_parameters(kind: str) -> None:
    module = cells.get(kind)
    cell = _minimal(module.Spec, hidden_size=3)
    params = module.params("encoder.layers.0.forward", cell, 5, Make())
    names = [p.name for p in params]
    assert len(names) == len(set(names)) and names
    assert all(n.startswith("encoder.layers.0.forward.") for n in names)
    assert any(p.shape[-1] == 5 for p in params), "no parameter reads the input"
    assert len(module.state_sizes(cell)) == len(module.STATES)
    assert module.step_output_size(cell) > 0
    sites = module.features(cell, ("model", "layers", 0))
    assert {f for f, _ in sites} <= module.FEATURES


def _minimal(model: type, **values: object):
    """The spec cell with only the required keys (1 for any other required size)."""
    data: dict[str, object] = {"cell": typing.get_args(model.model_fields["cell"].annotation)[0]}
    for name, field in model.model_fields.items():
        if field.is_required() and name not in data:
            data[name] = values.get(name, 1)
    return model.model_validate(data)


def test_the_cell_union_is_built_from_the_modules() -> None:
    (union, *_) = typing.get_args(spec.Cell)
    assert typing.get_args(union) == tuple(m.Spec for m in cells.KINDS.values())
    assert spec.LSTMCell is cells.get("lstm").Spec  # the old names stay importable


def test_features_split_into_common_and_cells() -> None:
    for module in cells.KINDS.values():
        assert not module.FEATURES & features.COMMON
    everything = features.supported(cells.KINDS)
    used = set()
    for path in EXAMPLES:
        used |= api.lower_file(path).features
    assert used <= everything
    assert used & features.COMMON and used - features.COMMON


def test_backends_are_listed_once() -> None:
    assert (*registry.BUILTIN, "onnx") == ALL_BACKENDS
    assert registry.names()[: len(registry.BUILTIN)] == list(registry.BUILTIN)


def test_every_kind_has_an_onnx_exporter() -> None:
    assert sorted(onnx_cells.KINDS) == MODULES


#: Files that must not branch on a cell kind: they ask the kind's module.
NO_DISPATCH = ["lower.py", "spec.py", "ir.py", "features.py", "onnx/__init__.py",
               "onnx/builder.py", "onnx/layers.py"]


@pytest.mark.parametrize("name", NO_DISPATCH)
def test_no_per_kind_branches(name: str) -> None:
    source = (PACKAGE / name).read_text(encoding="utf-8")
    for kind in MODULES:
        assert f'"{kind}"' not in source, f"{name} names the cell kind {kind!r}"
    assert not re.search(r"isinstance\([^)]*(Elman|Jordan|LSTM|GRU)Cell", source)
    assert not re.search(r"\bcell\s*(==|!=|in)\s*[\"'(]", source)


#: IndRNN, the kind added through the per-kind modules (issue 15), may be named outside its own
#: files only here: the schema (generated), the adding demo (which compares cells), two
#: importer refusals and two comments. Any other code that names it is a per-kind branch.
INDRNN_OWN = ["seqspec/cells/indrnn.py", "seqspec/onnx/cells/indrnn.py",
              *(f"backends/{b}/cells/indrnn.py" for b in registry.BUILTIN),
              *(f"backends/{b}/templates/_cell_indrnn.py.j2" for b in registry.BUILTIN)]
INDRNN_ELSEWHERE = {"schemas/seqspec.schema.json", "demos/adding.py",
                    "seqspec/importers/onnx.py", "seqspec/importers/torch.py",
                    "seqspec/weights.py", "seqspec/validation.py"}


def test_a_new_kind_is_its_own_files_and_at_most_six_others() -> None:
    assert all((ROOT / rel).is_file() for rel in INDRNN_OWN)
    code = [p for folder in ("seqspec", "backends", "schemas", "demos")
            for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".j2", ".json")
            and "__pycache__" not in p.parts]
    naming = {p.relative_to(ROOT).as_posix() for p in code
              if "indrnn" in p.read_text(encoding="utf-8").lower()}
    assert naming - set(INDRNN_OWN) == INDRNN_ELSEWHERE
    assert len(INDRNN_ELSEWHERE) <= 6  # issue 15's target
