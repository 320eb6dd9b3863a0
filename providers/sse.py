"""Server-Sent Events from a streaming HTTP response, as JSON payloads.

driftcheck lets each SDK build, authenticate and send the request and raise its typed
HTTP errors, then reads the event stream itself: the SDKs turn every chunk into a
pydantic model that we would only convert again, and that costs more per event than
everything else the layer does (see tests/perf/provider_overhead.py).

Parsing follows the SSE spec: `field: value` lines, one optional space after the
colon, `data` lines joined with newlines, comment lines starting with ':', an event
dispatched at a blank line. `[DONE]` (OpenAI's end marker) is skipped, and the body
is read to its end so the connection can be reused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .errors import ProtocolError


async def json_events(response: Any, *, endpoint: str) -> AsyncIterator[Any]:
    """Each event's `data` parsed as JSON, in order."""
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        body = (await response.read())[:200].decode("utf-8", "replace") if hasattr(response, "read") else ""
        raise ProtocolError(
            f"{endpoint} answered with {content_type or 'no content type'} instead of a stream: {body!r}",
            hint="Check that the endpoint supports streaming.",
        )
    data: list[str] = []
    loads = json.loads
    async for line in response.iter_lines():
        if line:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            # `event:`, `id:`, `retry:` and ':' comments carry nothing the payload lacks
            continue
        if not data:
            continue
        payload = data[0] if len(data) == 1 else "\n".join(data)
        data = []
        if payload == "[DONE]":
            continue
        try:
            yield loads(payload)
        except json.JSONDecodeError:
            raise ProtocolError(
                f"{endpoint} sent an event that is not JSON: {payload[:120]!r}",
                hint="The endpoint does not speak this API's streaming format.",
            ) from None
    if data:  # a final event without its blank line
        payload = "\n".join(data)
        if payload != "[DONE]":
            yield loads(payload)
