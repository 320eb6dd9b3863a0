"""The request, the stream of typed events and the final response shared by every provider.

The CLI and the TUI consume exactly these types, whichever API produced them, so nothing
above this layer needs to know how Anthropic and OpenAI differ on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pydantic is only needed when a caller asks for structured output
    from pydantic import BaseModel

    from .errors import ProviderError

Role = Literal["user", "assistant"]
FinishReason = Literal["stop", "length", "content_filter", "tool_use", "refusal", "error", "unknown"]
TokenParam = Literal["max_tokens", "max_completion_tokens"]
CheckSeverity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Request:
    """One call, described independently of any API.

    `output_schema` asks for structured output: each provider uses its API's native
    mechanism, and the final response carries the validated object in `parsed`.

    `stable_prefix` says how much of the first message other requests of the same run
    repeat verbatim (characters; the system prompt always counts as stable): repeats,
    compare sides, chunks of one file and every answer one judge grades share it, so a
    provider can mark it for its cache. None: the task made no such promise.
    """

    messages: tuple[Message, ...]
    system: str | None = None
    max_tokens: int = 1024
    output_schema: type[BaseModel] | None = None
    #: The caller's own labels for this call (what it was made from). Never sent: the
    #: provider copies them onto the Response untouched, so a caller can trace an answer.
    labels: tuple[tuple[str, str], ...] = ()
    stable_prefix: int | None = None

    @classmethod
    def ask(
        cls,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        output_schema: type[BaseModel] | None = None,
        labels: tuple[tuple[str, str], ...] = (),
        stable_prefix: int | None = None,
    ) -> Request:
        return cls(
            (Message("user", prompt),),
            system=system,
            max_tokens=max_tokens,
            output_schema=output_schema,
            labels=labels,
            stable_prefix=stable_prefix,
        )

    def stable_text(self) -> str | None:
        """The system prompt and the shared part of the first message, or None when the
        task marked nothing (what a cache key is made from)."""
        if self.stable_prefix is None or not self.messages:
            return None
        return f"{self.system or ''}\x00{self.messages[0].content[: self.stable_prefix]}"

    @property
    def schema_name(self) -> str:
        return self.output_schema.__name__ if self.output_schema else "output"


@dataclass(frozen=True, slots=True)
class Check:
    """A silent failure or an input problem found around a call (providers.checks runs them)."""

    name: str
    severity: CheckSeverity
    message: str
    diagnosis: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; None means the API did not report that figure (never a silent zero).

    `input_tokens` includes cached input, as both price tables and OpenAI count it.
    `reasoning_tokens` is the part of `output_tokens` spent thinking.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    def merged(self, newer: Usage) -> Usage:
        """Streams report usage in pieces and cumulatively; the latest reported figure wins."""
        return Usage(
            input_tokens=_latest(self.input_tokens, newer.input_tokens),
            output_tokens=_latest(self.output_tokens, newer.output_tokens),
            reasoning_tokens=_latest(self.reasoning_tokens, newer.reasoning_tokens),
            cache_read_tokens=_latest(self.cache_read_tokens, newer.cache_read_tokens),
            cache_write_tokens=_latest(self.cache_write_tokens, newer.cache_write_tokens),
        )

    @property
    def reported(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None


def _latest(old: int | None, new: int | None) -> int | None:
    return old if new is None else new


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who answered a call, as the wire and this process tell it; None where they do not.

    `served_model` is the model id the API says answered (an alias may resolve to a dated
    snapshot, a router to another model); `system_fingerprint` is OpenAI's identifier of
    the backend configuration; `service_tier` the tier that served it; `sdk` and
    `sdk_version` the client library that made the call; `params` the effective
    generation parameters sent besides the prompt (token limit, temperature, ...).
    """

    served_model: str | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    sdk: str | None = None
    sdk_version: str | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(slots=True)
