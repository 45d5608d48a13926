"""What seqspec shares about generated code: importing a ``model.py`` and its ``Config`` fields.

Every backend's runner imports compiled models the same way, and every backend's ``Config``
dataclass lists the same fields (docs/generated-api.md), so both live here, once.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from seqspec import ir

_COUNTER = itertools.count()


def import_model(model_dir: str | os.PathLike[str], module_name: str | None = None,
                 prefix: str = "_seqspec_model") -> ModuleType:
    """Import ``model_dir/model.py``.

    Under ``module_name`` if given (importing the same name again replaces the module), else
    under a fresh unique name, so several compiled models can live in one process.
    """
    path = Path(model_dir) / "model.py"
    if not path.is_file():
        raise FileNotFoundError(f"no generated model at {path}")
    # model.py imports its backend's runtime (numpy_runtime.py, ...) from its own folder: load
    # that file fresh under its module name first, so this folder's copy is the one imported
    # (never one of another folder, and nothing is put on sys.path).
    for runtime in sorted(Path(model_dir).glob("*_runtime.py")):
        if runtime.stem in _imported_modules(path):
            _load(runtime.stem, runtime)
    return _load(module_name or f"{prefix}_{os.getpid()}_{next(_COUNTER)}", path)


def _imported_modules(path: Path) -> set[str]:
    """The top-level names of the modules that the Python file ``path`` imports."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def _load(name: str, path: Path) -> ModuleType:
    """Execute the file ``path`` as a fresh module ``name`` (replacing any module of that name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_runtime(path: str | os.PathLike[str]) -> ModuleType:
    """Import a runtime module beside a compiled model (``numpy_runtime.py``,
    ``torch_train_runtime.py``...) afresh under its file's name, replacing any earlier one."""
    path = Path(path)
    return _load(path.stem, path)


@dataclass(frozen=True)
class ConfigField:
    """One field of the generated ``Config`` dataclass."""

    name: str
    type: str
    value: Any
    comment: str


def _stack_fields(stack: ir.Stack) -> list[ConfigField]:
    s, inp = stack.name, stack.input
    fields = [ConfigField(f"{s}_input", "str", inp.kind, "tokens | features")]
    if inp.kind == "tokens":
        fields.append(ConfigField(f"{s}_vocab_size", "int", inp.vocab_size, "token ids 0..C-1"))
        fields.append(ConfigField(f"{s}_encoding", "str", inp.encoding, "embedding | one_hot"))
        if inp.encoding == "embedding":
            fields.append(ConfigField(f"{s}_embedding_dim", "int", inp.embedding_dim, ""))
    layers = stack.layers
    fields += [
        ConfigField(f"{s}_input_size", "int", inp.step_size, "what layer 0 reads per step"),
        ConfigField(f"{s}_variable_length", "bool", inp.variable_length,
                    "batches carry per-sequence lengths"),
        ConfigField(f"{s}_padding", "str", inp.padding, "where a short sequence's padding sits"),
        ConfigField(f"{s}_cells", "tuple[str, ...]", tuple(x.cell for x in layers),
                    "bottom layer first"),
        ConfigField(f"{s}_hidden_sizes", "tuple[int, ...]",
                    tuple(x.hidden_size for x in layers), ""),
        ConfigField(f"{s}_output_sizes", "tuple[int, ...]",
                    tuple(x.output_size for x in layers), "per step, directions merged"),
        ConfigField(f"{s}_bidirectional", "tuple[bool, ...]",
                    tuple(x.bidirectional for x in layers), ""),
    ]
    if any(x.bidirectional for x in layers):
        fields.append(ConfigField(f"{s}_merge_modes", "tuple[str, ...]",
                                  tuple(x.merge_mode if x.bidirectional else "" for x in layers),
                                  "how directions merge"))
    fields.append(ConfigField(f"{s}_dropout", "float", stack.dropout,
                              "between layers, training only"))
    return fields


