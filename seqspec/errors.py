"""Errors that carry locations: every problem in a spec is reported at FILE:LINE:COL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

SpecPath = tuple[str | int, ...]
#: A spec path -> (line, column), both 1-based, as recorded by the loader.
Positions = Mapping[SpecPath, tuple[int, int]]


def format_path(path: SpecPath) -> str:
    """``("model", "layers", 0, "hidden_size")`` -> ``model.layers[0].hidden_size``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<document>"


@dataclass(frozen=True)
class Problem:
    """One problem in a spec, at a path, optionally located in a file."""

    path: SpecPath
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def located(self, file: str | None, positions: Positions) -> Problem:
        """This problem with file, line and column filled in from the loader's positions.

        A path that has no position of its own (a missing key, say) takes the position of
        its nearest ancestor that has one.
        """
        line, column = self.line, self.column
        if line is None:
            for cut in range(len(self.path), -1, -1):
                hit = positions.get(tuple(self.path[:cut]))
                if hit is not None:
                    line, column = hit
                    break
        return replace(self, file=file if self.file is None else self.file, line=line,
                       column=column)

    def format(self) -> str:
        """``FILE:LINE:COL: error: PATH: MESSAGE``."""
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: error: {format_path(self.path)}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """For ``--format json``."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "message": self.message,
        }


class SpecError(Exception):
    """A spec is invalid; carries every problem found, each with its location."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    def located(self, file: str | None, positions: Positions) -> SpecError:
        """The same error with every problem located."""
        return type(self)(p.located(file, positions) for p in self.problems)


class UnsupportedFeature(SpecError):
    """A backend cannot compile a feature that the spec uses."""