class Response:
    """What one finished call produced, with everything needed to judge and price it."""

    provider: str
    model: str
    text: str
    usage: Usage
    finish_reason: FinishReason
    raw_finish_reason: str | None
    ttft_s: float | None
    total_s: float
    request_id: str | None
    cost_usd: float | None  # None = no known price for this model ("unknown")
    retries: int = 0
    content_null: bool = False
    parsed: Any = None
    checks: list[Check] = field(default_factory=list)
    hedged: bool = False  # a hedge was sent; this is the winner's answer
    fallback_from: str | None = None  # the SPEC that failed before this one answered
    extra_cost_usd: float | None = 0.0  # what the cancelled hedge loser cost (estimated)
    provenance: Provenance = field(default_factory=Provenance)
    labels: tuple[tuple[str, str], ...] = ()  # the request's labels, passed through
    #: What the provider's prompt cache saved on this call against the same tokens uncached
    #: (negative when only a cache write was paid); None when the price is unknown.
    cache_saved_usd: float | None = None
    batch: bool = False  # answered through a batch API, priced at the batch rate
    #: A batched answer's submit-to-result time (the batch's turnaround, set by whoever
    #: polled it): never a live latency, so `ttft_s` is None and `total_s` 0 for it.
    batch_turnaround_s: float | None = None

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    def with_checks(self, checks: list[Check]) -> Response:
        return replace(self, checks=checks)


# --- stream events -----------------------------------------------------------------------
# Converters turn wire events into the first four; the provider loop adds the rest.


class TextDelta:
    """A piece of answer text. A plain slotted class, not a frozen dataclass: one is made
    per streamed chunk, and frozen construction costs three times as much."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return type(other) is TextDelta and other.text == self.text

    def __repr__(self) -> str:
        return f"TextDelta({self.text!r})"


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(frozen=True, slots=True)
class StreamStarted:
    """The API accepted the call; carries the identifiers it assigned and who serves it."""

    message_id: str | None = None
    model: str | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None


@dataclass(frozen=True, slots=True)
class FinishReasonSet:
    reason: FinishReason
    raw: str | None
    content_null: bool = False


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A failed attempt will be retried after `delay_s`; nothing of it reached the user."""

    attempt: int
    delay_s: float
    error: ProviderError


@dataclass(frozen=True, slots=True)
class Completed:
    response: Response


WireEvent = TextDelta | UsageUpdate | StreamStarted | FinishReasonSet
StreamEvent = TextDelta | UsageUpdate | StreamStarted | FinishReasonSet | RetryScheduled | Completed


# --- resilience events: every routing decision, in the stream (providers.resilience) -----


@dataclass(frozen=True, slots=True)
class FallbackTaken:
    failed: str
    next: str
    error: ProviderError


@dataclass(frozen=True, slots=True)
class CooldownSkipped:
    spec: str
    seconds_left: float


@dataclass(frozen=True, slots=True)
class CooldownStarted:
    spec: str
    seconds: float
    failures: int


@dataclass(frozen=True, slots=True)
class HedgeStarted:
    primary: str
    hedge: str
    after_s: float


@dataclass(frozen=True, slots=True)
class HedgeWithheld:
    """The threshold passed but the hedge budget is spent: the primary is waited for."""

    primary: str
    hedge: str
    after_s: float
    budget: float


@dataclass(frozen=True, slots=True)
class HedgeDecided:
    winner: str
    loser: str
    loser_cost_usd: float | None  # estimated: the loser was cancelled part way
    # The hedge streamed first (the specs say nothing when it went to the same provider).
    hedge_won: bool = False


ResilienceEvent = FallbackTaken | CooldownSkipped | CooldownStarted | HedgeStarted | HedgeWithheld | HedgeDecided

ProviderEvent = StreamEvent | ResilienceEvent


async def final_response(events: AsyncIterator[ProviderEvent]) -> Response:
    """Drain a provider's stream and return its final response (what `complete` does).

    Read to its end rather than left at `Completed`: a generator left unfinished is closed
    by the garbage collector through the event loop's thread-safe wake-up, which costs a
    system call and a loop turn on every call (visible against a short reply)."""
    response: Response | None = None
    async for event in events:
        if response is None and type(event) is Completed:
            response = event.response
    if response is None:
        raise AssertionError("a provider stream ended without a Completed event")
    return response
