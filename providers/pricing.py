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
    """USD per million tokens. Cached input without a price of its own costs the input price."""

    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None

    def cost(self, usage: Usage) -> float | None:
        if usage.input_tokens is None or usage.output_tokens is None:
            return None
        read = usage.cache_read_tokens or 0
        write = usage.cache_write_tokens or 0
        read_rate = self.input_per_mtok if self.cache_read_per_mtok is None else self.cache_read_per_mtok
        write_rate = self.input_per_mtok if self.cache_write_per_mtok is None else self.cache_write_per_mtok
        return (
            (usage.input_tokens - read - write) * self.input_per_mtok
            + read * read_rate
            + write * write_rate
            + usage.output_tokens * self.output_per_mtok
        ) / 1_000_000


#: genai-prices' request context for the providers' batch APIs (half price at both).
BATCH_CONTEXT = {"processing": "batch"}
#: A `[prices]` override's share at a batch API: genai-prices' batch rate for both.
BATCH_DISCOUNT = 0.5


#: The price keys a flat entry may have. The counted ones (web searches) are never in our
#: usage, so they cost nothing here, as in genai-prices; any other key (tiers by context
#: length, audio, images) keeps the model on the exact calculation.
_FLAT_KEYS = {
    "input_mtok": "input_per_mtok",
    "output_mtok": "output_per_mtok",
    "cache_read_mtok": "cache_read_per_mtok",
    "cache_write_mtok": "cache_write_per_mtok",
}
_IGNORED_KEYS = frozenset({"cache_write_1h_mtok", "web_searches_kcount", "storage_searches_kcount"})


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A model's price entry as looked up once: whether genai-prices knows the model and,
    when its price is flat (no tiers, no dated changes), the rates to apply directly."""

    known: bool
    flat: Price | None = None


@lru_cache(maxsize=256)
def price_entry(price_provider: str, model: str) -> PriceEntry:
    """Look the model up once. genai-prices' exact calculation takes about 0.5 ms a call —
    visible against a short reply — while a flat price is a few multiplications."""
    from decimal import Decimal

    from genai_prices import Usage as PriceUsage  # 0.3 s import: only when pricing
    from genai_prices import calc_price
    from genai_prices.types import ModelPrice

    try:
        found = calc_price(PriceUsage(input_tokens=0, output_tokens=0), model_ref=model, provider_id=price_provider)
    except LookupError:
        return PriceEntry(known=False)
    prices = found.model.prices
    if not isinstance(prices, ModelPrice):  # prices that change on a date: always exact
        return PriceEntry(known=True)
    rates: dict[str, float] = {}
    for key, value in vars(prices).items():
        if value is None or key in _IGNORED_KEYS:
            continue
        if key not in _FLAT_KEYS or not isinstance(value, Decimal):
            return PriceEntry(known=True)
        rates[_FLAT_KEYS[key]] = float(value)
    if "input_per_mtok" not in rates or "output_per_mtok" not in rates:
        return PriceEntry(known=True)
    return PriceEntry(known=True, flat=Price(**rates))


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
        cost = overrides[model].cost(usage)
        # Both batch APIs driftcheck uses (Anthropic's, OpenAI's) charge half of every rate.
        return None if cost is None else cost * BATCH_DISCOUNT if batch else cost
    if price_provider is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    entry = price_entry(price_provider, model)
    if not entry.known:
        return None
    cached = (usage.cache_read_tokens or 0) + (usage.cache_write_tokens or 0)
    # A batch's rate comes from genai-prices' own context: the flat entry is the live price.
    if entry.flat is not None and cached <= usage.input_tokens and not batch:
        return entry.flat.cost(usage)
    return exact_cost(price_provider, model, usage, batch=batch)


def exact_cost(price_provider: str, model: str, usage: Usage, *, batch: bool = False) -> float | None:
    """genai-prices' own calculation, for tiered and dated prices (and to check the flat one)."""
    from genai_prices import Usage as PriceUsage
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
