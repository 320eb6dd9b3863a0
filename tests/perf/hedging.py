"""Hedging on a heavy-tailed latency profile, against the best any hedge could do on the
same draws: time to first token without hedging, with it, and the oracle, in one run.

Every request i gets a first-token delay `first[i]` drawn from `heavy_tailed_delays` in
tests/fakeserver.py (shaped like the seeds' measurements: median ~1.6 s, p95 ~2.3 s, 2 %
of calls at 6-11 s; scaled by `--scale` so a run takes seconds), and a hedge sent for it
meets its own draw `second[i]` (times `--fallback-speed` when the hedge goes to a faster
fallback). The fake server hands each prompt its own draws, so the unhedged and hedged
conditions meet the same `first[i]`, and the oracle is computed on exactly those draws:

    oracle[i] = base + min(first[i], threshold[i] + second[i])

where threshold[i] is the hedge threshold in force for that request (the primary's
observed p`--percentile`, learnt from `--warmup` unhedged requests and kept up to date) and
base is the median of (measured - first[i]) without hedging: what a request costs on top of
the server's delay. No hedge can beat it: the backup cannot start before the threshold.
The script prints p50/p95/p99/p99.9 of each condition, measured / oracle for the hedged
one (target: within 1.1 at the p99), the share of extra requests, and where the hedges'
own time went (measured - (base + threshold + second) for the requests the hedge won).
`--repeats` runs it again on fresh draws (seed, seed+1, ...) and gives the median and
min-max of every figure.

    python3 tests/perf/hedging.py [--requests 600] [--repeats 3]
    python3 tests/perf/hedging.py --percentile 90 --budget 0.10
    python3 tests/perf/hedging.py --fallback-speed 0.5      # the hedge goes to a faster model
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PRIMARY = "anthropic:claude-haiku-4-5"
FALLBACK = "anthropic:claude-sonnet-4-5"  # a different model on the same fake server
QUANTILES = (50, 95, 99, 99.9)


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (what the health registry uses), in ms."""
    from providers.health import percentile

    value = percentile(values, q)
    assert value is not None
    return round(value * 1000, 1)


def start_server(delays: dict[str, list[float]]) -> tuple[subprocess.Popen[str], str]:
    """The fake server in its own process, so its sleeping threads do not share the
    client's interpreter lock; each prompt gets its own draws."""
    from tests.perf.fake_process import start_fake_server

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(delays, handle)
    proc, anthropic_url, _ = start_fake_server("--prompt-latency", handle.name)
    Path(handle.name).unlink()
    return proc, anthropic_url


async def one_request(provider: Any, registry: Any, spec: str, prompt: str, percentile: float) -> dict[str, Any]:
    from providers import Request, TextDelta
    from providers.types import HedgeStarted, HedgeWithheld

    # Read now, as the provider will a moment later (no await in between): the threshold in force.
    threshold = registry.get(spec).ttft_percentile(percentile)
    hedged = withheld = False
    started = time.perf_counter()
    first = None
    async for event in provider.stream(Request.ask(prompt, max_tokens=16)):
        if first is None and type(event) is TextDelta:
            first = time.perf_counter() - started
        elif isinstance(event, (HedgeStarted, HedgeWithheld)):
            threshold, hedged, withheld = (
                event.after_s,
                isinstance(event, HedgeStarted),
                isinstance(event, HedgeWithheld),
            )
    assert first is not None
    return {"ttft": first, "threshold": threshold, "hedged": hedged, "withheld": withheld}


