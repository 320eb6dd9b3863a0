"""Memory over repeated work in one process: 20 compare runs in one TUI session, and a
20-cell eval. Growth per run must be flat: nothing of a finished run (its streams, widgets,
events) may stay behind.

- TUI: the real compare screen, headless at 120x40 under Textual's Pilot, both sides
  answered by the fake server (its own process) with the same review of `--tokens` tokens;
  the screen's re-run key starts the next run when the last ended, recorded to a fresh
  history. The resident set size (RSS) is read after each run, after a garbage collection.
- eval: `driftcheck eval` as a user runs it (two models on five bundled incidents, two
  answers each, `--judges none`: 20 cells), in its own process, answered by the fake
  server scripted as in tests/fake_eval.py; its RSS is read each time it reports a cell.

Growth per run is the least-squares slope of RSS over the runs after `--settle` (the first
runs load modules and fill caches once); the budget is 0.5 MiB per run. `--trace` adds a
tracemalloc comparison of the TUI session between the end of the settle runs and the last
run, and prints where the memory that stayed was allocated. `--repeats` runs it all again
and gives the median and min-max.

    python3 tests/perf/memory.py [--runs 20] [--repeats 3] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SAMPLE = "sample_code/inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
BUDGET_MIB = 0.5
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


def slope(values: list[float]) -> float:
    """Least-squares growth per step."""
    n = len(values)
    xs = range(n)
    mx, my = (n - 1) / 2, statistics.fmean(values)
    return sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True)) / sum((x - mx) ** 2 for x in xs)


def start_server(reply_file: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    from tests.perf.fake_process import start_fake_server

    proc, anthropic_url, openai_url = start_fake_server("--reply-file", reply_file)
    return proc, {"ANTHROPIC_BASE_URL": anthropic_url, "OPENAI_BASE_URL": openai_url}


async def tui_session(runs: int, settle: int, trace: bool) -> dict[str, Any]:
    import tracemalloc

    from textual import on

    from app.tui.app import DriftcheckApp
    from app.tui.compare_screen import CompareScreen
    from app.tui.runs import RunEnded

    ended = asyncio.Event()
    statuses: list[str] = []

    class Counted(CompareScreen):
        @on(RunEnded)
        def _counted(self, message: RunEnded) -> None:
            statuses.append(message.status)
            self.call_after_refresh(ended.set)

    sizes: list[float] = []
    snapshot = None
    app = DriftcheckApp(lambda a: Counted(SAMPLE, A, B), record=True)
    async with app.run_test(size=(120, 40)) as pilot:
        for n in range(runs):
            await asyncio.wait_for(ended.wait(), timeout=300)
            ended.clear()
            await pilot.pause()
            gc.collect()
            sizes.append(rss_mib())
            if trace and n + 1 == settle:
                tracemalloc.start(25)
                snapshot = tracemalloc.take_snapshot()
            if n + 1 < runs:
                await pilot.press("r")
        top: list[str] = []
        if snapshot is not None:
            gc.collect()
            diff = tracemalloc.take_snapshot().compare_to(snapshot, "traceback")
            total = sum(stat.size_diff for stat in diff) / 2**20
            top.append(f"{total:+.2f} MiB traced by Python's allocator over the last {runs - settle} runs")
            for stat in diff[:8]:
                frames = [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in stat.traceback[-6:]]
                top.append(f"{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks: " + " < ".join(frames))
            tracemalloc.stop()
    assert statuses.count("ok") == runs, f"runs did not all succeed: {statuses}"
    return {"rss_mib": [round(s, 2) for s in sizes], "growth_mib_per_run": slope(sizes[settle - 1 :]), "top": top}


def eval_session(env: dict[str, str], settle: int) -> dict[str, Any]:
    """A 20-cell eval (two models, five incidents, two answers each) in its own process,
    answered by the fake server scripted as in tests/fake_eval.py; RSS at each finished cell."""
    import re

    from tests.fake_eval import HAIKU, MINI
    from tests.fake_eval import script as script_eval
    from tests.fake_triage import INCIDENTS
    from tests.fakeserver import FakeServer

    server = FakeServer().start()  # here, not in the eval's process: only the eval is measured
    script_eval(server)
    env = {**env, "ANTHROPIC_BASE_URL": server.anthropic_base_url, "OPENAI_BASE_URL": server.openai_base_url}
    incidents = [str(ROOT / "incidents" / name) for name in INCIDENTS[:5]]
    cmd = [sys.executable, "-m", "app", "eval", "--models", f"{HAIKU},{MINI}", "--judges", "none", "--repeat", "2"]
    proc = subprocess.Popen(
        [*cmd, "--format", "json", "--set", *incidents],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    sizes: list[float] = []
    cell = re.compile(r"^driftcheck: \[\d+/\d+\]")
    for line in proc.stderr:
        if cell.match(line):
            try:
                sizes.append(rss_mib(proc.pid))
            except (FileNotFoundError, ProcessLookupError):
                break
    proc.wait()
    server.stop()
    assert proc.returncode == 0, f"eval exited {proc.returncode}"
    return {
        "cells": len(sizes),
        "rss_mib": [round(s, 2) for s in sizes],
        "growth_mib_per_run": slope(sizes[settle - 1 :]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--settle", type=int, default=5, help="runs left out of the slope")
    parser.add_argument("--tokens", type=int, default=2000, help="the review's size, each side, each run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--only", choices=("tui", "eval"))
    args = parser.parse_args()
    from tests.perf.tui_streaming import long_review

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(long_review(args.tokens))
    server, urls = start_server(handle.name)
    results: list[dict[str, Any]] = []
    try:
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as home:
                env = {
                    **os.environ,
                    **urls,
                    "ANTHROPIC_API_KEY": "bench",
                    "OPENAI_API_KEY": "bench",
                    "DRIFTCHECK_DATA_DIR": home,
                    "DRIFTCHECK_CONFIG_DIR": home,
                }
                os.environ.update(env)
                result: dict[str, Any] = {}
                if args.only != "eval":
                    result["tui"] = asyncio.run(tui_session(args.runs, args.settle, args.trace))
                if args.only != "tui":
                    result["eval"] = eval_session(env, args.settle)
                results.append(result)
    finally:
        server.terminate()
        server.wait()
        os.unlink(handle.name)

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):+.3f} ({min(values):+.3f} to {max(values):+.3f})"

    print(f"memory: median (min-max) over {args.repeats} repeat(s); growth = slope of RSS after run {args.settle}")
    met = True
    for part, what in (("tui", f"{args.runs} compare runs in one TUI session"), ("eval", "a 20-cell eval")):
        if part not in results[0]:
            continue
        growth = [r[part]["growth_mib_per_run"] for r in results]
        first = [r[part]["rss_mib"][0] for r in results]
        last = [r[part]["rss_mib"][-1] for r in results]
        extra = f", {results[0][part]['cells']} cells seen" if part == "eval" else ""
        print(
            f"{what}: RSS after the first {statistics.median(first):.1f} MiB, after the last "
            f"{statistics.median(last):.1f} MiB; growth per run {spread(growth)} MiB{extra}"
        )
        met = met and statistics.median(growth) <= BUDGET_MIB
    print(f"budget <= {BUDGET_MIB} MiB per run: {'met' if met else 'NOT met'}")
    for line in results[-1].get("tui", {}).get("top", []):
        print("  retained:", line)
    print(json.dumps({"benchmark": "memory", "args": vars(args), "repeats": results}))


if __name__ == "__main__":
    main()
