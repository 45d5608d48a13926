"""Property tests: budgets per profile, and the strategies module on the import path.

``SEQSPEC_HYPOTHESIS_PROFILE=ci`` (default: small, derandomized, so CI is reproducible) or
``thorough`` (many more examples, random): ``SEQSPEC_HYPOTHESIS_PROFILE=thorough pytest
tests/property -m "slow or not slow"``. Budgets are applied per test with ``budget(...)``, not by
loading a global profile, so other test folders' hypothesis settings are left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # importlib import mode: make spec_strategies importable
    sys.path.insert(0, str(HERE))


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many examples each property suite tried, and how long they took."""
    budget = sys.modules.get("budget")
    if budget is None or not budget.STATS.examples:
        return
    terminalreporter.section(f"seqspec property suites (profile {budget.PROFILE})")
    for line in budget.STATS.lines():
        terminalreporter.line(line)
