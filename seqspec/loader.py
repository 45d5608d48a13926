"""Safe YAML loading that remembers where every key and item sits.

Specs are untrusted input: only plain YAML types are accepted (no ``!!python`` or other tags),
aliases may not expand into more than :data:`MAX_NODES` nodes (alias bombs), documents over
:data:`MAX_BYTES` are refused while they are read (a device or a FIFO never fills memory or
hangs), duplicate keys are errors, and every problem becomes a
:class:`~seqspec.errors.SpecError` with a line and column, never a traceback.

Plain scalars are read as YAML 1.2 reads them (the JSON-compatible core schema), not as
PyYAML's YAML 1.1: ``1:30`` is the string "1:30", not 90; ``yes``, ``on`` and ``017`` are
strings; ``1e-3`` is a number. So a spec means what it says in every YAML 1.2 tool (editors,
check-jsonschema), and a stray colon never becomes a silent sexagesimal size.
"""

from __future__ import annotations

import os
import re
import stat
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
#: The YAML 1.2 core schema's plain scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution);
#: anything else that is plain is a string.
_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = {"true": True, "True": True, "TRUE": True,
              "false": False, "False": False, "FALSE": False}
_CORE_INT = re.compile(r"^[-+]?[0-9]+$")
_CORE_OCT = re.compile(r"^0o[0-7]+$")
_CORE_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_CORE_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_CORE_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_CORE_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_CORE_FIRST = frozenset("0123456789+-.~nNtTfF")
#: Longer numbers are refused: no value in a spec needs them, and Python will not print them.
_MAX_NUMBER_CHARS = 1000
#: Longer documents with a YAML syntax error keep libyaml's message: re-parsing them with the
#: pure-Python parser (for its more detailed message) would cost seconds.
_DETAILED_SYNTAX_ERRORS_BELOW = 100_000
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


