"""Rebuild docs/results.md from the demos' sections in docs/results/ (each demo does it too).

    python demos/report.py
"""

from __future__ import annotations

from _common import write_results_page

if __name__ == "__main__":
    print(f"wrote {write_results_page()}")
