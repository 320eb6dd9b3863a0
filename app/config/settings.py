"""The settings a config gives, as the rest of driftcheck uses them: the provider layer's
own types (endpoints, timeouts, retries, prices, local options) plus routes and
resilience. Made only by app.config.model from a validated file (or as defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from providers.base import RetryPolicy, Timeouts
from providers.pricing import Price
from providers.spec import Endpoint, LocalOptions


@dataclass(frozen=True)
class Route:
    """What one task uses: a SPEC, and optionally its own fallback chain and hedging."""

    spec: str
    fallback: list[str] | None = None  # None: the [resilience] fallback
    hedge_after: str | None = None  # None: the [resilience] hedge_after


@dataclass(frozen=True)
class Resilience:
    fallback: list[str] = field(default_factory=list)
    hedge_after: str = "off"
    hedge_budget: float = 0.05
    cooldown_failures: int = 3
    cooldown_s: float = 30.0


@dataclass
class Config:
    path: Path
    default: str | None = None
    compare: list[str] = field(default_factory=list)
    judges: list[str] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    resilience: Resilience = field(default_factory=Resilience)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prices: dict[str, Price] = field(default_factory=dict)
    local: LocalOptions = field(default_factory=LocalOptions)