async def run_once(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    from providers import RetryPolicy, build_provider
    from providers.health import HealthRegistry
    from providers.resilience import HedgePolicy, ResilientProvider
    from tests.fakeserver import heavy_tailed_delays

    n = args.warmup + args.requests
    first = heavy_tailed_delays(n, scale=args.scale, seed=seed)
    second = [d * args.fallback_speed for d in heavy_tailed_delays(n, scale=args.scale, seed=seed + 10_000)]
    delays = {f"warm {i}": [first[i]] for i in range(args.warmup)}
    for j in range(args.requests):
        i = args.warmup + j
        delays.update({f"plain {j}": [first[i]], f"hedged {j}": [first[i], second[i]]})
    server, base_url = start_server(delays)
    env = {"ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": base_url}

    def make(spec: str) -> Any:
        return build_provider(spec, env=env, retry=RetryPolicy(retries=0))

    registry = HealthRegistry()
    plain = ResilientProvider([make(PRIMARY)], registry=registry)
    backup = make(PRIMARY if args.fallback_speed == 1.0 else FALLBACK)
    policy = HedgePolicy(percentile=args.percentile, budget=args.budget)
    hedged = ResilientProvider([make(PRIMARY), backup], registry=registry, hedge=policy)
    limit = asyncio.Semaphore(args.concurrency)

    async def one(provider: Any, prompt: str) -> dict[str, Any]:
        async with limit:
            return await one_request(provider, registry, PRIMARY, prompt, args.percentile)

    await asyncio.gather(*(one(plain, f"warm {i}") for i in range(args.warmup)))  # learn the percentile
    results: dict[str, list[dict[str, Any]]] = {"plain": [None] * args.requests, "hedged": [None] * args.requests}  # type: ignore[list-item]
    block = 50
    for start in range(0, args.requests, block):
        ids = range(start, min(start + block, args.requests))
        order = ("plain", "hedged") if start // block % 2 == 0 else ("hedged", "plain")
        for name in order:  # the two conditions alternate in blocks, so drift hits both alike
            provider = plain if name == "plain" else hedged
            done = await asyncio.gather(*(one(provider, f"{name} {j}") for j in ids))
            for j, result in zip(ids, done, strict=True):
                results[name][j] = result
    hedges = registry.get(PRIMARY).hedges
    for provider in (plain, hedged):
        await provider.aclose()
    server.terminate()
    server.wait()

    draws_first = first[args.warmup :]
    draws_second = second[args.warmup :]
    base = statistics.median(r["ttft"] - d for r, d in zip(results["plain"], draws_first, strict=True))
    oracle, as_sent = [], []
    for r, d1, d2 in zip(results["hedged"], draws_first, draws_second, strict=True):
        t = r["threshold"]
        oracle.append(base + (d1 if t is None else min(d1, t + d2)))
        # The same bound for the hedges the budget let through only: what is left between
        # this and the measured is the hedges' own time; between this and the oracle, the budget.
        as_sent.append(base + (min(d1, t + d2) if r["hedged"] else d1))
    # Where a hedge's own time went: for the requests its backup won, time beyond base + threshold + draw.
    launch = [
        r["ttft"] - (base + r["threshold"] + d2)
        for r, d1, d2 in zip(results["hedged"], draws_first, draws_second, strict=True)
        if r["hedged"] and r["threshold"] + d2 < d1
    ]
    out: dict[str, Any] = {"seed": seed, "base_ms": round(base * 1000, 2)}
    for name, values in (
        ("plain", [r["ttft"] for r in results["plain"]]),
        ("hedged", [r["ttft"] for r in results["hedged"]]),
        ("oracle", oracle),
        ("as_sent", as_sent),
    ):
        for q in QUANTILES:
            out[f"{name}_p{q:g}_ms"] = quantile(values, q)
    for q in QUANTILES:
        out[f"hedged_over_oracle_p{q:g}"] = round(out[f"hedged_p{q:g}_ms"] / out[f"oracle_p{q:g}_ms"], 3)
        out[f"hedged_over_as_sent_p{q:g}"] = round(out[f"hedged_p{q:g}_ms"] / out[f"as_sent_p{q:g}_ms"], 3)
    out["p99_cut_pct"] = round((1 - out["hedged_p99_ms"] / out["plain_p99_ms"]) * 100, 1)
    out["oracle_p99_cut_pct"] = round((1 - out["oracle_p99_ms"] / out["plain_p99_ms"]) * 100, 1)
    out["extra_requests_pct"] = round(hedges / args.requests * 100, 2)
    out["withheld"] = sum(r["withheld"] for r in results["hedged"])
    out["withheld_would_gain"] = sum(
        r["withheld"] and r["threshold"] + d2 < d1
        for r, d1, d2 in zip(results["hedged"], draws_first, draws_second, strict=True)
    )
    out["hedges_won"] = len(launch)
    out["hedge_launch_median_ms"] = round(statistics.median(launch) * 1000, 2) if launch else None
    out["hedge_launch_max_ms"] = round(max(launch) * 1000, 2) if launch else None
    return out


def spread(values: list[float]) -> str:
    if any(v is None for v in values):
        return "-"
    if len(values) == 1:
        return f"{values[0]:g}"
    return f"{statistics.median(values):g} ({min(values):g}-{max(values):g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per condition")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--percentile", type=float, default=95)
    parser.add_argument("--budget", type=float, default=0.05)
    parser.add_argument(
        "--fallback-speed", type=float, default=1.0, help="the hedge's delays times this (1: the same provider)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    runs = [asyncio.run(run_once(args, args.seed + r)) for r in range(args.repeats)]
    target = "the same provider" if args.fallback_speed == 1.0 else f"a fallback {args.fallback_speed:g}x as slow"
    print(
        f"hedging at p{args.percentile:g} with a {args.budget:.0%} budget to {target}: {args.requests} requests "
        f"per condition, {args.repeats} repeat(s) on fresh draws; median (min-max) over the repeats"
    )
    print(f"{'':12}" + "".join(f"{'p' + format(q, 'g'):>26}" for q in QUANTILES))
    for name in ("plain", "hedged", "oracle", "as_sent"):
        row = [spread([r[f"{name}_p{q:g}_ms"] for r in runs]) + " ms" for q in QUANTILES]
        print(f"{name:12}" + "".join(f"{cell:>26}" for cell in row))
    row = [spread([r[f"hedged_over_oracle_p{q:g}"] for r in runs]) + "x" for q in QUANTILES]
    print(f"{'hedged/oracle':12}" + "".join(f"{cell:>26}" for cell in row))
    row = [spread([r[f"hedged_over_as_sent_p{q:g}"] for r in runs]) + "x" for q in QUANTILES]
    print(f"{'hedged/as_sent':12}" + "".join(f"{cell:>26}" for cell in row))
    print(
        f"p99 cut: hedged {spread([r['p99_cut_pct'] for r in runs])} %, oracle {spread([r['oracle_p99_cut_pct'] for r in runs])} %"
    )
    print(f"extra requests: {spread([r['extra_requests_pct'] for r in runs])} %")
    print(
        f"hedges the budget withheld: {spread([r['withheld'] for r in runs])}, of which a hedge would have "
        f"answered first: {spread([r['withheld_would_gain'] for r in runs])} "
        "(as_sent: the oracle for only the hedges that were sent)"
    )
    print(
        f"a winning hedge's own time beyond base + threshold + its draw: median "
        f"{spread([r['hedge_launch_median_ms'] for r in runs])} ms, worst {spread([r['hedge_launch_max_ms'] for r in runs])} ms "
        f"(base: {spread([r['base_ms'] for r in runs])} ms)"
    )
    within = statistics.median(r["hedged_over_oracle_p99"] for r in runs) <= 1.1
    print(f"hedged p99 within 10 % of the oracle: {'yes' if within else 'NO'}")
    print(json.dumps({"benchmark": "hedging", "args": vars(args), "runs": runs}))


if __name__ == "__main__":
    main()
