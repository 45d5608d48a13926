"""Write examples/data/corpus.txt: real text that every machine already has.

Nothing can be downloaded at run time, so the character-level language model trains on Python's
own standard library source (as Karpathy's char-rnn trained on the Linux source). The modules are
a fixed list, read from the running interpreter; the text is ASCII-filtered so the vocabulary fits
the spec's vocab_size of 96.

    python examples/data/make_corpus.py [--max-chars N]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

MODULES = [
    "textwrap", "string", "bisect", "heapq", "colorsys", "fnmatch", "shlex", "glob",
    "difflib", "calendar", "fractions", "statistics", "argparse", "json.decoder",
]


def corpus(max_chars: int, modules: list[str] | None = None) -> str:
    """The concatenated source of `modules` (default MODULES), printable ASCII and newlines only.

    Modules that are missing or not plain ``.py`` files (frozen, built in) are skipped.
    """
    parts = []
    for name in MODULES if modules is None else modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        parts.append(Path(spec.origin).read_text(encoding="utf-8"))
    text = "\n".join(parts)
    text = "".join(ch for ch in text if ch == "\n" or " " <= ch <= "~")
    return text[:max_chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-chars", type=int, default=400_000)
    parser.add_argument("-o", "--out", default=str(Path(__file__).with_name("corpus.txt")))
    args = parser.parse_args()
    text = corpus(args.max_chars)
    Path(args.out).write_text(text, encoding="ascii")
    print(f"wrote {len(text):,} characters to {args.out}")


if __name__ == "__main__":
    main()
