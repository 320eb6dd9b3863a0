"""The validated object of a structured reply, repaired once when it does not fit.

Shared by every task that asks for structured output (review, triage, judges): the
silent failures (empty, billed, null) raise, a reply cut off at the token limit is
not repaired (it would be cut off again), and a reply that fails the schema gets one
more turn that shows the model its reply and the validation error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.calls.partial import ListStreamer
from providers import Completed, Message, Provider, Request, Response, RetryScheduled, TextDelta
from providers.checks import raise_for_checks
from providers.errors import InvalidOutputError
from providers.types import Check
from providers.types import ResilienceEvent as RouteEvent


def repair_request(original: Request, reply_text: str, problem: str) -> Request:
    """One more turn: show the model its invalid reply and the validation error."""
    fix = (
        f"Your reply could not be used: {problem}. Reply again with only the corrected JSON "
        f"object, following the same instructions and schema."
    )
    messages = (*original.messages, Message("assistant", reply_text or "(empty)"), Message("user", fix))
    return Request(
        messages,
        system=original.system,
        max_tokens=original.max_tokens,
        output_schema=original.output_schema,
        stable_prefix=original.stable_prefix,
    )


async def final_reply(
    provider: Provider, request: Request, response: Response, responses: list[Response], *, what: str, limit_hint: str
) -> tuple[Any, list[Check], bool]:
    """(parsed object, checks, repaired). A repair's response is appended to `responses`."""
    schema_check = next((c for c in response.checks if c.name == "schema_invalid"), None)
    others = [c for c in response.checks if c is not schema_check]
    raise_for_checks(response.with_checks(others))
    if schema_check is None:
        return response.parsed, others, False
    if response.finish_reason == "length":
        raise InvalidOutputError(
            f"the {what} was cut off at the token limit ({request.max_tokens}) and is incomplete",
            provider=response.spec,
            request_id=response.request_id,
            response=response,
            hint=limit_hint,
        )
    repair = await provider.complete(repair_request(request, response.text, schema_check.message))
    responses.append(repair)
    repair_schema = next((c for c in repair.checks if c.name == "schema_invalid"), None)
    raise_for_checks(repair.with_checks([c for c in repair.checks if c is not repair_schema]))
    if repair_schema is not None:
        raise InvalidOutputError(
            f"the reply did not match the {what} schema, even after one repair: {repair_schema.message}",
            provider=repair.spec,
            request_id=repair.request_id,
            response=repair,
            hint="Try again, or use a provider with native structured output.",
        )
    note = Check(
        "repaired",
        "warning",
        f"the first reply did not match the schema ({schema_check.message})",
        f"A repair request produced a valid reply; the {what} shown is from the repaired reply.",
    )
    return repair.parsed, [*others, *repair.checks, note], True


@dataclass(frozen=True, slots=True)
class TextArrived:
    """A piece of the reply's raw text, for a view that shows the model writing."""

    text: str


async def stream_items(
    provider: Provider, request: Request, streamer: ListStreamer[Any]
) -> AsyncIterator[tuple[str, Any]]:
    """One call, read as it streams: ("item", x) for each list item the moment it is
    complete; ("event", e) for what the task passes on as it is — each piece of text as
    TextArrived, each retry and each fallback, cooldown or hedge decision; and last
    ("done", Response)."""
    async for event in provider.stream(request):
        if type(event) is TextDelta:
            yield "event", TextArrived(event.text)
            for item in streamer.feed(event.text):
                yield "item", item
        elif isinstance(event, RetryScheduled | RouteEvent):
            yield "event", event
        elif isinstance(event, Completed):
            yield "done", event.response
