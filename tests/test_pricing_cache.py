"""The price entry is looked up once per model, and a flat price is applied directly —
to the same cost genai-prices' exact calculation gives, for every model it lists."""

from __future__ import annotations

import pytest

from providers import pricing
from providers.pricing import Price, cost_usd, exact_cost, price_entry
from providers.types import Usage

USAGES = [
    Usage(input_tokens=0, output_tokens=0),
    Usage(input_tokens=1234, output_tokens=567),
    Usage(input_tokens=90_000, output_tokens=4096, cache_read_tokens=30_000),
    Usage(input_tokens=5000, output_tokens=10, cache_write_tokens=2000),
    Usage(input_tokens=5000, output_tokens=10, cache_read_tokens=1000, cache_write_tokens=2000),
    Usage(input_tokens=300_000, output_tokens=20_000),  # past a long-context tier, where a model has one
]


def listed_models(provider_id: str) -> list[str]:
    from genai_prices import data_snapshot

    return [m.id for m in data_snapshot.get_snapshot().find_provider(None, provider_id, None).models]


@pytest.mark.parametrize("provider_id", ["anthropic", "openai"])
def test_every_listed_model_costs_what_genai_prices_says(provider_id):
    flat = 0
    for model in listed_models(provider_id):
        flat += price_entry(provider_id, model).flat is not None
        for usage in USAGES:
            expected = exact_cost(provider_id, model, usage)
            assert cost_usd(provider_id, model, usage) == pytest.approx(expected, rel=1e-9, abs=1e-15), (model, usage)
    assert flat > 10, "most models have a flat price: the direct path is the one taken"


def test_a_flat_price_is_applied_without_the_exact_calculation(monkeypatch):
    entry = price_entry("anthropic", "claude-haiku-4-5")
    assert entry.known and entry.flat is not None
    assert entry.flat.input_per_mtok == 1.0 and entry.flat.output_per_mtok == 5.0
    assert entry.flat.cache_read_per_mtok == 0.1 and entry.flat.cache_write_per_mtok == 1.25

    def exact(*args: object) -> float:
        raise AssertionError("the exact calculation ran for a flat price")

    monkeypatch.setattr(pricing, "exact_cost", exact)
    usage = Usage(input_tokens=2000, output_tokens=100, cache_read_tokens=1000)
    assert cost_usd("anthropic", "claude-haiku-4-5", usage) == pytest.approx(
        (1000 * 1.0 + 1000 * 0.1 + 100 * 5.0) / 1e6
    )


def test_a_tiered_price_stays_exact():
    from genai_prices import data_snapshot
    from genai_prices.types import ModelPrice, TieredPrices

    tiered = [
        m.id
        for m in data_snapshot.get_snapshot().find_provider(None, "anthropic", None).models
        if isinstance(m.prices, ModelPrice) and any(isinstance(v, TieredPrices) for v in vars(m.prices).values())
    ]
    assert tiered, "genai-prices lists an anthropic model priced by context length"
    assert price_entry("anthropic", tiered[0]) == pricing.PriceEntry(known=True, flat=None)


def test_an_unknown_model_is_looked_up_once_and_costs_none():
    price_entry.cache_clear()
    assert cost_usd("anthropic", "no-such-model-xyz", Usage(input_tokens=1, output_tokens=1)) is None
    assert cost_usd("anthropic", "no-such-model-xyz", Usage(input_tokens=2, output_tokens=2)) is None
    assert price_entry.cache_info().misses == 1


def test_overrides_price_cache_writes_at_their_own_rate_or_the_input_rate():
    usage = Usage(input_tokens=1000, output_tokens=0, cache_write_tokens=400)
    assert Price(2.0, 0.0).cost(usage) == pytest.approx(1000 * 2.0 / 1e6)
    assert Price(2.0, 0.0, cache_write_per_mtok=2.5).cost(usage) == pytest.approx((600 * 2.0 + 400 * 2.5) / 1e6)
