"""The latency bench: N identical requests to one provider, and what their spread says.

The seeds' first experiment as a function: the same short prompt many times, time to
first token and total time per call, the median, p95, max and the p95-to-median ratio,
and whether the slow calls were slow because they wrote more (output tokens of the
slowest tenth against the rest, and the correlation of total time with output length).
With hedging, the same figures plus how many requests were hedged and what the extra
calls cost.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.bench.contract import BenchOutput, HedgeStats, LatencySpread, LengthEffect
from providers import Completed, Request, TextDelta
from providers.errors import ProviderError
from providers.health import percentile
from providers.types import HedgeStarted, HedgeWithheld

DEFAULT_PROMPT = "In two sentences: what should an on-call engineer check first when a service's p99 latency doubles?"


@dataclass
class Sample:
    ok: bool
    ttft_s: float | None = None
    total_s: float | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    hedged: bool = False
    hedge_cost_usd: float | None = None
    error: str | None = None
    hedge_withheld: bool = False  # slow enough to hedge, but the hedge budget was spent


@dataclass
class BenchResult:
    spec: str
    samples: list[Sample] = field(default_factory=list)
    hedge_after: str = "off"

    def output(self) -> BenchOutput:
        ok = [s for s in self.samples if s.ok]
        costs = [s.cost_usd for s in ok]
        hedged = [s for s in ok if s.hedged]
        extra = [s.hedge_cost_usd for s in hedged]

        def spread_of(name: str) -> LatencySpread:
            return spread([v for s in ok if (v := getattr(s, name)) is not None])

        return BenchOutput(
            spec=self.spec,
            requests=len(self.samples),
            ok=len(ok),
            failed=len(self.samples) - len(ok),
            hedge_after=self.hedge_after,
            errors=sorted({s.error for s in self.samples if s.error}),
            ttft=spread_of("ttft_s"),
            total=spread_of("total_s"),
            length=length_effect(ok),
            cost_usd=None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 6),
            hedged=HedgeStats(
                requests=len(hedged),
                share=round(len(hedged) / len(ok), 3) if ok else None,
                extra_cost_usd=None
                if any(c is None for c in extra)
                else round(sum(c for c in extra if c is not None), 6),
                withheld_by_budget=sum(s.hedge_withheld for s in self.samples),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return self.output().public()


def spread(values: list[float]) -> LatencySpread:
    if not values:
        return LatencySpread(median=None, p95=None, max=None, p95_over_median=None)
    median = statistics.median(values)
    p95 = percentile(values, 95) or 0.0  # not None: values is not empty
    return LatencySpread(
        median=round(median, 3),
        p95=round(p95, 3),
        max=round(max(values), 3),
        p95_over_median=round(p95 / median, 2) if median else None,
    )


def length_effect(samples: list[Sample]) -> LengthEffect | None:
    """Were the slow calls slow because they were long? Output tokens of the slowest tenth
    against the others, and Pearson's r between total time and output tokens."""
    known = [(s.total_s, s.output_tokens) for s in samples if s.total_s is not None and s.output_tokens is not None]
    if len(known) < 10:
        return None
    ordered = sorted(known, key=lambda pair: pair[0])
    cut = max(1, len(ordered) // 10)
    slow, rest = ordered[-cut:], ordered[:-cut]
    return LengthEffect(
        slowest_tenth_output_tokens=round(statistics.mean(tokens for _, tokens in slow), 1),
        others_output_tokens=round(statistics.mean(tokens for _, tokens in rest), 1),
        r_total_vs_output=_pearson([t for t, _ in known], [float(n) for _, n in known]),
    )


def _pearson(x: list[float], y: list[float]) -> float | None:
    mx, my = statistics.mean(x), statistics.mean(y)
    sx = math.sqrt(sum((a - mx) ** 2 for a in x))
    sy = math.sqrt(sum((b - my) ** 2 for b in y))
    if not sx or not sy:
        return None
    return round(sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / (sx * sy), 2)


async def one_call(provider: Any, request: Request) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    hedged = withheld = False
    try:
        async for event in provider.stream(request):
            if first is None and type(event) is TextDelta:
                first = time.perf_counter() - started
            elif isinstance(event, HedgeStarted):
                hedged = True
            elif isinstance(event, HedgeWithheld):
                withheld = True
            elif isinstance(event, Completed):
                r = event.response
                return Sample(
                    True,
                    first,
                    time.perf_counter() - started,
                    r.usage.output_tokens,
                    r.cost_usd,
                    hedged or r.hedged,
                    r.extra_cost_usd if r.hedged else None,
                    hedge_withheld=withheld,
                )
    except ProviderError as error:
        return Sample(False, first, time.perf_counter() - started, error=error.kind, hedge_withheld=withheld)
    return Sample(False, first, time.perf_counter() - started, error="no answer", hedge_withheld=withheld)


async def run_bench(
    provider: Any, request: Request, *, count: int, concurrency: int, progress: Callable[[Sample], None] | None = None
) -> list[Sample]:
    """`count` identical calls, `concurrency` at a time; every call reported as it ends."""
    limit = asyncio.Semaphore(concurrency)

    async def guarded() -> Sample:
        async with limit:
            sample = await one_call(provider, request)
        if progress is not None:
            progress(sample)
        return sample

    return list(await asyncio.gather(*(guarded() for _ in range(count))))


def histogram(values: list[float], *, bins: int = 12, width: int = 40) -> list[str]:
    """A text histogram, one line per bin: range, bar, count. Under a second the ranges are
    in milliseconds, and every range shows enough decimals that no two bins read the same."""
    if not values:
        return []
    low, high = min(values), max(values)
    scale, unit = (1000.0, "ms") if high < 1.0 else (1.0, "s")
    step = (high - low) / bins or (1.0 / scale)
    base = 0 if unit == "ms" else 2
    scaled = step * scale
    decimals = max(base, math.ceil(-math.log10(scaled)) + 1) if scaled < 1 else base
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / step))] += 1
    top = max(counts)

    def edge(i: int) -> str:
        return f"{(low + i * step) * scale:.{decimals}f}"

    ranges = [f"{edge(i)}–{edge(i + 1)}" for i in range(bins)]
    pad = max(len(r) for r in ranges)
    return [
        f"{r:>{pad}} {unit:<2} {'█' * round(c / top * width):<{width}} {c}" for r, c in zip(ranges, counts, strict=True)
    ]


def bench_summary(data: dict[str, Any]) -> str:
    """The line history keeps for a bench run."""
    ttft = data["ttft"]
    return (
        f"{data['ok']}/{data['requests']} ok; first token median {ttft['median']} s, p95 {ttft['p95']} s"
        if ttft["median"] is not None
        else f"{data['ok']}/{data['requests']} ok"
    )
