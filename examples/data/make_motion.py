"""Write examples/data/motion.csv: synthetic trips, a row per second, for the sequence classifier.

Each trip is walked, cycled or driven (its `mode`: 0, 1, 2) for 6 to 24 seconds; a row holds the
trip id, the second `t`, the speed (m/s) and the turn (change of heading, radians) of that
second, and the trip's mode. Walks are slow and wander, bike rides are steadier, car trips are
fast with rare sharp turns: the classes overlap step by step, so the model has to read the
sequence. Seeded: the file is the same on every machine.

    python examples/data/make_motion.py [--trips N] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

#: mode -> (mean speed m/s, speed noise, turn noise, chance of a sharp turn per second)
MODES = {0: (1.4, 0.5, 0.35, 0.02), 1: (4.5, 1.5, 0.15, 0.05), 2: (11.0, 5.0, 0.05, 0.12)}


def trips(count: int, seed: int = 0) -> list[list[object]]:
    """The rows of `count` trips: trip, t, speed, turn, mode."""
    rng = random.Random(seed)
    rows = []
    for trip in range(count):
        mode = trip % len(MODES)
        mean, noise, wander, sharp = MODES[mode]
        for t in range(rng.randint(6, 24)):
            speed = max(0.0, rng.gauss(mean, noise))
            turn = rng.gauss(0.0, wander) + (rng.choice((-1.5, 1.5)) if rng.random() < sharp else 0)
            rows.append([f"trip{trip:03d}", t, f"{speed:.3f}", f"{turn:.3f}", mode])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=90, help="how many trips")
    parser.add_argument("--out", default=str(Path(__file__).with_name("motion.csv")))
    args = parser.parse_args()
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        table = csv.writer(fh, lineterminator="\n")
        table.writerow(["trip", "t", "speed", "turn", "mode"])
        table.writerows(trips(args.trips))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
