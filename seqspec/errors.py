"""Errors that carry locations: every problem in a spec is reported at FILE:LINE:COL.

Every problem has a stable rule id from :data:`RULES` (listed in docs/spec.md; CI systems and
SARIF viewers group and suppress problems by it), a severity, and where the loader knows it
the end of the offending key or value too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

SpecPath = tuple[str | int, ...]
#: A spec path -> (line, column, end line, end column), 1-based, as recorded by the loader.
#: The end is exclusive (the column just after the key or value), as in SARIF.
Positions = Mapping[SpecPath, tuple[int, ...]]


@dataclass(frozen=True)
class Rule:
    """A kind of problem: its stable id, severity and a one-line summary (docs/spec.md)."""

    id: str
    severity: str  # error | warning
    summary: str


#: Every rule, in the order docs/spec.md lists them. Ids never change once released.
RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("file", "error", "The spec file cannot be read: missing, a folder, a device or "
             "FIFO, over the size limit, not UTF-8 text."),
        Rule("yaml-syntax", "error", "The file is not one valid YAML document (syntax, tabs, "
             "several documents, empty, only comments)."),
        Rule("yaml-feature", "error", "YAML that a spec forbids: tags, merge keys, duplicate "
             "or non-string keys, aliases that expand too far, nesting too deep."),
        Rule("unknown-key", "error", "A key that does not exist at that place (with a "
             "did-you-mean hint)."),
        Rule("missing-key", "error", "A required key is missing."),
        Rule("unknown-value", "error", "A value outside the allowed choices, including an "
             "unknown `scheme`, `cell` or `kind`."),
        Rule("type", "error", "A value of the wrong type: a string for a number, a number "
             "for a boolean, a scalar for a mapping or list."),
        Rule("range", "error", "A number, list or text outside its allowed range or length."),
        Rule("format", "error", "Text in the wrong form: a name that is not an identifier, "
             "control characters in a description."),
        Rule("version", "error", "The spec language version is not 1."),
        Rule("consistency", "error", "Values that must agree with each other do not (sizes, "
             "the head that fits the scheme, options that need another option)."),
        Rule("limit", "error", "The model is over a size limit (parameter budget)."),
        Rule("unsupported", "error", "A backend cannot compile a feature the spec uses."),
        Rule("internal", "error", "seqspec itself failed; a bug to report."),
    )
}


def escape(text: str) -> str:
    """``text`` with control and bidi-format characters escaped, so it stays on one line.

    A key or file name holding a newline or a terminal escape code must not forge extra
    error lines or recolour a terminal: ``a\\nb`` is shown as ``a\\\\nb``.
    """
    text = str(text)
    if text.isprintable():  # the common case, and fast
        return text
    out = []
    for ch in text:
        if ch.isprintable() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{ord(ch):02x}"))
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def format_path(path: SpecPath) -> str:
    """``("model", "layers", 0, "hidden_size")`` -> ``model.layers[0].hidden_size``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return escape(out) or "<document>"


@dataclass(frozen=True)
class Problem:
    """One problem in a spec, at a path, optionally located in a file.

    ``rule`` is a key of :data:`RULES`; it defaults to ``consistency``, the rule of the
    semantic checks in :mod:`seqspec.lower` (the loader and validation name theirs).
    """

    path: SpecPath
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    rule: str = "consistency"
    end_line: int | None = None
    end_column: int | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule id {self.rule!r}")

    @property
    def severity(self) -> str:
        return RULES[self.rule].severity

    def located(self, file: str | None, positions: Positions) -> Problem:
        """This problem with file, line and column filled in from the loader's positions.

        A path that has no position of its own (a missing key, say) takes the position of
        its nearest ancestor that has one.
        """
        line, column = self.line, self.column
        end_line, end_column = self.end_line, self.end_column
        if line is None:
            for cut in range(len(self.path), -1, -1):
                hit = positions.get(tuple(self.path[:cut]))
                if hit is not None:
                    line, column = hit[0], hit[1]
                    if len(hit) == 4:
                        end_line, end_column = hit[2], hit[3]
                    break
        return replace(self, file=file if self.file is None else self.file, line=line,
                       column=column, end_line=end_line, end_column=end_column)

    def where(self) -> str:
        """``FILE:LINE:COL`` (or less, when the position is unknown)."""
        where = escape(self.file or "<spec>")
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return where

    def format(self) -> str:
        """``FILE:LINE:COL: error: PATH: MESSAGE``."""
        return f"{self.where()}: {self.severity}: {format_path(self.path)}: {escape(self.message)}"

    def as_dict(self) -> dict[str, object]:
        """For ``--format json``."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "path": format_path(self.path),
            "message": escape(self.message),
            "rule": self.rule,
            "severity": self.severity,
        }


class SpecError(Exception):
    """A spec is invalid; carries every problem found, each with its location."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__()

    def __str__(self) -> str:  # formatted on demand: a bad 1 MB spec has thousands
        return "\n".join(p.format() for p in self.problems)

    def located(self, file: str | None, positions: Positions) -> SpecError:
        """The same error with every problem located."""
        return type(self)(p.located(file, positions) for p in self.problems)


class UnsupportedFeature(SpecError):
    """A backend cannot compile a feature that the spec uses."""
