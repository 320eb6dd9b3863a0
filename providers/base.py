"""The loop every provider shares: open a stream, convert events, time it, retry safely.

A provider module supplies three things — how to open its SDK stream, a pure function
from one wire event to project events, and how to classify its SDK's exceptions. This
module owns the rest, so timing, retries and checks behave the same for every API.

Retry rule: an attempt that failed before any text reached the caller is retried
(honouring retry-after); once text has been yielded, a failure is reported as
`InterruptedStreamError` with the partial text, and nothing is replayed.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .capabilities import Capabilities
from .checks import run_checks
from .errors import InterruptedStreamError, ProviderError, ProviderTimeout
from .pricing import Price, cache_saving_usd, cost_usd
from .scrub import StreamScrubber, register_key, scrub, scrub_error
from .types import (
    Completed,
    FinishReasonSet,
    Provenance,
    Request,
    Response,
    RetryScheduled,
    StreamEvent,
    StreamStarted,
    TextDelta,
    Usage,
    UsageUpdate,
    WireEvent,
    final_response,
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 10.0
    first_token_s: float = 60.0  # from sending the request to the first text
    stall_s: float = 30.0  # longest silence allowed between events once text flows


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 2
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0  # never sleep longer than this on a server's say-so

    def delay(self, error: ProviderError, attempt: int) -> float:
        if error.retry_after_s is not None:
            return min(error.retry_after_s, self.max_retry_after_s)
        base = min(self.backoff_s * (2**attempt), self.max_backoff_s)
        return float(base * (0.5 + random.random() / 2))  # jitter so parallel callers spread out


@dataclass(slots=True)
class ProviderSettings:
    """Everything about a provider instance that does not come from the SPEC itself."""

    api_key: str | None
    base_url: str
    key_env: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    price_overrides: Mapping[str, Price] = field(default_factory=dict)
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    #: Extra request-body fields for an OpenAI-compatible server (temperature, seed, ...).
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    #: The caller will resend requests' stable prefixes (repeats, evals): mark them for a
    #: cache whose writes cost extra (Anthropic's, 1.25x), since the reads will repay it.
    prompt_cache: bool = False


@dataclass(slots=True)
class _Accumulator:
    """The running state of one attempt, turned into a Response at the end."""

    started: float
    text_parts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish: FinishReasonSet | None = None
    first_token_at: float | None = None
    request_id: str | None = None
    served_by: StreamStarted | None = None  # the served model, fingerprint and tier, as the API said

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


class _Watchdog:
    """Enforces the first-token and stall deadlines at almost no cost per event.

    A per-event timeout (or even a clock read per event) costs a measurable share of the
    2 % overhead budget, and a timeout context would fire while the generator sits at
    `yield` waiting for a slow consumer. Instead the loop bumps one counter when an event
    arrives and again when it is done with it — even means waiting on the provider, odd
    means busy — and a timer looks at it a few times per deadline: it cancels the task
    only while it is waiting and nothing has arrived for the whole stall window (so a
    stall is reported between 1 and 1.25 times the window).
    """

    __slots__ = ("fired", "handle", "loop", "mark", "quiet", "task", "ticks", "timeouts")
    QUIET_CHECKS = 4

    def __init__(self, timeouts: Timeouts) -> None:
        self.loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "provider streams run inside an asyncio task"
        self.task = task
        self.timeouts = timeouts
        self.ticks = 0  # even: waiting on the provider (opening the stream counts)
        self.mark = -1
        self.quiet = 0
        self.fired: str | None = None
        self.handle = self.loop.call_later(timeouts.first_token_s, self._first_token_due)

    def _fire(self, phase: str) -> None:
        self.fired = phase
        self.task.cancel()

    @property
    def waiting(self) -> bool:
        return not self.ticks & 1

    def _first_token_due(self) -> None:
        if self.waiting:
            self._fire("first_token")
        else:  # the consumer is busy with an early event; look again shortly
            self.handle = self.loop.call_later(0.05, self._first_token_due)

    def text_started(self) -> None:
        """The first text arrived: from now on only silence counts, not total time."""
        self.handle.cancel()
        self._arm_stall_check()

    def _arm_stall_check(self) -> None:
        self.handle = self.loop.call_later(self.timeouts.stall_s / self.QUIET_CHECKS, self._stall_check)

    def _stall_check(self) -> None:
        if self.waiting and self.ticks == self.mark:
            self.quiet += 1
            if self.quiet >= self.QUIET_CHECKS:
                return self._fire("stall")
        else:
            self.mark, self.quiet = self.ticks, 0
        self._arm_stall_check()

    def stop(self) -> None:
        self.handle.cancel()


_SDK_LOGGERS = ("anthropic", "openai", "httpx", "httpx2", "httpcore", "httpcore2")


def quiet_sdk_logging() -> None:
    """The SDKs turn on DEBUG logging to stderr when ANTHROPIC_LOG / OPENAI_LOG say so,
    and at DEBUG they print whole requests — prompts, and the code under review. driftcheck
    keeps them at WARNING whatever the environment says; its own messages say what failed."""
    import logging

    for name in _SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@functools.cache
def package_version(distribution: str | None) -> str | None:
    """An installed distribution's version (read once: it costs a metadata scan)."""
    if distribution is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


