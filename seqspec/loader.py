"""Safe YAML loading that remembers where every key and item sits.

Specs are untrusted input: only plain YAML types are accepted (no ``!!python`` or other tags),
aliases may not expand into more than :data:`MAX_NODES` nodes (alias bombs), documents over
:data:`MAX_BYTES` are refused, duplicate keys are errors, and every problem becomes a
:class:`~seqspec.errors.SpecError` with a line and column, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from seqspec.errors import Problem, SpecError, SpecPath

MAX_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
#: Floats in exponent form without a dot (``1e-3``): strings to YAML 1.1, numbers to YAML 1.2
#: and to every user who writes a learning rate.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")
_KINDS = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list"}


def _tag(tag: str) -> str:
    """A tag as the user wrote it: ``tag:yaml.org,2002:python/object`` -> ``!!python/object``."""
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _nesting_position(text: str) -> tuple[int, int]:
    """Where flow brackets first nest deeper than :data:`MAX_DEPTH` (a rough scan)."""
    depth = 0
    line, column = 1, 0
    for ch in text:
        column += 1
        if ch == "\n":
            line, column = line + 1, 0
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, column
        elif ch in "]}":
            depth -= 1
    return 1, 1


@dataclass(frozen=True)
class Document:
    """A loaded spec file: its text, parsed data and the position of every path."""

    file: str
    text: str
    data: Any
    positions: dict[SpecPath, tuple[int, int]]


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[SpecPath, tuple[int, int]] = {}
        self.nodes = 0
        self.constructor = SafeConstructor()

    def fail(self, node: yaml.Node, path: SpecPath, message: str) -> SpecError:
        mark = node.start_mark
        return SpecError([Problem(path, message, self.file, mark.line + 1, mark.column + 1)])

    def build(self, node: yaml.Node, path: SpecPath, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # Aliases share nodes, so this node's own position says little: blame the top key.
            top = path[:1]
            line, column = self.positions.get(top, (1, 1))
            raise SpecError([Problem(top, f"the document expands to more than {MAX_NODES:,} "
                                     "nodes (an alias bomb?); refusing it", self.file, line,
                                     column)])
        if depth > MAX_DEPTH:
            raise self.fail(node, path[:1], f"the document nests deeper than {MAX_DEPTH} levels")
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(node, path, f"the YAML tag {_tag(node.tag)!r} is not allowed in "
                                "a spec; use plain values")
            if node.tag == _STR_TAG and node.style is None and _EXPONENT_FLOAT.match(node.value):
                return float(node.value)
            return self.constructor.yaml_constructors[node.tag](self.constructor, node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self.fail(node, path, f"the YAML tag {_tag(node.tag)!r} is not allowed in "
                                "a spec")
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise self.fail(node, path, f"the YAML tag {_tag(node.tag)!r} is not allowed in "
                                "a spec")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, path, "YAML merge keys (<<) are not allowed in a "
                                    "spec; write the keys out")
                key = self.build(key_node, (*path, "<key>"), depth + 1)
                if not isinstance(key, str):
                    raise self.fail(key_node, path, f"keys must be strings, not {key!r}")
                if key in out:
                    first = self.positions[(*path, key)][0]
                    raise self.fail(key_node, (*path, key),
                                    f"duplicate key {key!r} (first written at line {first})")
                # A key's position is where the key is written, so errors point at its line.
                self.positions[(*path, key)] = (key_node.start_mark.line + 1,
                                                key_node.start_mark.column + 1)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        raise self.fail(node, path, "unsupported YAML node")


def parse(text: str, file: str = "<spec>") -> Document:
    """Parse YAML text into a :class:`Document`; raise a located :class:`SpecError`."""
    if not text.strip():
        raise SpecError([Problem((), "the file is empty; a spec starts with 'seqspec: 1'",
                                 file, 1, 1)])
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            start = exc.context_mark
            where = f"line {start.line + 1}, column {start.column + 1}"
            reason += f" ({exc.context} that starts at {where})"
        if "'\\t'" in reason:  # PyYAML shows a tab as '\t'
            reason += "; indent with spaces, not tabs"
        raise SpecError([Problem((), f"invalid YAML: {reason}", file, line, col)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem((), f"invalid YAML: {exc}", file, 1, 1)]) from None
    except RecursionError:
        line, col = _nesting_position(text)
        raise SpecError([Problem((), f"the document nests deeper than {MAX_DEPTH} levels",
                                 file, line, col)]) from None
    if not nodes:
        raise SpecError([Problem((), "the file holds no YAML value, only comments or blank "
                                 "lines; a spec starts with 'seqspec: 1'", file, 1, 1)])
    if len(nodes) != 1:
        raise SpecError([Problem((), f"a spec is one YAML document, found {len(nodes)}", file,
                                 1, 1)])
    builder = _Builder(file)
    data = builder.build(nodes[0], ())
    if not isinstance(data, dict):
        kind = "null" if data is None else _KINDS.get(type(data), type(data).__name__)
        raise SpecError([Problem((), f"a spec is a mapping of keys (seqspec, name, model, ...), "
                                 f"not {kind}", file, 1, 1)])
    return Document(file, text, data, builder.positions)


def read(path: str | Path) -> tuple[Document, bytes]:
    """Read and parse a spec file; also return its raw bytes (for the spec hash)."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem((), "no such file", file)]) from None
    except IsADirectoryError:
        raise SpecError([Problem((), "is a directory, not a spec file", file)]) from None
    except OSError as exc:
        raise SpecError([Problem((), f"cannot read: {exc.strerror}", file)]) from None
    if len(raw) > MAX_BYTES:
        raise SpecError([Problem((), f"the file has {len(raw):,} bytes; specs are limited to "
                                 f"{MAX_BYTES:,}", file, 1, 1)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError([Problem((), "not UTF-8 text (a binary file?)", file, line, 1)]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpecError([Problem((), "contains NUL bytes (a binary file?)", file, line, 1)])
    return parse(text, file), raw
