"""`driftcheck --help` start-up time, against a bare interpreter in the same run.

Budget (docs/performance.md): `driftcheck --help` within 0.3 s. The bare `python -c pass` start
is measured alongside so a slow machine shows up as a slow baseline, not as a
regression; the ratio and the absolute median are both reported.

    python tests/perf/cli_startup.py [--runs 30]
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


def median_run(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    bare = median_run([sys.executable, "-c", "pass"], args.runs)
    help_ = median_run([sys.executable, "-m", "app", "--help"], args.runs)
    providers_help = median_run([sys.executable, "-m", "app", "ask", "--help"], args.runs)
    print(f"bare interpreter       {bare * 1000:7.1f} ms")
    print(f"driftcheck --help      {help_ * 1000:7.1f} ms  ({help_ / bare:.2f}x bare)")
    print(f"driftcheck ask --help  {providers_help * 1000:7.1f} ms  ({providers_help / bare:.2f}x bare)")
    print(f"budget --help <= 300 ms: {'met' if help_ <= 0.3 else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "cli_startup",
                "bare_ms": bare * 1000,
                "help_ms": help_ * 1000,
                "ask_help_ms": providers_help * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
