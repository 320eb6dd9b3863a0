"""The providers' batch APIs: many requests run on the provider's side at half the price,
with results within 24 hours (usually minutes).

A provider that has one (Anthropic Message Batches; OpenAI Files + /v1/batches) is a
`BatchProvider`: submit a set of requests under ids of our choosing, poll the batch,
collect its results, cancel it, list what is open. Each result becomes a `Response`
through the same converter, scrubber, checks and pricing (at the batch rate) as a
streamed answer, or a classified `ProviderError`; an item the provider never ran
(expired, cancelled) says so, so the caller can run it again — nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from .errors import ProviderError
from .types import Request, Response

ItemState = Literal["succeeded", "errored", "expired", "canceled"]

#: What both APIs accept as a request's own id in a batch (Anthropic's rule is the narrower).
CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One request of a batch. `owner`: the provider (model) it is for, when the batch
    holds several models of one provider; None is the provider that submits it."""

    custom_id: str
    request: Request
    owner: Any = None


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """A batch as its provider reports it. `counts` uses one vocabulary for both APIs:
    processing, succeeded, errored, expired, canceled."""

    id: str
    provider: str  # the SPEC it was submitted through
    ended: bool
    state: str  # the API's own word: in_progress, ended, completed, expired, cancelled, ...
    counts: dict[str, int] = field(default_factory=dict)
    created_at: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """One item's result: a response, or why there is none."""

    custom_id: str
    state: ItemState
    response: Response | None = None
    error: ProviderError | None = None

    @property
    def retryable(self) -> bool:
        """Never run (expired, cancelled) or failed in a way another try may not: run it again."""
        return self.state in ("expired", "canceled") or (self.error is not None and self.error.retryable)


@runtime_checkable
class BatchProvider(Protocol):
    """A provider with a batch API."""

    spec: str

    async def submit_batch(self, items: list[BatchItem]) -> BatchStatus: ...

    async def poll_batch(self, batch_id: str) -> BatchStatus: ...

    @property
    def batch_scope(self) -> str: ...

    async def batch_results(
        self, batch_id: str, requests: dict[str, Request], owners: Mapping[str, Any] | None = None
    ) -> list[BatchOutcome]: ...

    async def cancel_batch(self, batch_id: str) -> BatchStatus: ...

    async def list_batches(self) -> list[BatchStatus]: ...


def has_batch_api(provider: object) -> bool:
    """Whether `provider` (unwrapped) can run a batch: Anthropic and OpenAI's own API can;
    a local model and OpenAI-compatible endpoints cannot (they run live)."""
    return isinstance(provider, BatchProvider) and bool(getattr(provider, "batch_api", False))


def check_custom_ids(items: list[BatchItem]) -> None:
    seen: set[str] = set()
    for item in items:
        if not CUSTOM_ID.match(item.custom_id) or item.custom_id in seen:
            raise ValueError(f"batch item id {item.custom_id!r} is not a unique 1-64 character [A-Za-z0-9_-] id")
        seen.add(item.custom_id)
