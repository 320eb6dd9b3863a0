"""The batch executor: the calls of an eval (or a compare's repeats) to a provider with a
batch API go through it as one batch per provider and round (answers, then grades), at
half the price.

It sits where the live call would be: `BatchedProvider.stream` is asked for a call like
any provider, and the call joins the provider's `BatchCollector`. Once no new call has
arrived for `gather_s`, the collector submits what it gathered as one batch, keeps the
batch's id in history at once (so a killed process can pick it up), polls it, and hands
each caller its response — converted, checked and priced by the provider layer as a
streamed answer is. An item the batch did not run (expired, cancelled, a retryable
error) is run again, live or in a new batch as the user chose: nothing is lost.

The eval runner names each call (`call_key`, the run part it will become); the item's id
in the batch is derived from that name, so a resumed eval finds its calls in a batch
submitted by the process that was killed, instead of paying for them twice. History
lists the batches kept this way (`app.history.batches`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.notes import Note
from providers.batch import BatchItem, BatchOutcome, BatchStatus
from providers.errors import ProviderError
from providers.types import Completed, ProviderEvent, Request, Response, final_response

RetryMode = Literal["live", "batch"]
BATCH_PART = "batch:"  # run parts whose key starts with this hold a batch's state

_CALL_KEY: ContextVar[str | None] = ContextVar("driftcheck_batch_call_key", default=None)


@contextmanager
def call_key(key: str) -> Iterator[None]:
    """Name the calls made inside (an eval part: `answer:…`, `grade:…`)."""
    token = _CALL_KEY.set(key)
    try:
        yield
    finally:
        _CALL_KEY.reset(token)


def name_calls(key: str) -> None:
    """Name the calls the current task makes from here on (a compare's run: `run:a:0`),
    for a task of its own, where no `with call_key` can span it (an async generator)."""
    _CALL_KEY.set(key)


def custom_id(key: str) -> str:
    """A batch item id both APIs accept, the same for the same call in every process."""
    return "dc-" + hashlib.sha256(key.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class BatchProgress:
    """A batch's state each time it is polled: for a progress display."""

    status: BatchStatus
    elapsed_s: float
    resumed: bool
    models: tuple[str, ...] = ()  # the SPECs whose calls it holds (several: one provider's models)


def batch_part(spec: str, batch_id: str) -> str:
    return f"{BATCH_PART}{spec}|{batch_id}"


def open_batches(parts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The batches a stored run submitted and has not collected: part key -> state."""
    return {
        key: value
        for key, value in parts.items()
        if key.startswith(BATCH_PART) and isinstance(value, dict) and value.get("state") == "submitted"
    }


Waiting = dict[str, tuple[Request, "asyncio.Future[Response]", Any]]  # id -> (request, its answer, its model)


@dataclass
class BatchCollector:
    """The calls of one batch scope (a provider account, or one model of it where the API
    takes one model per batch), gathered into batches."""

    provider: Any  # a provider with a batch API (providers.batch.BatchProvider): submits and polls
    keep: Callable[[str, Any], None]
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # open batches from before a resume
    retry: RetryMode = "live"
    gather_s: float = 0.3
    poll_s: float = 2.0
    on_progress: Callable[[BatchProgress], None] = lambda _: None
    _waiting: Waiting = field(default_factory=dict)
    _uses: dict[str, int] = field(default_factory=dict)
    _flusher: asyncio.Task[None] | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _submitted_at: dict[str, float] = field(default_factory=dict)  # part -> time.time() at submission

    async def call(self, request: Request, owner: Any = None) -> Response:
        """`owner`: the provider (model) the call is for; None is the collector's own."""
        key = _CALL_KEY.get() or "call"
        n = self._uses[key] = self._uses.get(key, 0) + 1  # a repair turn is a second call of the part
        cid = custom_id(key if n == 1 else f"{key}#{n}")
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiting[cid] = (request, future, owner or self.provider)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_when_quiet())
        return await future

    async def _flush_when_quiet(self) -> None:
        seen = -1
        while seen != len(self._waiting):
            seen = len(self._waiting)
            await asyncio.sleep(self.gather_s)
        taken, self._waiting = self._waiting, {}
        for part, state in list(self.stored.items()):
            mine = {cid: taken.pop(cid) for cid in list(taken) if cid in state["items"]}
            if mine:
                self._spawn(self._collect(state["id"], part, mine, resumed=True))
        if taken:
            self._spawn(self._submit(taken))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _state(self, batch_id: str, calls: Waiting, state: str) -> dict[str, Any]:
        return {
            "id": batch_id,
            "provider": self.provider.spec,  # the SPEC that polls and collects it
            "group": self.provider.batch_scope,
            "models": sorted({owner.spec for _, _, owner in calls.values()}),
            "state": state,
            "items": sorted(calls),
            "endpoint": self.provider.settings.base_url,
        }

    async def _submit(self, calls: Waiting) -> None:
        items = [BatchItem(cid, req, owner) for cid, (req, _, owner) in calls.items()]
        submitted_at = time.time()
        try:
            status = await self.provider.submit_batch(items)
        except ProviderError as error:
            _fail(calls, error)
            return
        part = batch_part(self.provider.spec, status.id)
        state = {**self._state(status.id, calls, "submitted"), "submitted_at": submitted_at}
        self.keep(part, state)  # in history before anything else can go wrong
        self._submitted_at[part] = submitted_at
        await self._collect(status.id, part, calls, resumed=False)

    async def _collect(self, batch_id: str, part: str, calls: Waiting, *, resumed: bool) -> None:
        started = time.monotonic()
        try:
            while True:
                status = await self.provider.poll_batch(batch_id)
                models = tuple(sorted({owner.spec for _, _, owner in calls.values()}))
                self.on_progress(BatchProgress(status, time.monotonic() - started, resumed, models))
                if status.ended:
                    break
                await asyncio.sleep(self.poll_s)
            outcomes = await self.provider.batch_results(
                batch_id,
                {cid: req for cid, (req, _, _) in calls.items()},
                {cid: owner for cid, (_, _, owner) in calls.items()},
            )
        except ProviderError as error:
            _fail(calls, error)
            return
        by_id: dict[str, BatchOutcome] = {o.custom_id: o for o in outcomes}
        # Our clock at submission, kept with the batch: a resumed process knows it too.
        submitted_at = self._submitted_at.get(part) or (self.stored.get(part) or {}).get("submitted_at")
        turnaround = None if submitted_at is None else round(time.time() - submitted_at, 3)
        again: Waiting = {}
        for cid, (request, future, owner) in calls.items():
            outcome = by_id.get(cid) or BatchOutcome(cid, "expired")
            if outcome.response is not None:
                future.set_result(replace(outcome.response, batch_turnaround_s=turnaround))
            elif outcome.retryable:
                again[cid] = (request, future, owner)
            else:
                future.set_exception(outcome.error or ProviderError("the batch returned no answer"))
        self.keep(part, {**self._state(batch_id, calls, "collected"), "submitted_at": submitted_at})
        self.stored.pop(part, None)
        if not again:
            return
        if self.retry == "batch":
            await self._submit(again)
            return
        for request, future, owner in again.values():
            self._spawn(_live(owner, request, future))

    async def cancel_all(self) -> None:
        # The flusher too: left running, it would submit (and pay for) a batch after the
        # provider was closed, for calls nobody waits for any more.
        for task in [*self._tasks, *([self._flusher] if self._flusher is not None else [])]:
            task.cancel()


async def _live(provider: Any, request: Request, future: asyncio.Future[Response]) -> None:
    try:
        future.set_result(await final_response(provider.stream(request)))
    except ProviderError as error:
        future.set_exception(error)


def _fail(calls: Waiting, error: ProviderError) -> None:
    for _, future, _ in calls.values():
        if not future.done():
            future.set_exception(error)


class BatchedProvider:
    """A provider whose calls go through its batch API (via a `BatchCollector`, which may
    gather the calls of other models of the same provider into the same batch)."""

    batched = True

    def __init__(self, inner: Any, collector: BatchCollector) -> None:
        self.inner = inner
        self.collector = collector

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def stream(self, request: Request) -> AsyncIterator[ProviderEvent]:
        yield Completed(await self.collector.call(request, self.inner))

    async def complete(self, request: Request) -> Response:
        return await self.collector.call(request, self.inner)

    async def aclose(self) -> None:
        await self.collector.cancel_all()
        await self.inner.aclose()


@dataclass
class BatchGroups:
    """Every provider with a batch API behind the collector of its batch scope: one batch
    per provider (Anthropic: all its models; OpenAI: one per model, as its API requires)
    and round. The others run as they are, said in a note. `stored`: a resumed run's open
    batches, each picked up by the collector of its scope instead of being resent."""

    keep: Callable[[str, Any], None]
    notify: Callable[[Note], None]
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    retry: RetryMode = "live"
    on_progress: Callable[[BatchProgress], None] = lambda _: None
    collectors: dict[str, BatchCollector] = field(default_factory=dict)  # batch scope -> its collector
    wrapped: dict[str, Any] = field(default_factory=dict)  # SPEC -> its provider, batched or not

    def wrap(self, provider: Any) -> Any:
        """Raises UsageError when a stored batch of this provider was submitted to another endpoint."""
        from app.errors import UsageError
        from providers.batch import has_batch_api

        spec = provider.spec
        if spec in self.wrapped:
            return self.wrapped[spec]
        if not has_batch_api(provider):
            self.notify(Note("info", f"{spec} has no batch API: its calls run live, at the live price"))
            self.wrapped[spec] = provider
            return provider
        scope = provider.batch_scope
        collector = self.collectors.get(scope)
        if collector is None:
            collector = BatchCollector(provider, self.keep, retry=self.retry, on_progress=self.on_progress)
            self.collectors[scope] = collector
        for part, state in list(self.stored.items()):
            if state.get("group") != scope and state.get("provider") != spec:
                continue
            endpoint = state.get("endpoint")
            if endpoint and endpoint != provider.settings.base_url:
                raise UsageError(
                    f"batch {state['id']} of {spec} was submitted to {endpoint}, not {provider.settings.base_url} "
                    f"(the endpoint configured now); resume with the configuration that submitted it"
                )
            collector.stored[part] = self.stored.pop(part)
        self.wrapped[spec] = BatchedProvider(provider, collector)
        return self.wrapped[spec]


def use_batches(
    models: dict[str, Any],
    judges: dict[str, Any],
    *,
    keep: Callable[[str, Any], None],
    parts: dict[str, Any],
    retry: RetryMode,
    notify: Callable[[Note], None],
    on_progress: Callable[[BatchProgress], None] = lambda _: None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The eval's models and judges, each provider with a batch API batched (`BatchGroups`).
    `parts` are a resumed run's stored parts: its open batches are picked up, not resent.
    Raises UsageError when a stored batch was submitted to another endpoint."""
    groups = BatchGroups(keep, notify, stored=open_batches(parts), retry=retry, on_progress=on_progress)
    return (
        {spec: groups.wrap(p) for spec, p in models.items()},
        {spec: groups.wrap(p) for spec, p in judges.items()},
    )


async def cancel_batch(provider: Any, row: dict[str, Any]) -> BatchStatus:
    """Cancel a stored batch at its provider. What it had not run is run again by the
    eval's resume (its state in history stays open until then). Raises UsageError when
    the provider is now configured at another endpoint than the one that has the batch."""
    from app.errors import UsageError

    if row.get("endpoint") and row["endpoint"] != provider.settings.base_url:
        raise UsageError(
            f"batch {row['batch_id']} was submitted to {row['endpoint']}, not {provider.settings.base_url} "
            f"(the endpoint configured now for {row['provider']})"
        )
    try:
        status: BatchStatus = await provider.cancel_batch(row["batch_id"])
        return status
    finally:
        await provider.aclose()
