"""Time to the TUI's first frame against a bare Textual app, in one run.

Budget (docs/performance.md): at most 1.15 × a bare Textual app (wall time; the main
thread's CPU time to the frame is reported beside it, since wall times on a busy machine
move with the other processes) — which means nothing heavy (no
SDK, no price table, no local model) is imported before the first frame. Each sample is
a fresh interpreter, as a user starts it; the child notes the time of its first painted
frame (the first refresh after its screen mounted) relative to the moment the parent
launched it, and exits. Three contenders, alternating: a bare app (Header, a line of
text, Footer), `driftcheck` (the home screen) and `driftcheck review FILE -p SPEC` (the
review screen, whose run then starts in a worker: preparation, SDK import and the
request all happen after the first frame).

    python3 tests/perf/tui_first_frame.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys, time
launched = float(sys.argv[1])
which = sys.argv[2]

def report(screen_cls):
    original = screen_cls.on_mount
    def on_mount(self):
        if original is not None:
            original(self)
        def painted():
            print(f"FIRST_FRAME {time.time() - launched:.6f}", flush=True)
            print(f"FIRST_FRAME_CPU {time.thread_time():.6f}", flush=True)
            heavy = {m.split(".")[0] for m in sys.modules} & {"anthropic", "openai", "genai_prices", "llama_cpp"}
            print("HEAVY_AT_FIRST_FRAME", ",".join(sorted(heavy)) or "none", flush=True)
            self.app.exit()
        self.call_after_refresh(painted)
    screen_cls.on_mount = on_mount

if which == "bare":
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import Footer, Header, Static

    class Bare(Screen):
        on_mount = None
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()
    report(Bare)

    class BareApp(App):
        def on_mount(self):
            self.push_screen(Bare())
    BareApp().run(headless=True, size=(120, 40))
elif which == "home":
    from app.tui.app import DriftcheckApp, HomeScreen
    report(HomeScreen)
    DriftcheckApp(record=False).run(headless=True, size=(120, 40))
else:
    from app.tui.app import DriftcheckApp
    from app.tui.review_screen import ReviewScreen
    report(ReviewScreen)
    DriftcheckApp(lambda app: ReviewScreen("sample_code/inventory_service.py", "anthropic:claude-haiku-4-5",
                                           record=False), record=False).run(headless=True, size=(120, 40))
"""


def first_frame(which: str, env: dict[str, str]) -> tuple[float, float, str]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(time.time()), which],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    if "FIRST_FRAME" not in lines:
        raise SystemExit(f"{which}: no frame\n{out.stdout}\n{out.stderr}")
    return float(lines["FIRST_FRAME"]), float(lines["FIRST_FRAME_CPU"]), lines["HEAVY_AT_FIRST_FRAME"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        # An address nothing listens on: the review's request fails fast, after the frame.
        env = {
            **os.environ,
            "DRIFTCHECK_DATA_DIR": home,
            "DRIFTCHECK_CONFIG_DIR": home,
            "ANTHROPIC_API_KEY": "bench",
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        }
        for which in ("bare", "home", "review"):  # warm the file cache
            first_frame(which, env)
        times: dict[str, list[float]] = {"bare": [], "home": [], "review": []}
        cpu: dict[str, list[float]] = {"bare": [], "home": [], "review": []}
        heavy: set[str] = set()
        order = list(times)
        for i in range(args.runs):
            for which in order[i % 3 :] + order[: i % 3]:
                took, main_cpu, loaded = first_frame(which, env)
                times[which].append(took)
                cpu[which].append(main_cpu)
                heavy |= set(loaded.split(",")) - {"none"}
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}

    def spread(which: str, samples: dict[str, list[float]]) -> list[float]:
        """The ratio to the bare app round by round (each round runs all three): its range."""
        ratios = [w / b for w, b in zip(samples[which], samples["bare"], strict=True)]
        return [round(min(ratios), 3), round(max(ratios), 3)]

    print(
        json.dumps(
            {
                "bare_textual_ms": round(med["bare"] * 1000, 1),
                "home_ms": round(med["home"] * 1000, 1),
                "review_screen_ms": round(med["review"] * 1000, 1),
                "home_over_bare": round(med["home"] / med["bare"], 3),
                "review_over_bare": round(med["review"] / med["bare"], 3),
                "review_over_bare_range": spread("review", times),
                # The main thread's CPU time to the frame: what the frame costs, unmoved by
                # other processes competing for the CPU (wall times on a busy machine are).
                "main_thread_cpu_ms": {k: round(v * 1000, 1) for k, v in med_cpu.items()},
                "home_over_bare_cpu": round(med_cpu["home"] / med_cpu["bare"], 3),
                "review_over_bare_cpu": round(med_cpu["review"] / med_cpu["bare"], 3),
                "review_over_bare_cpu_range": spread("review", cpu),
                "budget": 1.15,
                "sdk_or_price_table_loaded_before_first_frame": sorted(heavy),
                "home_within_budget": med["home"] / med["bare"] <= 1.15,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
