"""Cost of a call from the maintained genai-prices table, with per-model overrides.

A model without a known price costs `None`, shown as "unknown" — never a silent zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .types import Usage


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float | None = None

    def cost(self, usage: Usage) -> float | None:
        if usage.input_tokens is None or usage.output_tokens is None:
            return None
        cached = usage.cache_read_tokens or 0
        cache_rate = self.input_per_mtok if self.cache_read_per_mtok is None else self.cache_read_per_mtok
        return (
            (usage.input_tokens - cached) * self.input_per_mtok
            + cached * cache_rate
            + usage.output_tokens * self.output_per_mtok
        ) / 1_000_000


#: genai-prices' request context for the providers' batch APIs (half price at both).
BATCH_CONTEXT = {"processing": "batch"}


def cost_usd(
    price_provider: str | None,
    model: str,
    usage: Usage,
    overrides: Mapping[str, Price] | None = None,
    *,
    batch: bool = False,
) -> float | None:
    """`price_provider` is the genai-prices provider id, or None for endpoints it cannot know.
    `batch`: the call ran through the provider's batch API and is priced at its rate."""
    if overrides and model in overrides:
        return overrides[model].cost(usage)
    if price_provider is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    from genai_prices import Usage as PriceUsage  # 0.3 s import: only when pricing
    from genai_prices import calc_price

    try:
        result = calc_price(
            PriceUsage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens or None,
                cache_write_tokens=usage.cache_write_tokens or None,
            ),
            model_ref=model,
            provider_id=price_provider,
            price_context=BATCH_CONTEXT if batch else None,
        )
    except LookupError:
        return None
    return float(result.total_price)


def cache_saving_usd(
    price_provider: str | None,
    model: str,
    usage: Usage,
    actual: float | None,
    overrides: Mapping[str, Price] | None = None,
    *,
    batch: bool = False,
) -> float | None:
    """What the prompt cache saved on a call that cost `actual`: its cost with every input
    token at the plain input price, less `actual`. Negative when only a cache write
    (1.25x at Anthropic) was paid; 0 when nothing was cached; None when the price is unknown."""
    if actual is None:
        return None
    if not (usage.cache_read_tokens or usage.cache_write_tokens):
        return 0.0
    from dataclasses import replace

    plain = replace(usage, cache_read_tokens=None, cache_write_tokens=None)
    uncached = cost_usd(price_provider, model, plain, overrides, batch=batch)
    return None if uncached is None else uncached - actual


@lru_cache(maxsize=256)
def list_price(price_provider: str | None, model: str) -> Price | None:
    """Per-million-token input and output prices, for listings; None when unknown."""
    # Priced on 1k tokens and scaled: a million at once would hit long-context tiers.
    if price_provider is None:
        return None
    inp = cost_usd(price_provider, model, Usage(input_tokens=1000, output_tokens=0))
    out = cost_usd(price_provider, model, Usage(input_tokens=0, output_tokens=1000))
    if inp is None or out is None:
        return None
    return Price(input_per_mtok=inp * 1000, output_per_mtok=out * 1000)


def cost_of_cancelled(
    price_provider: str | None, model: str, usage: Usage, text_chars: int, overrides: Mapping[str, Price] | None = None
) -> tuple[Usage, float | None]:
    """A call cancelled part way (a hedge's loser, Escape) is billed for what it used: the
    input it reported, if it did, and about four characters per output token it streamed."""
    from dataclasses import replace

    usage = replace(
        usage, input_tokens=usage.input_tokens or 0, output_tokens=max(usage.output_tokens or 0, text_chars // 4)
    )
    return usage, cost_usd(price_provider, model, usage, overrides)


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "cost unknown"
    if cost == 0:
        return "$0"
    return f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"
