"""The SSE reader, on hand-made bodies and on endpoints that break the protocol."""

from __future__ import annotations

import pytest

from providers import Request
from providers import errors as E
from providers.sse import json_events
from tests.fakeserver import RawBody


class FakeResponse:
    def __init__(self, body: str, content_type: str = "text/event-stream") -> None:
        self.headers = {"content-type": content_type}
        self._lines = body.splitlines()
        self._body = body.encode()

    async def iter_lines(self):
        for line in self._lines:
            yield line

    async def read(self) -> bytes:
        return self._body


async def events(body: str, content_type: str = "text/event-stream") -> list:
    return [e async for e in json_events(FakeResponse(body, content_type), endpoint="http://x")]


async def test_multi_line_data_comments_and_done_marker():
    body = (
        ': keep-alive comment\nevent: message_start\ndata: {"a":\ndata: 1}\n\nid: 7\ndata:{"b":2}\n\ndata: [DONE]\n\n'
    )
    assert await events(body) == [{"a": 1}, {"b": 2}]


async def test_final_event_without_blank_line_is_not_lost():
    assert await events('data: {"last": true}') == [{"last": True}]


async def test_not_a_stream_is_a_protocol_error():
    with pytest.raises(E.ProtocolError, match="answered with application/json instead of a stream"):
        await events('{"choices": []}', "application/json")


async def test_malformed_event_is_a_protocol_error():
    with pytest.raises(E.ProtocolError, match="not JSON"):
        await events("data: {oops\n\n")


@pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])
async def test_endpoint_that_ignores_stream_true(fake, make_provider, spec):
    fake.script(RawBody('{"id": "x", "choices": [{"message": {"content": "hi"}}]}'))
    with pytest.raises(E.ProtocolError) as raised:
        await make_provider(spec).complete(Request.ask("hi"))
    line = raised.value.one_line()
    assert raised.value.kind == "protocol" and line.startswith(f"{spec}: ") and "instead of a stream" in line
    assert len(fake.requests) == 1, "a protocol mismatch is not retried"


@pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])
async def test_junk_in_the_stream(fake, make_provider, spec):
    fake.script(RawBody("data: <html>gateway error</html>\n\n", content_type="text/event-stream"))
    with pytest.raises(E.ProtocolError, match="not JSON"):
        await make_provider(spec).complete(Request.ask("hi"))
