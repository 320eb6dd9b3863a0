"""Two panes streaming 20k tokens each, at full speed, in the compare screen.

Budget (docs/performance.md): the screen is up to date within 150 ms of the last token, and the
render cost per token does not grow with the length of what has streamed. The fake
server (own process) answers both sides with the same ~80,000-character review — about
20,000 tokens, one token per delta — with no delay. The app runs headless at 120×40 with
the real compare screen; an instrumented subclass notes when each side's text passed each
1,000-token mark and when the last token arrived, and the screen's next refresh after
both sides ended.

Reported: the lag from the last token to both panes showing their final result (the
budget), and to the drift panel, which is computed and drawn after both have ended (200
findings a side here, so 40,000 possible pairs); the time to handle each
successive 1,000 tokens (both panes), first against last — flat means the ratio stays
near 1 — and the whole run against the same stream consumed without a UI (the cost of
the screen).

    python3 tests/perf/tui_streaming.py [--tokens 20000] [--repeats 5]

Figures are medians over the repeats, with the worst lag beside the median.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SAMPLE = "sample_code/inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
CHARS_PER_TOKEN = 4


def long_review(tokens: int) -> str:
    """A valid review of the sample whose findings add up to about `tokens` tokens."""
    lines = (ROOT / SAMPLE).read_text().splitlines()
    code = [(n, text.strip()) for n, text in enumerate(lines, start=1) if text.strip()]
    findings, size, n = [], 0, 0
    while size < tokens * CHARS_PER_TOKEN:
        line, evidence = code[n % len(code)]
        words = " ".join(f"word{(n * 7 + k) % 97}" for k in range(70))
        finding = {
            "line_start": line,
            "line_end": line,
            "severity": "low",
            "category": "maintainability",
            "title": f"Finding {n}",
            "explanation": words,
            "suggestion": words[:200],
            "evidence": evidence,
        }
        findings.append(finding)
        size += len(json.dumps(finding))
        n += 1
    return json.dumps({"findings": findings, "summary": "Long.", "score": 5})


def start_server(reply_file: str) -> tuple[subprocess.Popen[str], str, str]:
    from tests.perf.fake_process import start_fake_server

    return start_fake_server("--reply-file", reply_file, "--chunk-size", str(CHARS_PER_TOKEN))


async def with_screen(tokens: int) -> dict[str, float]:
    from time import monotonic as get_time  # the clock Textual itself reads on POSIX

    from textual import on

    from app.calls.structured import TextArrived
    from app.tui.app import DriftcheckApp
    from app.tui.compare_screen import CompareScreen
    from app.tui.runs import RunEnded, TaskUpdate

    marks: dict[str, list[float]] = {"a": [], "b": []}
    received = {"a": 0, "b": 0}
    last_token = [0.0]
    done = asyncio.Event()
    finished_at = [0.0]
    panes_painted = [0.0]
    ended_sides: set[str] = set()
    step = 1000 * CHARS_PER_TOKEN

    class Timed(CompareScreen):
        # Extra handlers: Textual runs these after the screen's own, for the same message.
        @on(TaskUpdate)
        def _timed_update(self, message: TaskUpdate) -> None:
            if message.public is not None:  # a side's end: its pane shows the final result
                ended_sides.add(message.side)
                if len(ended_sides) == 2:
                    self.call_after_refresh(lambda: panes_painted.__setitem__(0, get_time()))
            if isinstance(message.event, TextArrived):
                last_token[0] = max(last_token[0], message.time)
                before = received[message.side] // step
                received[message.side] += len(message.event.text)
                if received[message.side] // step > before:
                    marks[message.side].append(get_time())

        @on(RunEnded)
        def _timed_end(self, message: RunEnded) -> None:
            def painted() -> None:
                finished_at[0] = get_time()
                done.set()

            self.call_after_refresh(painted)

    app = DriftcheckApp(lambda a: Timed(SAMPLE, A, B, record=False), record=False)
    async with app.run_test(size=(120, 40)):
        started = get_time()
        await asyncio.wait_for(done.wait(), timeout=600)
        report = app.screen.report
    assert report is not None and report["a"]["status"] == report["b"]["status"] == "ok", "a side failed"
    # Both panes together: the time for the slower of the two to take its next 1,000 tokens.
    both = [
        max(x, y)
        for x, y in zip(*([b - a for a, b in itertools.pairwise(m)] for m in (marks["a"], marks["b"])), strict=False)
    ]
    first, last = statistics.median(both[:5]), statistics.median(both[-5:])
    return {
        "tokens_per_side": received["a"] / CHARS_PER_TOKEN,
        "panes_done_after_last_token_ms": (panes_painted[0] - last_token[0]) * 1000,
        "drift_panel_done_after_last_token_ms": (finished_at[0] - last_token[0]) * 1000,
        "total_s": finished_at[0] - started,
        "first_5k_median_per_1k_ms": first * 1000,
        "last_5k_median_per_1k_ms": last * 1000,
        "median_per_1k_ms": statistics.median(both) * 1000,
        "last_over_first": last / first,
    }


async def without_screen() -> float:
    """The same two streams, consumed by the review task with nothing on screen."""
    from app.compare.events import compare_events
    from app.tui.runs import prepare_review

    prepared = prepare_review(SAMPLE, {"a": A, "b": B}, record=False).prepared
    started = time.perf_counter()
    async for _ in compare_events(prepared.starts):
        pass
    for provider in prepared.closing:
        await provider.aclose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5, help="screen runs; the lags are reported as median and worst")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(long_review(args.tokens))
    proc, anthropic_url, openai_url = start_server(handle.name)
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(
            {
                "ANTHROPIC_API_KEY": "bench",
                "OPENAI_API_KEY": "bench",
                "ANTHROPIC_BASE_URL": anthropic_url,
                "OPENAI_BASE_URL": openai_url,
                "DRIFTCHECK_DATA_DIR": home,
                "DRIFTCHECK_CONFIG_DIR": home,
            }
        )
        try:
            bare = asyncio.run(without_screen())
            runs = [asyncio.run(with_screen(args.tokens)) for _ in range(args.repeats)]
        finally:
            proc.terminate()
            os.unlink(handle.name)
    result = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    for key in ("panes_done_after_last_token_ms", "drift_panel_done_after_last_token_ms"):
        result[key.replace("_ms", "_worst_ms")] = max(r[key] for r in runs)
    result["runs"] = args.repeats
    result["without_ui_s"] = bare
    result["ui_over_no_ui"] = result["total_s"] / bare
    result["within_budget"] = result["panes_done_after_last_token_ms"] <= 150
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