@functools.cache
def shared_ssl_context() -> Any:
    """One TLS context for every SDK client in the process, made as httpx2 makes its
    default one. Each client would otherwise load the CA bundle again — tens of ms and about
    a MiB of C heap per client, for every run of a TUI session or an eval's provider."""
    import httpx2

    return httpx2.create_ssl_context()


def text_parts_shown(acc: _Accumulator) -> bool:
    """Whether any text of this attempt reached the caller (then it must not be replayed)."""
    return bool(acc.text_parts)


Converted = TextDelta | tuple[WireEvent, ...] | list[WireEvent]
OpenedStream = tuple[AsyncIterator[Any], str | None, Callable[[], Any]]


class BaseProvider(ABC):
    """A provider that talks to an API (or a local model): the shared loop. Subclasses supply
    the SDK client, the wire-event converter and error classification."""

    kind: ClassVar[str]
    #: genai-prices provider id; an instance for a custom endpoint sets None (unknown prices).
    price_provider: str | None = None
    #: The distribution of the client library that makes the calls (provenance names it).
    sdk_package: ClassVar[str | None] = None

    def __init__(self, *, name: str, model: str, settings: ProviderSettings, caps: Capabilities) -> None:
        self.name = name
        self.model = model
        self.settings = settings
        self.caps = caps
        self._client: Any = None
        self._client_from: BaseProvider | None = None  # whose SDK client this one uses, if not its own
        register_key(settings.api_key)  # whatever the provider echoes, this key is scrubbed out

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.model}"

    def share_client_with(self, other: BaseProvider) -> bool:
        """Use `other`'s SDK client — and so its open connections — when both send the same
        kind of request to the same endpoint with the same key and settings: a hedge to the
        same provider then starts on a warm connection instead of building a client and
        connecting. Nothing is imported or built here; the client is taken on first use.
        False (and nothing changes) when they differ."""
        if type(self) is not type(other) or self.settings != other.settings or self.kind == "local":
            return False
        self._client_from = other
        return True

    def _ready_client(self) -> Any:
        """The SDK client, built (or taken from the provider this one shares with) now."""
        if self._client_from is not None:  # taken afresh: the owner may have closed and rebuilt it
            self._client = self._client_from._ready_client()
        return self._sdk_client()

    # --- what a provider module supplies -------------------------------------------------

    @abstractmethod
    def _sdk_client(self) -> Any:
        """Build (once) and return the SDK client; the SDK is imported here, lazily."""

    def _sdk_client_options(self) -> dict[str, Any]:
        """Options both HTTP SDKs take alike. Our watchdog enforces the first-token and
        stall deadlines; the SDK's read timeout is only a backstop, and its own retries
        are off because ours honour the no-replay rule."""
        import httpx2

        t = self.settings.timeouts
        return {
            "base_url": self.settings.base_url,
            "max_retries": 0,
            "timeout": httpx2.Timeout(max(t.first_token_s, t.stall_s) + 5, connect=t.connect_s),
            "default_headers": dict(self.settings.extra_headers) or None,
        }

    @abstractmethod
    async def _open(self, request: Request) -> OpenedStream:
        """Send the request; return (event iterator, request id, close callable)."""

    def request_kwargs(self, request: Request) -> dict[str, Any]:
        """The SDK call's keyword arguments for `request` (each provider builds its own)."""
        raise NotImplementedError

    def batch_body(self, request: Request) -> dict[str, Any]:
        """The request as one item of a batch: the streamed call's arguments, not streamed."""
        body = self.request_kwargs(request)
        body.pop("stream", None)
        body.pop("stream_options", None)
        return body

    @staticmethod
    @abstractmethod
    def convert(event: Any, /) -> Converted:
        """Pure: one SDK stream event to project events — a bare TextDelta for a plain
        text chunk (the hot path), else a tuple or list of zero or more events."""

    @abstractmethod
    def classify(self, exc: BaseException, request_id: str | None) -> ProviderError:
        """Map any exception raised while calling the SDK to the project's hierarchy."""

    # --- the shared loop ---------------------------------------------------------------

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        """The call as a stream of events, ending with `Completed` or raising a ProviderError.

        One generator frame on purpose: every event passes through it, and a nested
        generator per attempt cost more than the whole 2 % overhead budget.
        """
        policy = self.settings.retry
        self._ready_client()  # import and build before the clock starts: not the API's latency
        convert = self.convert
        attempt = 0
        while True:
            acc = _Accumulator(started=time.perf_counter())
            watch = _Watchdog(self.settings.timeouts)
            scrubber = StreamScrubber()  # everything the provider says is scrubbed before it is passed on
            feed = scrubber.feed
            close: Callable[[], Any] | None = None
            error: ProviderError | None = None
            try:
                events, acc.request_id, close = await self._open(request)
                append = acc.text_parts.append
                first_pending = True
                # The hot path: `async for` (cheaper than explicit __anext__ calls), and a
                # converter that returns a bare TextDelta for an ordinary text chunk. The
                # watchdog's counter is odd while we hold an event, even while we wait.
                async for raw in events:
                    watch.ticks += 1
                    out = convert(raw)
                    if type(out) is TextDelta:
                        if first_pending:
                            first_pending = False
                            acc.first_token_at = time.perf_counter()
                            watch.text_started()
                        text = feed(out.text)
                        if text:
                            append(text)
                            yield out if text is out.text else TextDelta(text)
                    else:
                        for event in out:  # type: ignore[union-attr]
                            if type(event) is TextDelta:
                                if acc.first_token_at is None:
                                    acc.first_token_at = time.perf_counter()
                                    watch.text_started()
                                text = feed(event.text)
                                if not text:
                                    continue
                                append(text)
                                event = TextDelta(text)
                            else:
                                self._absorb(event, acc)
                            yield event
                        first_pending = acc.first_token_at is None
                    watch.ticks += 1
                held = scrubber.flush()  # the last word, held back in case it was a key
                if held:
                    append(held)
                    yield TextDelta(held)
            except asyncio.CancelledError:
                if watch.fired is None:
                    raise
                watch.task.uncancel()
                error = self._timeout_error(watch.fired, acc)
            except ProviderError as exc:
                error = exc
            except GeneratorExit:
                raise
            except Exception as exc:
                error = self.classify(exc, acc.request_id)
                error.__cause__ = exc
            finally:
                watch.stop()
                if close is not None:
                    try:
                        await close()
                    except Exception:
                        pass
            if error is None:
                break

            scrub_error(error)
            error.provider = error.provider or self.spec
            error.retries = attempt
            held = scrubber.flush()  # text held back mid-word arrived all the same: pass it on
            if held:
                acc.text_parts.append(held)
                yield TextDelta(held)
            if text_parts_shown(acc):
                raise InterruptedStreamError(
                    f"the stream broke after {len(acc.text)} characters: {error.message}",
                    partial_text=acc.text,
                    cause=error,
                    provider=self.spec,
                    status=error.status,
                    request_id=error.request_id or (acc.request_id and scrub(acc.request_id)),
                    retries=attempt,
                    hint="The partial answer was kept; it is not retried because it was already shown.",
                    original=error.original or error,
                ) from error
            if not error.retryable or attempt >= policy.retries:
                raise error
            delay = policy.delay(error, attempt)
            attempt += 1
            yield RetryScheduled(attempt=attempt, delay_s=delay, error=error)
            await asyncio.sleep(delay)
        yield Completed(self._finish(request, acc, retries=attempt))

    @staticmethod
    def _absorb(event: WireEvent, acc: _Accumulator) -> None:
        """Fold a non-text event into the attempt's running state."""
        kind = type(event)
        if kind is UsageUpdate:
            acc.usage = acc.usage.merged(event.usage)  # type: ignore[union-attr]
        elif kind is FinishReasonSet:
            acc.finish = event  # type: ignore[assignment]
        elif kind is StreamStarted:
            acc.served_by = event  # type: ignore[assignment]
            if event.message_id and not acc.request_id:  # type: ignore[union-attr]
                acc.request_id = event.message_id  # type: ignore[union-attr]

    async def complete(self, request: Request) -> Response:
        """Drain the stream and return the final response."""
        return await final_response(self.stream(request))

    def _timeout_error(self, phase: str, acc: _Accumulator) -> ProviderTimeout:
        timeouts = self.settings.timeouts
        if phase == "first_token":
            return ProviderTimeout(
                f"no text within {timeouts.first_token_s:g} s",
                phase="first_token",
                provider=self.spec,
                request_id=acc.request_id,
                hint="The provider is slow to start; raise first_token_timeout_s or try another provider.",
            )
        return ProviderTimeout(
            f"the stream stalled for more than {timeouts.stall_s:g} s",
            phase="stall",
            provider=self.spec,
            request_id=acc.request_id,
            hint="The provider stopped sending mid-answer.",
        )

    async def sdk_call(self, call: Any) -> Any:
        """Await one plain SDK call (a batch's create, poll, results...): its failure as a
        classified, scrubbed ProviderError."""
        try:
            return await call
        except ProviderError:
            raise
        except Exception as exc:
            error = self.classify(exc, None)
            scrub_error(error)
            raise error from exc

    def response_from_wire(self, request: Request, wire: list[Any], *, request_id: str | None) -> Response:
        """A whole answer that arrived at once (a batch result), given as the wire events a
        stream of it would have carried: converted, scrubbed, checked and priced exactly as
        a streamed answer is, at the batch rate. Raises the classified error of an error event."""
        acc = _Accumulator(started=time.perf_counter(), request_id=request_id)
        scrubber = StreamScrubber()
        try:
            for raw in wire:
                out = self.convert(raw)
                for event in (out,) if isinstance(out, TextDelta) else out:
                    if isinstance(event, TextDelta):
                        if text := scrubber.feed(event.text):
                            acc.text_parts.append(text)
                    else:
                        self._absorb(event, acc)
        except Exception as exc:
            error = exc if isinstance(exc, ProviderError) else self.classify(exc, request_id)
            scrub_error(error)
            raise error from exc
        if held := scrubber.flush():
            acc.text_parts.append(held)
        response = self._finish(request, acc, retries=0, batch=True)
        response.total_s, response.ttft_s = 0.0, None  # no stream: the time is the batch's, not the call's
        return response

    def _finish(self, request: Request, acc: _Accumulator, *, retries: int, batch: bool = False) -> Response:
        finish = acc.finish or FinishReasonSet("unknown", None)
        now = time.perf_counter()
        overrides = self.settings.price_overrides
        cost = cost_usd(self.price_provider, self.model, acc.usage, overrides, batch=batch)
        response = Response(
            provider=self.name,
            model=self.model,
            text=acc.text,
            usage=acc.usage,
            finish_reason=finish.reason,
            raw_finish_reason=finish.raw and scrub(finish.raw),
            ttft_s=None if acc.first_token_at is None else acc.first_token_at - acc.started,
            total_s=now - acc.started,
            request_id=acc.request_id and scrub(acc.request_id),
            cost_usd=cost,
            cache_saved_usd=cache_saving_usd(self.price_provider, self.model, acc.usage, cost, overrides, batch=batch),
            retries=retries,
            batch=batch,
            content_null=finish.content_null and not acc.text_parts,
            provenance=self._provenance(request, acc.served_by),
            labels=request.labels,
        )
        response.checks, response.parsed = run_checks(request, response, self.caps)
        return response

    def effective_params(self, request: Request) -> dict[str, Any]:
        """The generation parameters a call sends besides the prompt and the schema: what
        provenance hashes, so that a changed setting is told apart from a changed model."""
        params: dict[str, Any] = {self.caps.token_param: request.max_tokens}
        params.update((k, v) for k, v in self.settings.extra_body.items() if k != "grammar")
        return params

    def _provenance(self, request: Request, served: StreamStarted | None) -> Provenance:
        said = (served.model, served.system_fingerprint, served.service_tier) if served else (None, None, None)
        # What the API said is untrusted: text only, keys scrubbed. One scrub for the three
        # (a scan has a fixed cost that matters on a short call), one line each.
        lines = [" ".join(v.split()) if isinstance(v, str) else "" for v in said]
        model, fingerprint, tier = (v or None for v in scrub("\n".join(lines)).split("\n"))
        return Provenance(
            served_model=model,
            system_fingerprint=fingerprint,
            service_tier=tier,
            sdk=self.sdk_package,
            sdk_version=package_version(self.sdk_package),
            params=self.effective_params(request),
        )

    def preload(self) -> None:
        """Do the slow part of a first call now — import the SDK, load a local model — so a
        caller with a UI can do it in a thread instead of freezing its event loop."""
        self._ready_client()

    async def aclose(self) -> None:
        if self._client is not None and self._client_from is None:  # a shared client is its owner's to close
            await self._client.close()
        self._client = None
