"""What a short call costs besides the API: nothing left for the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator

import pytest

from providers import Request
from providers.types import Completed, ProviderEvent, Response, TextDelta, Usage, final_response
from tests.fakeserver import Reply


def test_final_response_reads_the_stream_to_its_end():
    """A stream left at `Completed` is finished later by the garbage collector, through the
    loop's thread-safe wake-up; read to its end, its own code after the last event runs
    in the call."""
    finished: list[bool] = []
    response = Response(
        provider="fake",
        model="m",
        text="hi",
        usage=Usage(),
        finish_reason="stop",
        raw_finish_reason="stop",
        ttft_s=0.1,
        total_s=0.2,
        request_id=None,
        cost_usd=None,
    )

    async def stream() -> AsyncIterator[ProviderEvent]:
        yield TextDelta("hi")
        yield Completed(response)
        finished.append(True)

    async def call() -> Response:
        got = await final_response(stream())
        assert finished == [True], "the stream was left unfinished"
        return got

    assert asyncio.run(call()) is response


@pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])
async def test_a_call_leaves_no_stream_for_the_garbage_collector(fake, make_provider, spec):
    """Over a real socket with the real SDK: nothing of a finished call is closed later by
    the loop's async-generator finalizer (a thread-safe wake-up per call)."""
    fake.script(Reply(text="ok, short", input_tokens=10, output_tokens=3))
    provider = make_provider(spec)
    finalized: list[object] = []
    firstiter, finalizer = sys.get_asyncgen_hooks()

    def record(agen: object) -> None:
        finalized.append(agen)
        finalizer(agen)

    sys.set_asyncgen_hooks(firstiter, record)
    try:
        response = await provider.complete(Request.ask("status?", max_tokens=16))
        gc.collect()
    finally:
        sys.set_asyncgen_hooks(firstiter, finalizer)
    assert response.text == "ok, short"
    assert finalized == []


def live_tls_contexts() -> int:
    import ssl

    gc.collect()
    return sum(isinstance(o, ssl.SSLContext) for o in gc.get_objects())


async def test_sdk_clients_share_one_tls_context(fake, make_provider):
    """Each SDK client would load the CA bundle into a TLS context of its own: tens of ms
    and about a MiB of C heap per client, paid again by every run of a TUI session."""
    before = live_tls_contexts()
    providers = [make_provider(spec) for spec in ("anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini")]
    providers.append(make_provider("anthropic:claude-sonnet-4-6"))
    for provider in providers:
        provider.preload()
    assert live_tls_contexts() - before <= 1
    fake.script(Reply(text="still works"), Reply(text="over both"))
    assert (await providers[0].complete(Request.ask("a", max_tokens=8))).text == "still works"
    assert (await providers[1].complete(Request.ask("b", max_tokens=8))).text == "over both"
