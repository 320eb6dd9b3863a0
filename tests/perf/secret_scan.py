"""Secret scanning time per MB, on ordinary and adversarial lines of 8k, 32k and 1M characters.

Budget (docs/performance.md; issue 17): secret scanning is linear in its input. Each input is about
`--mb` megabytes made of lines of one length, so a scan that re-reads a line from every
position in it (quadratic) shows up as a time per MB that grows with the line length;
linear means the per-MB times at 8k, 32k and 1M are within 2x of each other. The old
assignment rule took 173 s on one 32k-character line of `BLOB = "aaa…"`.

The scan is `app.source.secrets.redact_lines`, what every text passes before it leaves the
machine; the prompt-injection scan (`app.source.injection.scan_lines`), which reads the same
text, is measured beside it. The baseline is one pass over the same text of a regex that
is tried at every position and never matches (the least any rule can cost), in the same
run, so a slow machine shows up as a slow baseline.

    python tests/perf/secret_scan.py [--runs 3] [--mb 1]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.source.injection import scan_lines  # noqa: E402
from app.source.secrets import redact_lines  # noqa: E402

LENGTHS = (8_000, 32_000, 1_000_000)
ORDINARY = (
    'total = sum(item.price * item.quantity for item in order.items); logger.info("order %s total %s", '
    'order.id, total); headers = {"Accept": "application/json", "X-Request-Id": request_id}; '
)
# Each repeats a piece that one rule or another used to re-read from every position.
ADVERSARIAL = {
    "word run in a string": ('BLOB = "', "a"),
    "credential words and dots": ("", "secret."),
    "key prefixes after dashes": ("", "sk-ant-api03-"),
    "a URL scheme that never ends": ("", "a."),
    "literals joined by +": ("", '"a9" + '),
    "base64 run": ("", "Zm9vYmFy"),
    "spaces after a verb": ("ignore", " "),
}
# Tried at every position and never matching: the least any rule of the scan does.
_BASELINE = re.compile(r"(?<=\x00)\x01")


def lines_of(length: int, head: str, unit: str, megabytes: float) -> list[str]:
    line = (head + unit * ((length - len(head)) // len(unit) + 1))[:length]
    return [line] * max(1, round(megabytes * 1_000_000 / length))


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds; each cell's best round is kept")
    parser.add_argument("--mb", type=float, default=1.0, help="megabytes of text per input and line length")
    args = parser.parse_args()

    inputs = {"ordinary code": ("", ORDINARY), **ADVERSARIAL}
    cells = {
        (name, length): lines_of(length, head, unit, args.mb)
        for name, (head, unit) in inputs.items()
        for length in LENGTHS
    }
    scans = {
        "baseline": lambda lines: [_BASELINE.search(line) for line in lines],
        "secrets": redact_lines,
        "injection": scan_lines,
    }
    best: dict[tuple[str, int, str], float] = {}
    # Rounds go over every cell in turn, so a burst of load on a shared machine lands on
    # one round of many cells, not on every round of one cell.
    for _ in range(args.runs):
        for key, lines in cells.items():
            mb = sum(len(line) for line in lines) / 1_000_000
            for scan, fn in scans.items():
                per_mb = timed(lambda fn=fn, lines=lines: fn(lines)) / mb
                best[(*key, scan)] = min(best.get((*key, scan), per_mb), per_mb)

    rows = []
    print(f"{'input':30} {'line':>6} | {'secrets s/MB':>12} {'x base':>7} | {'injection s/MB':>14} {'x base':>7}")
    for name, length in cells:
        base, secrets, injection = (best[(name, length, scan)] for scan in scans)
        rows.append(
            {
                "input": name,
                "line": length,
                "secrets_s_per_mb": secrets,
                "injection_s_per_mb": injection,
                "baseline_s_per_mb": base,
            }
        )
        print(
            f"{name:30} {length // 1000:>5}k | {secrets:12.3f} {secrets / base:7.1f} | "
            f"{injection:14.3f} {injection / base:7.1f}"
        )
    print()
    linear = True
    for name in inputs:
        for scan in ("secrets", "injection"):
            per_mb = [r[f"{scan}_s_per_mb"] for r in rows if r["input"] == name]
            spread = max(per_mb) / min(per_mb)
            linear &= spread <= 2
            print(f"{name:30} {scan:9} per-MB spread over 8k/32k/1M lines: {spread:4.2f}x")
    print(f"budget 'linear' (per-MB times within 2x of each other): {'met' if linear else 'NOT met'}")
    print(json.dumps({"benchmark": "secret_scan", "mb": args.mb, "rows": rows, "linear": linear}))


if __name__ == "__main__":
    main()
