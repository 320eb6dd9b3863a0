"""One way to show what a call cost and how long it took, shared by every command.

`metrics_of` is the `metrics` object of the public JSON contract; `metrics_line` is
the one-line human form printed after a streamed answer.
"""

from __future__ import annotations

from typing import Any

from app.calls.contract import Metrics
from providers.pricing import format_cost
from providers.types import Response


def metrics_of(response: Response | None, *, retries: int = 0) -> Metrics:
    """The `metrics` object of the public JSON contract for a call (or a task's calls)."""
    if response is None:
        return Metrics(
            ttft_ms=None,
            latency_ms=None,
            input_tokens=None,
            output_tokens=None,
            reasoning_tokens=None,
            cache_read_tokens=None,
            cache_write_tokens=None,
            cache_saved_usd=None,
            cost_usd=None,
            retries=retries,
            hedged=False,
            fallback_from=None,
            hedge_cost_usd=None,
            batch=False,
        )
    usage = response.usage
    turnaround = response.batch_turnaround_s
    return Metrics(
        ttft_ms=None if response.ttft_s is None else round(response.ttft_s * 1000, 1),
        # A batched answer was not timed live: its time is the batch's turnaround, apart.
        latency_ms=None if response.batch else round(response.total_s * 1000, 1),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        # Parts of input_tokens (which counts all input): read from and written to the provider's cache.
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        # What the cache saved against the same tokens at the plain input price (negative: a write was paid).
        cache_saved_usd=None if response.cache_saved_usd is None else round(response.cache_saved_usd, 8),
        cost_usd=response.cost_usd,
        retries=response.retries,
        hedged=response.hedged,
        fallback_from=response.fallback_from,
        hedge_cost_usd=response.extra_cost_usd if response.hedged else None,
        batch=response.batch,  # answered through a batch API, priced at its rate
        batch_turnaround_ms=None if turnaround is None else round(turnaround * 1000, 1),
    )


def metrics_dict(response: Response | None, *, retries: int = 0) -> dict[str, Any]:
    return metrics_of(response, retries=retries).public()


