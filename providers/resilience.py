"""Routing around slow and failing providers, composed around any provider.

`ResilientProvider` takes a chain — the primary, then its fallbacks — and streams like a
provider. Each provider still retries on its own (with backoff that honours retry-after,
in the shared loop); around that:

- **fallback**: when a provider fails in a way that is its fault (overloaded, rate
  limited after its retries, timeouts, 5xx, a connection dropped before any text), the
  next in the chain gets the same request. Once text has reached the caller nothing is
  replayed: an interruption is reported with the partial text.
- **cooldown**: a provider that failed `failures` times in a row is skipped for
  `seconds` (unless it is the last one left), then tried again.
- **hedging**: if the primary has not sent its first token by the threshold — a fixed
  time, or its observed p95 time to first token — the same request goes to the next
  provider in the chain; the first to stream wins and the other is cancelled. The
  loser's cost (its input, and what it generated before the cancel) is estimated and
  reported. A budget caps hedges to a share of the primary's requests: a token bucket
  that starts with one hedge in hand (so a single command's hedge fires) and refills by
  the share with each request. A hedge the budget stops is announced, not skipped
  silently.

Every decision is an event in the stream (`FallbackTaken`, `CooldownSkipped`,
`CooldownStarted`, `HedgeStarted`, `HedgeWithheld`, `HedgeDecided`), so the CLI, the TUI
and history can show it; the final `Response` says `hedged`, `fallback_from` and
`extra_cost_usd`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from .base import BaseProvider, ProviderSettings
from .capabilities import Capabilities
from .errors import InterruptedStreamError, ProviderError
from .health import REGISTRY, CooldownPolicy, HealthRegistry
from .pricing import cost_of_cancelled
from .protocol import Provider
from .types import (
    Completed,
    CooldownSkipped,
    CooldownStarted,
    FallbackTaken,
    HedgeDecided,
    HedgeStarted,
    HedgeWithheld,
    ProviderEvent,
    Request,
    Response,
    TextDelta,
    Usage,
    UsageUpdate,
    final_response,
)


@dataclass(frozen=True, slots=True)
class HedgePolicy:
    after_s: float | None = None  # a fixed threshold, or None to use the percentile
    percentile: float = 95.0  # used when after_s is None: the primary's observed TTFT
    budget: float = 0.05  # at most this share of the primary's requests are hedged


def parse_hedge_after(text: str, budget: float = 0.05) -> HedgePolicy | None:
    """`off`, `p95` (any pNN) or a time such as `2.5s`, `800ms`, `3`."""
    value = text.strip().lower()
    if value in ("off", "none", "no", ""):
        return None
    if match := re.fullmatch(r"p(\d{1,2}(?:\.\d+)?)", value):
        return HedgePolicy(percentile=float(match.group(1)), budget=budget)
    if match := re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s)?", value):
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
        if seconds > 0:
            return HedgePolicy(after_s=seconds, budget=budget)
    raise ValueError(f"hedge after {text!r}: write off, p95, or a time such as 2.5s or 800ms")


_END = object()


class ResilientProvider:
    """A chain of providers that streams like one provider."""

    def __init__(
        self,
        chain: list[Provider],
        *,
        hedge: HedgePolicy | None = None,
        cooldown: CooldownPolicy = CooldownPolicy(),
        registry: HealthRegistry = REGISTRY,
    ) -> None:
        if not chain:
            raise ValueError("a chain needs at least one provider")
        self.chain = chain
        self.hedge = hedge
        self.cooldown = cooldown
        self.registry = registry
        if hedge is not None and len(chain) > 1:
            share_hedge_client(chain[0], chain[1])

    # What the chain is, as a provider: its primary.
    @property
    def name(self) -> str:
        return self.chain[0].name

    @property
    def model(self) -> str:
        return self.chain[0].model

    @property
    def spec(self) -> str:
        return self.chain[0].spec

    @property
    def kind(self) -> str:
        return self.chain[0].kind

    @property
    def caps(self) -> Capabilities:
        return self.chain[0].caps

    @property
    def settings(self) -> ProviderSettings:
        return self.chain[0].settings

    @property
    def price_provider(self) -> str | None:
        return self.chain[0].price_provider

    def __getattr__(self, name: str) -> Any:
        # Anything else a particular provider has (a local model's `model_ref`): the primary's.
        return getattr(self.chain[0], name)

    async def complete(self, request: Request) -> Response:
        return await final_response(self.stream(request))

    def with_chain(self, chain: list[Provider]) -> ResilientProvider:
        """The same policies around other providers (e.g. each wrapped to be recorded)."""
        return ResilientProvider(chain, hedge=self.hedge, cooldown=self.cooldown, registry=self.registry)

    def preload(self) -> None:
        for provider in self.chain:
            provider.preload()

    async def aclose(self) -> None:
        for provider in self.chain:
            await provider.aclose()

    async def stream(self, request: Request) -> AsyncIterator[ProviderEvent]:
        primary = self.chain[0].spec
        failed_before: str | None = None
        for index, provider in enumerate(self.chain):
            rest = self.chain[index + 1 :]
            left = self.registry.get(provider.spec).cooling(self.registry.clock())
            if left and rest:
                yield CooldownSkipped(provider.spec, round(left, 1))
                failed_before = failed_before or provider.spec
                continue
            shown = False
            try:
                events = (
                    self._hedged(provider, rest[0], request)
                    if self.hedge is not None and rest
                    else self._observed(provider, request)
                )
                async for event in events:
                    if type(event) is TextDelta:
                        shown = True
                    elif isinstance(event, FallbackTaken):  # the hedge took over from a failed primary
                        failed_before = failed_before or event.failed
                    elif isinstance(event, Completed) and event.response.spec != primary and failed_before:
                        event = Completed(replace(event.response, fallback_from=failed_before))
                    yield event
                return
            except ProviderError as error:
                if shown or isinstance(error, InterruptedStreamError) or not error.provider_fault or not rest:
                    raise
                failed_before = failed_before or provider.spec
                yield FallbackTaken(provider.spec, rest[0].spec, error)

    # --- one provider, its outcome noted --------------------------------------------------

    async def _observed(self, provider: Provider, request: Request) -> AsyncIterator[Any]:
        try:
            async for event in provider.stream(request):
                if isinstance(event, Completed):
                    self._note(provider.spec, True, event.response.ttft_s)
                yield event
        except ProviderError as error:
            started = self._note(provider.spec, False, None, error)
            if started is not None:
                yield started
            raise

    def _note(
        self, spec: str, ok: bool, ttft_s: float | None, error: ProviderError | None = None
    ) -> CooldownStarted | None:
        if error is not None and not error.provider_fault:
            return None  # the caller's mistake says nothing about the provider's health
        health = self.registry.get(spec)
        if health.record(ok, ttft_s, policy=self.cooldown, now=self.registry.clock()):
            return CooldownStarted(spec, self.cooldown.seconds, health.consecutive_failures)
        return None

    # --- hedging --------------------------------------------------------------------------

    def _threshold(self, spec: str) -> float | None:
        """When to hedge this request, or None (no data yet for a percentile). Whether the
        budget allows the hedge is decided when the threshold passes, not before."""
        assert self.hedge is not None
        health = self.registry.get(spec)
        health.hedge_request(self.hedge.budget)
        return self.hedge.after_s if self.hedge.after_s is not None else health.ttft_percentile(self.hedge.percentile)

    async def _hedged(self, primary: Provider, backup: Provider, request: Request) -> AsyncIterator[Any]:
        assert self.hedge is not None
        budget = self.hedge.budget
        threshold = self._threshold(primary.spec)
        if threshold is None:
            async for event in self._observed(primary, request):
                yield event
            return
        # Import the SDK and build the client before the clock starts: seconds of importing
        # are not the provider being slow, and must not fire the hedge (or spend its budget).
        # The backup's too, so a hedge that fires starts sending at once.
        primary.preload()
        backup.preload()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        contenders = {"p": primary, "h": backup}

        async def pump(tag: str) -> None:
            try:
                async for event in self._observed(contenders[tag], request):
                    await queue.put((tag, event))
            except ProviderError as error:
                await queue.put((tag, error))
                return
            await queue.put((tag, _END))

        loop = asyncio.get_running_loop()
        began = loop.time()
        tasks = {"p": asyncio.create_task(pump("p"))}
        held: dict[str, list[Any]] = {"p": [], "h": []}
        errors: dict[str, ProviderError] = {}
        deadline = began + threshold
        hedge_began = 0.0  # seconds after the primary was sent
        winner: str | None = None
        ended = withheld = False
        try:
            while winner is None:
                wait = None if "h" in tasks or withheld else max(0.0, deadline - loop.time())
                try:
                    tag, item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    if not self.registry.get(primary.spec).take_hedge(budget):
                        withheld = True  # no hedge for this request: wait for the primary alone
                        yield HedgeWithheld(primary.spec, backup.spec, round(threshold, 3), budget)
                        continue
                    tasks["h"] = asyncio.create_task(pump("h"))
                    hedge_began = loop.time() - began
                    yield HedgeStarted(primary.spec, backup.spec, round(threshold, 3))
                    continue
                if isinstance(item, ProviderError):
                    errors[tag] = item
                    if len(errors) == len(tasks):
                        if "h" not in tasks:
                            raise item  # the primary failed before the threshold: the caller falls back
                        raise errors["p"]
                    if tag == "p":  # the hedge is already on its way: it carries on alone
                        yield FallbackTaken(primary.spec, backup.spec, item)
                    continue
                if item is _END or type(item) is TextDelta or isinstance(item, Completed):
                    winner, ended = tag, item is _END
                if item is not _END:
                    held[tag].append(item)
            loser = "h" if winner == "p" else "p"
            extra = None
            if loser in tasks:
                tasks[loser].cancel()
                extra = _spent(contenders[loser], held[loser])
                yield HedgeDecided(contenders[winner].spec, contenders[loser].spec, extra, hedge_won=winner == "h")
            hedged = "h" in tasks
            # A winning hedge's own clock started when it was sent; the user had already
            # waited for the threshold by then, and that wait is part of their latency.
            waited = hedge_began if winner == "h" else 0.0
            for item in held[winner]:
                yield _marked(item, hedged, extra, waited)
            if ended:
                return
            while True:
                tag, item = await queue.get()
                if tag != winner:
                    continue
                if item is _END:
                    return
                if isinstance(item, ProviderError):
                    raise item
                yield _marked(item, hedged, extra, waited)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)


def share_hedge_client(primary: Provider, backup: Provider) -> bool:
    """A hedge to the same provider (same endpoint, key and settings) uses the primary's SDK
    client, whose connections the primary's own requests keep open: the backup request is
    sent on a warm connection instead of building a client and connecting first."""
    if isinstance(primary, BaseProvider) and isinstance(backup, BaseProvider):
        return backup.share_client_with(primary)
    return False


def _marked(event: Any, hedged: bool, extra_cost: float | None, waited_s: float = 0.0) -> Any:
    """The winner's answer, marked as hedged, timed from when the caller first asked."""
    if hedged and isinstance(event, Completed):
        response = event.response
        return Completed(
            replace(
                response,
                hedged=True,
                extra_cost_usd=extra_cost,
                ttft_s=None if response.ttft_s is None else response.ttft_s + waited_s,
                total_s=response.total_s + waited_s,
            )
        )
    return event


def _spent(provider: Provider, events: list[Any]) -> float | None:
    """What the cancelled loser cost, from the events it had sent."""
    usage = Usage()
    text = 0
    for event in events:
        if isinstance(event, UsageUpdate):
            usage = usage.merged(event.usage)
        elif type(event) is TextDelta:
            text += len(event.text)
    return cost_of_cancelled(provider.price_provider, provider.model, usage, text, provider.settings.price_overrides)[1]
