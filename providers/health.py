"""What driftcheck has seen of each provider lately: time to first token, failures, a
cooldown after repeated failures, and how many requests were hedged.

One registry per process; the app may seed it from history so a fresh process knows a
provider's recent p95 time to first token. Nothing here talks to a network.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# Fewer observations than this and a percentile is a guess: p95 hedging waits for data.
MIN_SAMPLES = 20


@dataclass(frozen=True, slots=True)
class CooldownPolicy:
    failures: int = 3  # consecutive failures that start a cooldown
    seconds: float = 30.0  # how long the provider is skipped


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Health:
    window: int = 200
    ttfts: deque[float] = field(default_factory=deque)
    outcomes: deque[bool] = field(default_factory=deque)
    consecutive_failures: int = 0
    cooldown_until: float = 0.0
    requests: int = 0  # streams started with this provider as the primary
    hedges: int = 0  # of those, how many sent a hedge
    # The hedge budget as a token bucket: it starts with one hedge in hand, so an
    # explicit hedge fires on a command's first request; each request as the primary
    # adds the budget's share and each hedge spends one, so over N requests at most
    # 1 + share × N are hedged. Full at one: quiet spells do not save up for a burst.
    hedge_tokens: float = 1.0

    def record(self, ok: bool, ttft_s: float | None, *, policy: CooldownPolicy, now: float) -> bool:
        """Note an outcome; True when this failure started a cooldown."""
        self.outcomes.append(ok)
        if len(self.outcomes) > self.window:
            self.outcomes.popleft()
        if ttft_s is not None:
            self.ttfts.append(ttft_s)
            if len(self.ttfts) > self.window:
                self.ttfts.popleft()
        if ok:
            self.consecutive_failures = 0
            return False
        self.consecutive_failures += 1
        if self.consecutive_failures >= policy.failures and self.cooldown_until <= now:
            self.cooldown_until = now + policy.seconds
            return True
        return False

    def hedge_request(self, share: float) -> None:
        """A request with this provider as the primary started: the budget grows by its share."""
        self.requests += 1
        self.hedge_tokens = min(1.0, self.hedge_tokens + share)

    def take_hedge(self, share: float) -> bool:
        """Spend one hedge from the budget; False when it is spent (or is zero: no hedges)."""
        if share <= 0 or self.hedge_tokens < 1.0 - 1e-9:
            return False
        self.hedge_tokens -= 1.0
        self.hedges += 1
        return True

    def cooling(self, now: float) -> float:
        """Seconds of cooldown left (0 when the provider may be used)."""
        return max(0.0, self.cooldown_until - now)

    def ttft_percentile(self, q: float) -> float | None:
        return percentile(self.ttfts, q) if len(self.ttfts) >= MIN_SAMPLES else None

    @property
    def error_rate(self) -> float | None:
        return None if not self.outcomes else 1 - sum(self.outcomes) / len(self.outcomes)


class HealthRegistry:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_spec: dict[str, Health] = {}

    def get(self, spec: str) -> Health:
        health = self._by_spec.get(spec)
        if health is None:
            health = self._by_spec[spec] = Health()
        return health

    def seed(self, spec: str, ttfts_s: Iterable[float], outcomes: Iterable[bool] = ()) -> None:
        """Recent history (oldest first) for a provider this process has not called yet."""
        health = self.get(spec)
        for ttft in ttfts_s:
            health.ttfts.append(ttft)
        for ok in outcomes:
            health.outcomes.append(ok)
        while len(health.ttfts) > health.window:
            health.ttfts.popleft()
        while len(health.outcomes) > health.window:
            health.outcomes.popleft()


REGISTRY = HealthRegistry()