def _tokens(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def metrics_line(response: Response) -> str:
    return metrics_text(response.spec, metrics_dict(response), response.request_id)


def metrics_text(spec: str, metrics: dict[str, Any], request_id: str | None = None) -> str:
    """The metrics line from the `metrics` object of the public JSON, so a stored run
    reads as it did when it ran."""
    ttft, total = metrics.get("ttft_ms"), metrics.get("latency_ms")
    timing = [
        f"first token {'n/a' if ttft is None else f'{ttft:,.0f} ms'}",
        f"total {'n/a' if total is None else f'{total / 1000:,.2f} s'}",
    ]
    if metrics.get("batch"):  # not a live latency: the batch's own time, labelled as such
        timing = [batch_turnaround_phrase(metrics.get("batch_turnaround_ms"))]
    parts = [
        spec,
        *timing,
        f"tokens in {_tokens(metrics.get('input_tokens'))} / out {_tokens(metrics.get('output_tokens'))}"
        + (f" (reasoning {metrics['reasoning_tokens']:,})" if metrics.get("reasoning_tokens") else ""),
        format_cost(metrics.get("cost_usd")),
    ]
    cache = cache_phrase(
        metrics.get("cache_read_tokens"), metrics.get("cache_write_tokens"), metrics.get("cache_saved_usd")
    )
    if cache:
        parts.append(cache)
    retries = metrics.get("retries") or 0
    if retries:
        parts.append(f"{retries} {'retry' if retries == 1 else 'retries'}")
    if metrics.get("fallback_from"):
        parts.append(f"fell back from {metrics['fallback_from']}")
    if metrics.get("hedged"):
        parts.append(f"hedged (the other call: {format_cost(metrics.get('hedge_cost_usd'))})")
    if metrics.get("batch"):
        parts.append("batch price")
    if request_id:
        parts.append(request_id)
    return " · ".join(parts)


def batch_turnaround_phrase(ms: float | None) -> str:
    """A batched call's time, never to be read as a live latency."""
    return f"{took_phrase(None, batch_turnaround_ms=ms)} (submit to result, not a live latency)"


def took_phrase(latency_ms: float | None, *, batch_turnaround_ms: float | None = None) -> str:
    """How long a call took, in a progress line: a batched call's (with a turnaround, or
    no live time) is its batch's turnaround, said so."""
    if batch_turnaround_ms is not None or latency_ms is None:
        when = "unknown" if batch_turnaround_ms is None else f"{batch_turnaround_ms / 1000:,.1f} s"
        return f"batch turnaround {when}"
    return f"{latency_ms / 1000:.1f} s"


def spend_summary(metrics: list[dict[str, Any] | None]) -> dict[str, Any]:
    """What a set of calls (a compare side's runs, an eval's answers or grades) cost, and
    what the providers' prompt caches read, wrote and saved on them. A figure is None when
    no call reported it."""

    def total(key: str) -> float | None:
        values: list[float] = [m[key] for m in metrics if m and m.get(key) is not None]
        return round(sum(values), 8) if values else None

    return {
        "calls": len([m for m in metrics if m]),
        "cost_usd": total("cost_usd"),
        "cache_read_tokens": total("cache_read_tokens"),
        "cache_write_tokens": total("cache_write_tokens"),
        "cache_saved_usd": total("cache_saved_usd"),
    }


def spend_phrase(spend: dict[str, Any]) -> str:
    """`spend_summary` for a person: the cost, then what the cache did."""
    cache = cache_phrase(spend.get("cache_read_tokens"), spend.get("cache_write_tokens"), spend.get("cache_saved_usd"))
    return format_cost(spend.get("cost_usd")) + (f" ({cache})" if cache else "")


def cache_phrase(read: int | None, written: int | None, saved: float | None) -> str | None:
    """What the provider's prompt cache did, for a person: None when it did nothing."""
    if not (read or written):
        return None
    done = [f"{verb} {tokens:,}" for verb, tokens in (("read", read), ("written", written)) if tokens]
    text = "cache " + ", ".join(done)
    if saved is None:
        return text
    if saved < 0:
        return f"{text} (cost {format_cost(-saved)} more, repaid by the next read)"
    return f"{text} (saved {format_cost(saved)})"


def combined_response(responses: list[Response]) -> Response | None:
    """Several calls for one task (chunks, a repair) as one set of metrics.

    Tokens and cost add up; a cost is unknown if any part's is. Time to first token is
    the first call's, total time spans all of them, which ran one after another.
    """
    if not responses:
        return None
    if len(responses) == 1:
        return responses[0]
    from dataclasses import replace

    from providers.types import Usage

    def total(name: str) -> int | None:
        values = [getattr(r.usage, name) for r in responses]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)

    costs = [r.cost_usd for r in responses]
    savings = [r.cache_saved_usd for r in responses]
    saved = None if any(v is None for v in savings) else sum(v or 0.0 for v in savings)
    return replace(
        responses[-1],
        text="".join(r.text for r in responses),
        usage=Usage(
            **{
                name: total(name)
                for name in (
                    "input_tokens",
                    "output_tokens",
                    "reasoning_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                )
            }
        ),
        ttft_s=responses[0].ttft_s,
        total_s=sum(r.total_s for r in responses),
        cost_usd=None if any(c is None for c in costs) else sum(costs),  # type: ignore[arg-type]
        cache_saved_usd=saved,
        retries=sum(r.retries for r in responses),
        request_id=responses[0].request_id,
        checks=[c for r in responses for c in r.checks],
        hedged=any(r.hedged for r in responses),
        batch=any(r.batch for r in responses),
        # The calls ran one after another, so did their batches (a chunk's, then a repair's).
        batch_turnaround_s=_sum_or_none([r.batch_turnaround_s for r in responses]),
        fallback_from=next((r.fallback_from for r in responses if r.fallback_from), None),
        extra_cost_usd=None
        if any(r.extra_cost_usd is None for r in responses)
        else sum(r.extra_cost_usd or 0.0 for r in responses),
    )


def _sum_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
