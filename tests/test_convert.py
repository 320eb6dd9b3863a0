"""The pure wire-event converters, on recorded event lists (no network, no SDK client).

The recordings are the APIs' documented stream shapes: the JSON `data` of each SSE
event, one per line, exactly what the converters receive from the wire.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.anthropic import convert_event
from providers.openai import convert_chunk
from providers.types import FinishReasonSet, StreamStarted, TextDelta, Usage, UsageUpdate

RECORDINGS = Path(__file__).parent / "recordings"


def replay(name: str, convert) -> list:
    lines = (RECORDINGS / name).read_text().splitlines()
    events: list = []
    for line in filter(str.strip, lines):
        out = convert(json.loads(line))
        events.extend([out] if isinstance(out, TextDelta) else out)
    return events


def fold_usage(events: list) -> Usage:
    usage = Usage()
    for event in events:
        if isinstance(event, UsageUpdate):
            usage = usage.merged(event.usage)
    return usage


def text_of(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_anthropic_thinking_and_cache_are_counted_but_not_shown():
    events = replay("anthropic_thinking_cached.jsonl", convert_event)
    assert text_of(events) == "Severity: P1. Free disk first."  # thinking text never leaks into the answer
    assert events[0] == StreamStarted("msg_01XFDUDYJgAACzvnptvVoYEL", "claude-sonnet-4-6")
    usage = fold_usage(events)
    assert usage == Usage(
        input_tokens=412 + 2048, output_tokens=187, reasoning_tokens=151, cache_read_tokens=2048, cache_write_tokens=0
    )
    [finish] = [e for e in events if isinstance(e, FinishReasonSet)]
    assert (finish.reason, finish.raw) == ("stop", "end_turn")


def test_anthropic_max_tokens_normalises_to_length():
    events = replay("anthropic_max_tokens.jsonl", convert_event)
    [finish] = [e for e in events if isinstance(e, FinishReasonSet)]
    assert (finish.reason, finish.raw) == ("length", "max_tokens")
    assert fold_usage(events).output_tokens == 16  # message_delta's cumulative count wins over message_start's 1


def test_openai_usage_chunk_with_empty_choices_and_reasoning():
    events = replay("openai_reasoning_usage.jsonl", convert_chunk)
    assert text_of(events) == "Check the CDN origin."
    assert fold_usage(events) == Usage(input_tokens=530, output_tokens=612, reasoning_tokens=600, cache_read_tokens=128)
    assert [e.reason for e in events if isinstance(e, FinishReasonSet)] == ["stop"]
    assert isinstance(events[0], StreamStarted) and events[0].message_id == "chatcmpl-CkX2"


def test_openai_compatible_stream_without_usage():
    events = replay("openai_compatible_no_usage.jsonl", convert_chunk)
    assert text_of(events) == "Looks fine"
    assert not fold_usage(events).reported
    assert [e.reason for e in events if isinstance(e, FinishReasonSet)] == ["length"]


def test_error_events_inside_a_200_stream_raise_for_classification():
    from providers.classify import StreamErrorEvent

    with pytest.raises(StreamErrorEvent) as raised:
        convert_event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert (raised.value.body_type, raised.value.message) == ("overloaded_error", "Overloaded")
    with pytest.raises(StreamErrorEvent) as raised:
        convert_chunk({"error": {"message": "The server had an error", "type": "server_error"}})
    assert raised.value.body_type == "server_error"


def test_an_error_anywhere_in_a_chunk_is_an_error_as_the_openai_sdk_reads_it():
    from providers.classify import StreamErrorEvent

    openrouter = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "model": "x",
        "provider": "y",
        "error": {"code": 400, "message": "Provider returned error"},
        "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": "error"}],
    }
    with pytest.raises(StreamErrorEvent) as raised:
        convert_chunk(openrouter)
    assert (raised.value.status, raised.value.body_type, raised.value.message) == (400, None, "Provider returned error")
    # `"error": null` (some servers send the key on every chunk) is no error, as in the SDK.
    assert convert_chunk(
        {"error": None, "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": None}]}
    ) == TextDelta("ok")