def config_fields(model: ir.Model) -> list[ConfigField]:
    """The fields of ``Config``: sizes and settings a reader wants to see at a glance."""
    fields = [
        ConfigField("name", "str", model.name, ""),
        ConfigField("scheme", "str", model.scheme, ""),
    ]
    if model.vector_size:
        fields.append(ConfigField("vector_size", "int", model.vector_size, "conditioning vector"))
    for stack in model.stacks:
        fields += _stack_fields(stack)
    if model.pooling:
        fields.append(ConfigField("pooling", "str", model.pooling, "last | mean | max"))
    if model.bridge is not None:
        fields.append(ConfigField("bridge", "str", model.bridge.kind, "copy | dense"))
        if model.bridge.kind == "dense":
            fields.append(ConfigField("bridge_activation", "str", model.bridge.activation, ""))
    if model.head is not None:
        fields.append(ConfigField("head", "str", model.head.kind, "softmax: logits"))
        fields.append(ConfigField("head_outputs", "int", model.head.out_size, ""))
        fields.append(ConfigField("head_bias", "bool", model.head.bias, ""))
    if model.scheme in ("one_to_many", "seq2seq"):
        fields.append(ConfigField("max_length", "int", model.max_length, "free decoding"))
        fields.append(ConfigField("start_token", "int", model.start_token, ""))
        fields.append(ConfigField("end_token", "int | None", model.end_token, ""))
    if model.ar is not None:
        fields.append(ConfigField("order", "int", model.ar.order, "p, the window length"))
        if model.ar.kind == "linear":
            fields.append(ConfigField("bias", "bool", model.ar.bias, "the constant c"))
        else:
            fields.append(ConfigField("hidden", "tuple[int, ...]", model.ar.hidden, ""))
            fields.append(ConfigField("activation", "str", model.ar.activation, ""))
    return fields


@dataclass(frozen=True)
class InputSpec:
    """One keyword input of a generated model's forward pass, as its input check sees it."""

    name: str
    dims: tuple[str | int, ...]  # "B" (batch) and step counts ("T", "T_dec") are free sizes
    holds: str  # "floats" | "token ids" | "integers" (lengths)
    required: bool
    vocab_size: int = 0  # token ids only: valid ids are 0..vocab_size-1
    steps_of: str = ""  # lengths only: the sequence input whose steps they count


def _sequence_input(name: str, inp: ir.SequenceInput, steps: str) -> InputSpec:
    if inp.kind == "tokens":
        return InputSpec(name, ("B", steps), "token ids", True, vocab_size=inp.vocab_size)
    return InputSpec(name, ("B", steps, inp.step_size), "floats", True)


def input_specs(model: ir.Model) -> list[InputSpec]:
    """The inputs of ``Model.forward`` in every backend, in signature order (without states).

    Lengths are required exactly when the spec declares ``variable_length``: a missing
    ``lengths`` is an error, never a silent "every step is valid".
    """
    if model.ar is not None:
        return [InputSpec("windows", ("B", model.ar.order), "floats", True)]
    specs: list[InputSpec] = []
    enc, dec = model.encoder, model.decoder
    if model.scheme == "one_to_many":
        specs.append(InputSpec("features", ("B", model.vector_size), "floats", True))
    if enc is not None:
        specs.append(_sequence_input("x", enc.input, "T"))
        if enc.input.variable_length:
            name = "x_lengths" if model.scheme == "seq2seq" else "lengths"
            specs.append(InputSpec(name, ("B",), "integers", True, steps_of="x"))
    if dec is not None:
        specs.append(_sequence_input("y_in", dec.input, "T_dec"))
        if dec.input.variable_length:
            name = "y_lengths" if model.scheme == "seq2seq" else "lengths"
            specs.append(InputSpec(name, ("B",), "integers", True, steps_of="y_in"))
    return specs


def state_sizes(model: ir.Model) -> dict[str, int]:
    """Every recurrent state a caller may give as ``initial_state``: flat key -> size."""
    out: dict[str, int] = {}
    for stack in model.stacks:
        for layer in stack.layers:
            for direction in layer.directions:
                for name, size in zip(layer.state_names, layer.state_sizes, strict=True):
                    out[f"{direction.prefix}.{name}"] = size
    return out
