"""Example budgets of the property suites per ``SEQSPEC_HYPOTHESIS_PROFILE`` (ci | thorough)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("SEQSPEC_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "thorough"):
    raise ValueError(f"SEQSPEC_HYPOTHESIS_PROFILE must be ci or thorough, not {PROFILE!r}")

#: max_examples per suite: (ci, thorough)
BUDGETS = {
    "equivalence": (12, 400),
    "import_roundtrip": (15, 500),
    "invalid": (150, 3000),
    "strings": (30, 1000),
    "names": (20, 500),
}


def budget(suite: str) -> settings:
    """Hypothesis settings for ``suite`` under the current profile."""
    ci, thorough = BUDGETS[suite]
    return settings(
        max_examples=ci if PROFILE == "ci" else thorough,
        deadline=None,
        derandomize=PROFILE == "ci",
        database=None if PROFILE == "ci" else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        print_blob=True,
    )


@dataclass
class Stats:
    """What the property suites tried, printed in pytest's terminal summary."""

    examples: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    compared: dict[str, int] = field(default_factory=dict)

    def record(self, suite: str, seconds: float) -> None:
        self.examples[suite] = self.examples.get(suite, 0) + 1
        self.seconds[suite] = self.seconds.get(suite, 0.0) + seconds

    def lines(self) -> list[str]:
        out = [f"{suite}: {n} examples in {self.seconds[suite]:.1f}s"
               for suite, n in self.examples.items()]
        if self.compared:
            out.append(f"equivalence specs compared per backend: {self.compared}")
        return out


STATS = Stats()
