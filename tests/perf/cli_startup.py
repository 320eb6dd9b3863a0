"""`driftcheck --help` start-up time, against a bare interpreter in the same run.

Budget (docs/performance.md): `driftcheck --help` within 3x a bare `python -c pass` started
the same way in the same run, so a slow machine (or an interpreter whose site-packages
import something at start-up) slows the baseline too. Launches alternate between the
three commands; each repeat takes the median of `--runs` launches, and the figures are
the median of the repeats with their min-max, so a reader can tell a figure from noise.

    python tests/perf/cli_startup.py [--runs 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUDGET_RATIO = 3.0

COMMANDS = {
    "bare": [sys.executable, "-c", "pass"],
    "help": [sys.executable, "-m", "app", "--help"],
    "ask_help": [sys.executable, "-m", "app", "ask", "--help"],
}


def launch(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def one_repeat(runs: int) -> dict[str, float]:
    """Median launch time of each command, the commands alternating launch by launch."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for i in range(runs):
        for name in names[i % 3 :] + names[: i % 3]:
            times[name].append(launch(COMMANDS[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    values = [v * scale for v in values]
    return f"{statistics.median(values):7.2f}{unit} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="launches per command per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name in COMMANDS:
        launch(COMMANDS[name])  # warm the file cache
    repeats = [one_repeat(args.runs) for _ in range(args.repeats)]
    ratios = {name: [r[name] / r["bare"] for r in repeats] for name in ("help", "ask_help")}
    print(f"start-up: {args.repeats} repeats of {args.runs} launches each; median (min-max) over the repeats")
    print(f"bare interpreter       {spread([r['bare'] for r in repeats], 1000, ' ms')}")
    print(
        f"driftcheck --help      {spread([r['help'] for r in repeats], 1000, ' ms')}  {spread(ratios['help'], unit='x')}"
    )
    print(
        f"driftcheck ask --help  {spread([r['ask_help'] for r in repeats], 1000, ' ms')}  "
        f"{spread(ratios['ask_help'], unit='x')}"
    )
    met = statistics.median(ratios["help"]) <= BUDGET_RATIO
    print(f"budget --help <= {BUDGET_RATIO:g}x bare: {'met' if met else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "cli_startup",
                "repeats": [{k: round(v * 1000, 2) for k, v in r.items()} for r in repeats],
                "help_ratio_median": round(statistics.median(ratios["help"]), 3),
                "help_ratio_range": [round(min(ratios["help"]), 3), round(max(ratios["help"]), 3)],
            }
        )
    )


if __name__ == "__main__":
    main()
