"""A compare against its slower side, in one run.

Budget (docs/performance.md): a compare takes at most 1.1 × its slower side. The fake server runs
in its own process and answers every review request with the same keyed review, with
known delays per model: A (claude-haiku-4-5) waits longer for its first token and
streams more slowly than B (gpt-5.4-mini). Rounds alternate A alone, B alone and the
compare of both (the order rotates each round), in one process with the SDKs already
loaded, so the figure is what running the sides at once costs, not start-up.

For reference the script also times the two commands as a user runs them
(`driftcheck review -p A` and `driftcheck compare -a A -b B`), where the compare also
imports the second SDK.

    python3 tests/perf/compare_overhead.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
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

from tests.fake_reviews import keyed_review_text  # noqa: E402

SAMPLE = "inventory_service.py"
SIDES = {"a": ("anthropic:claude-haiku-4-5", 0.6, 0.012), "b": ("openai:gpt-5.4-mini", 0.3, 0.008)}


def start_server(reply_file: str) -> tuple[subprocess.Popen[str], str, str]:
    from tests.perf.fake_process import start_fake_server

    delays = [
        arg for spec, first, chunk in SIDES.values() for arg in ("--delay", f"{spec.split(':')[1]}={first}:{chunk}")
    ]
    return start_fake_server("--reply-file", reply_file, "--chunk-size", "16", *delays)


async def measure(env: dict[str, str], rounds: int) -> dict[str, float]:
    from app.compare.events import compare_events
    from app.review.task import ReviewFinished, review_events
    from app.source.inputs import decode_text
    from app.source.model import load_source
    from providers import Request, build_provider

    text = (ROOT / "sample_code" / SAMPLE).read_text()
    source = load_source(SAMPLE, text)
    chunks = source.chunks(12_000)
    providers = {side: build_provider(spec, env=env) for side, (spec, _, _) in SIDES.items()}
    for provider in providers.values():  # load the SDKs and open the connections
        await provider.complete(Request.ask("warm up", max_tokens=16))

    def start(side: str):
        return lambda run: review_events(
            providers[side], source, decode_text(text.encode(), SAMPLE), chunks, max_tokens=4096
        )

    async def alone(side: str) -> None:
        async for event in start(side)(0):
            if isinstance(event, ReviewFinished):
                assert event.outcome.error is None and len(event.outcome.result.findings) == 9

    async def both() -> None:
        finished = 0
        async for item in compare_events({"a": start("a"), "b": start("b")}):
            if isinstance(item.event, ReviewFinished):
                assert item.event.outcome.error is None
                finished += 1
        assert finished == 2

    contenders = [("a", lambda: alone("a")), ("b", lambda: alone("b")), ("compare", both)]
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for i in range(rounds):
        for name, fn in contenders[i % 3 :] + contenders[: i % 3]:
            started = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - started)
    for provider in providers.values():
        await provider.aclose()
    med = {name: statistics.median(values) for name, values in times.items()}
    slower = max(med["a"], med["b"])
    return {
        "a_alone_s": med["a"],
        "b_alone_s": med["b"],
        "compare_s": med["compare"],
        "compare_over_slower_side": med["compare"] / slower,
        "compare_over_sum": med["compare"] / (med["a"] + med["b"]),
    }


def cli_times(env: dict[str, str]) -> dict[str, float]:
    """The two commands as a user runs them, start-up and all (one run each)."""
    with tempfile.TemporaryDirectory() as home:
        run_env = {**os.environ, **env, "DRIFTCHECK_DATA_DIR": home, "DRIFTCHECK_CONFIG_DIR": home}
        out = {}
        for name, args in (
            ("cli_review_a_s", ["review", f"sample_code/{SAMPLE}", "-p", SIDES["a"][0]]),
            ("cli_compare_s", ["compare", f"sample_code/{SAMPLE}", "-a", SIDES["a"][0], "-b", SIDES["b"][0]]),
        ):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "app", *args, "--format", "json", "--no-history"],
                cwd=ROOT,
                env=run_env,
                check=True,
                capture_output=True,
            )
            out[name] = time.perf_counter() - started
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-cli", action="store_true", help="skip timing the commands as a user runs them")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(keyed_review_text(SAMPLE))
    proc, anthropic_url, openai_url = start_server(handle.name)
    env = {
        "ANTHROPIC_API_KEY": "bench",
        "OPENAI_API_KEY": "bench",
        "ANTHROPIC_BASE_URL": anthropic_url,
        "OPENAI_BASE_URL": openai_url,
    }
    try:
        result = asyncio.run(measure(env, args.rounds))
        if not args.no_cli:
            result.update(cli_times(env))
    finally:
        proc.terminate()
        os.unlink(handle.name)
    result["budget"] = 1.1
    result["within_budget"] = result["compare_over_slower_side"] <= 1.1
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
