"""The ``import`` command is registered lazily: asking for it loads no framework until a source
is read, and ``seqspec --help`` lists it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from seqspec.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_a_command() -> None:
    assert "import" in build_parser(["import"]).format_help()


def test_import_help_imports_no_framework_nor_numpy() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "seqspec", "import",
                           "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--variable-length" in proc.stdout
    names = {m.group(1).split(".")[0] for line in proc.stderr.splitlines()
             if (m := re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", line))}
    assert "seqspec" in names
    assert not names & {"torch", "tensorflow", "keras", "onnx", "onnxruntime", "numpy"}
