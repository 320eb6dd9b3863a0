"""How many requests may be in flight against one provider at once.

`ProviderLimit` lets at most C requests run at once against one provider (one API key's
rate limits are per provider, not per model). When a provider answers "rate limited"
even after its own retries, the limit halves and new requests wait out the retry-after;
after a run of successes it grows back one at a time — the additive-increase,
multiplicative-decrease rule TCP uses, so a run settles just under a provider's limit
instead of hammering it. A provider's first request goes alone: when the key is wrong,
one request finds out, not C of them.

Eval runs its cells through it, and a review of several files or a change its requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class Slot:
    """One request's place in a provider's limit; mark it when the provider rate-limited."""

    rate_limited: bool = False


class ProviderLimit:
    def __init__(self, limit: int, *, probe_first: bool = True) -> None:
        self.ceiling = limit
        self.limit = limit
        self.in_flight = 0
        self.paused_until = 0.0
        # Until a first request has come back, one at a time (a wrong key is found by one
        # request, not by N); a batch, which sends everything at once, has no such probe.
        self.answered = not probe_first
        self._successes = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            while True:
                wait = self.paused_until - time.monotonic()
                if wait > 0:
                    try:  # woken early only if the pause changes
                        await asyncio.wait_for(self._changed.wait(), wait)
                    except TimeoutError:
                        pass
                    continue
                if self.in_flight < (self.limit if self.answered else 1):
                    self.in_flight += 1
                    return
                await self._changed.wait()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold a place for one request; released however the request ends."""
        await self.acquire()
        held = Slot()
        try:
            yield held
        finally:
            await self.release(rate_limited=held.rate_limited)

    async def release(self, *, rate_limited: bool = False, retry_after_s: float | None = None) -> None:
        async with self._changed:
            self.in_flight -= 1
            self.answered = True
            if rate_limited:
                self.limit = max(1, self.limit // 2)
                self._successes = 0
                self.paused_until = max(self.paused_until, time.monotonic() + min(retry_after_s or 1.0, 60.0))
            else:
                self._successes += 1
                if self.limit < self.ceiling and self._successes >= 2 * self.limit:
                    self.limit += 1
                    self._successes = 0
            self._changed.notify_all()