def _span(node: yaml.Node) -> tuple[int, int, int, int]:
    """Where a node starts and ends: 1-based line and column, the end exclusive."""
    start, end = node.start_mark, node.end_mark
    return (start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _unreadable(node: yaml.ScalarNode) -> str:
    """Why a scalar cannot become a value: far too many digits, or not what its tag says."""
    text = node.value
    if len(text) > _MAX_NUMBER_CHARS:
        return (f"a number of {len(text):,} characters is too large for any value in a spec")
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    return f"{shown} cannot be read as {_tag(node.tag)}"


def _core_scalar(text: str) -> Any:
    """A plain scalar as the YAML 1.2 core schema reads it."""
    if text and text[0] not in _CORE_FIRST:
        return text  # most keys and words: no number, boolean or null starts this way
    if text.isascii() and text.isdigit() and len(text) <= _MAX_NUMBER_CHARS:
        return int(text)  # the commonest number, without a regular expression
    if len(text) > _MAX_NUMBER_CHARS and (_CORE_INT.match(text) or _CORE_HEX.match(text)
                                          or _CORE_OCT.match(text) or _CORE_FLOAT.match(text)):
        raise ValueError("too many digits")  # Python refuses to print such an int anyway
    if _CORE_NULL.match(text):
        return None
    if text in _CORE_BOOL:
        return _CORE_BOOL[text]
    if _CORE_INT.match(text):
        return int(text)
    if _CORE_OCT.match(text):
        return int(text[2:], 8)
    if _CORE_HEX.match(text):
        return int(text[2:], 16)
    if _CORE_FLOAT.match(text):
        return float(text)
    if _CORE_INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _CORE_NAN.match(text):
        return float("nan")
    return text


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
        self.text_source: str | None = None

    def fail(self, node: yaml.Node, path: SpecPath, message: str,
             rule: str = "yaml-feature") -> SpecError:
        line, column, end_line, end_column = _span(node)
        return SpecError([Problem(path, message, self.file, line, column, rule, end_line,
                                  end_column)])

    def explicit(self, node: yaml.ScalarNode) -> bool:
        """Whether the scalar carries a tag the user wrote (``!!str 5``), not a resolved one."""
        text = self.text_source
        index = node.start_mark.index
        return text is not None and index < len(text) and text[index] == "!"

    def text(self, value: str, node: yaml.Node, path: SpecPath) -> str:
        """A quoted string; JSON-style escaped surrogate pairs (``\\ud83d\\ude00``) joined."""
        if not any("\ud800" <= ch <= "\udfff" for ch in value):
            return value
        try:
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise self.fail(node, path, "the string holds a lone UTF-16 surrogate escape "
                            "(\\ud800-\\udfff without its pair)") from None

    def build(self, node: yaml.Node, path: SpecPath, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # Aliases share nodes, so this node's own position says little: blame the top key.
            top = path[:1]
            line, column = self.positions.get(top, (1, 1))[:2]
            raise SpecError([Problem(top, f"the document expands to more than {MAX_NODES:,} "
                                     "nodes (an alias bomb?); refusing it", self.file, line,
                                     column, "yaml-feature")])
        if depth > MAX_DEPTH:
            raise self.fail(node, path[:1], f"the document nests deeper than {MAX_DEPTH} levels")
        if path not in self.positions:
            self.positions[path] = _span(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(node, path, f"the YAML tag {_tag(node.tag)!r} is not allowed in "
                                "a spec; use plain values")
            try:
                if not node.style and not self.explicit(node):  # plain: None, or "" from libyaml
                    return _core_scalar(node.value)
                value = self.constructor.yaml_constructors[node.tag](self.constructor, node)
            except (ValueError, KeyError, TypeError, OverflowError):
                raise self.fail(node, path, _unreadable(node), rule="type") from None
            if isinstance(value, str):
                return self.text(value, node, path)
            return value
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
                plain_key = type(key_node) is yaml.ScalarNode and not key_node.style
                if key_node.tag == "tag:yaml.org,2002:merge" or (
                        plain_key and key_node.value == "<<"):
                    raise self.fail(key_node, path, "YAML merge keys (<<) are not allowed in a "
                                    "spec; write the keys out")
                if plain_key and key_node.tag == _STR_TAG and key_node.value and \
                        key_node.value[0] not in _CORE_FIRST:
                    key = key_node.value  # the common case, without a detour through build()
                    self.nodes += 1
                else:
                    key = self.build(key_node, (*path, "<key>"), depth + 1)
                if not isinstance(key, str):
                    raise self.fail(key_node, path, f"keys must be strings, not {key!r}")
                if key in out:
                    first = self.positions[(*path, key)][0]  # (line, column, ...)
                    raise self.fail(key_node, (*path, key),
                                    f"duplicate key {key!r} (first written at line {first})")
                # A key's position is where the key is written, so errors point at its line.
                self.positions[(*path, key)] = _span(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        raise self.fail(node, path, "unsupported YAML node")


class _Plain:
    """Resolves every untagged node to its kind's default tag, without PyYAML's YAML 1.1 regexes.

    :class:`_Builder` reads plain scalars with the YAML 1.2 core schema itself, so resolving
    them here would be wasted work: a tenth of the time of a 1 MB spec.
    """

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


_FAST_LOADER = (type("_FastLoader", (_Plain, yaml.CSafeLoader), {})
                if hasattr(yaml, "CSafeLoader") else None)


def _compose(text: str, file: str) -> list[yaml.Node]:
    """Every document's node tree (libyaml's C parser when installed: 1 MB in a blink)."""
    fast = _FAST_LOADER
    if fast is not None:
        try:
            return list(yaml.compose_all(text, Loader=fast))
        except yaml.YAMLError as exc:
            if len(text) >= _DETAILED_SYNTAX_ERRORS_BELOW:
                raise _syntax_error(exc, file) from None
        except RecursionError:
            pass  # the pure-Python parser below fails the same way and is located below
    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None


def _syntax_error(exc: yaml.YAMLError, file: str) -> SpecError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return SpecError([Problem((), f"invalid YAML: {exc}", file, 1, 1, "yaml-syntax")])
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark:
        start = exc.context_mark
        where = f"line {start.line + 1}, column {start.column + 1}"
        reason += f" ({exc.context} that starts at {where})"
    if "'\\t'" in reason:  # PyYAML shows a tab as '\t'
        reason += "; indent with spaces, not tabs"
    return SpecError([Problem((), f"invalid YAML: {reason}", file, line, col, "yaml-syntax")])


def parse(text: str, file: str = "<spec>") -> Document:
    """Parse YAML text into a :class:`Document`; raise a located :class:`SpecError`."""
    if not text.strip():
        raise SpecError([Problem((), "the file is empty; a spec starts with 'seqspec: 1'",
                                 file, 1, 1, "yaml-syntax")])
    try:
        nodes = _compose(text, file)
    except RecursionError:
        line, col = _nesting_position(text)
        raise SpecError([Problem((), f"the document nests deeper than {MAX_DEPTH} levels",
                                 file, line, col, "yaml-feature")]) from None
    if not nodes:
        raise SpecError([Problem((), "the file holds no YAML value, only comments or blank "
                                 "lines; a spec starts with 'seqspec: 1'", file, 1, 1,
                                 "yaml-syntax")])
    if len(nodes) != 1:
        raise SpecError([Problem((), f"a spec is one YAML document, found {len(nodes)}", file,
                                 1, 1, "yaml-syntax")])
    builder = _Builder(file)
    builder.text_source = text
    data = builder.build(nodes[0], ())
    if not isinstance(data, dict):
        kind = "null" if data is None else _KINDS.get(type(data), type(data).__name__)
        raise SpecError([Problem((), f"a spec is a mapping of keys (seqspec, name, model, ...), "
                                 f"not {kind}", file, 1, 1, "type")])
    return Document(file, text, data, builder.positions)


#: Paths that name this process's own standard input or an inherited descriptor
#: (``<(cmd)``): pipes there have a writer, so reading them cannot hang.
_OWN_STREAMS = re.compile(r"^(?:-|/dev/stdin|/dev/fd/[0-9]+|/proc/self/fd/[0-9]+)$")
#: Bytes read from pipes, by path: a pipe can be read once, and ``compile`` or ``check``
#: need the spec again (to hash it, to hand it to a worker) after validating it.
_STREAMS_READ: dict[str, bytes] = {}


def _refuse(file: str, message: str) -> SpecError:
    return SpecError([Problem((), message, file, rule="file")])


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a spec file, read at most once from a pipe, never more than the limit.

    Folders, devices (``/dev/zero``) and named FIFOs are refused before anything is read; a
    pipe is read only through ``-``, ``/dev/stdin`` or ``/dev/fd/N``, and reading stops one
    byte past :data:`MAX_BYTES`, so nothing grows without bound or waits for a writer.
    """
    file = str(path)
    if file in _STREAMS_READ:
        return _STREAMS_READ[file]
    own = bool(_OWN_STREAMS.match(file))
    try:
        # O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        fd = os.dup(0) if file == "-" else os.open(file, flags)
    except FileNotFoundError:
        raise _refuse(file, "no such file") from None
    except IsADirectoryError:
        raise _refuse(file, "is a directory, not a spec file") from None
    except OSError as exc:
        raise _refuse(file, f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise _refuse(file, "is a directory, not a spec file")
        pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
        if not stat.S_ISREG(mode) and not (pipe and own):
            what = ("a named pipe (FIFO)" if pipe else "a device" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else "not a regular file")
            raise _refuse(file, f"is {what}, not a spec file; pipe a spec in through "
                          "'-' or /dev/stdin instead")
        if stat.S_ISREG(mode) and info.st_size > MAX_BYTES:
            raise SpecError([Problem((), f"the file has {info.st_size:,} bytes; specs are "
                                     f"limited to {MAX_BYTES:,}", file, 1, 1, "file")])
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 16, MAX_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except IsADirectoryError:
        raise _refuse(file, "is a directory, not a spec file") from None
    except OSError as exc:
        raise _refuse(file, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_BYTES:
        raise SpecError([Problem((), f"the file has more than {MAX_BYTES:,} bytes; specs are "
                                 f"limited to {MAX_BYTES:,}", file, 1, 1, "file")])
    if not stat.S_ISREG(mode):
        _STREAMS_READ[file] = raw
    return raw


def read(path: str | Path) -> tuple[Document, bytes]:
    """Read and parse a spec file; also return its raw bytes (for the spec hash)."""
    file = str(path)
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError([Problem((), "not UTF-8 text (a binary file?)", file, line, 1,
                                 "file")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpecError([Problem((), "contains NUL bytes (a binary file?)", file, line, 1,
                                 "file")])
    return parse(text, file), raw
