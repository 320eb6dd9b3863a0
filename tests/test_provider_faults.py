"""Every scripted fault, against both real SDKs, over a real socket.

Each test asserts the error kind, the message a user would read, how many attempts
the server saw (the retry count), and that text already streamed is never replayed.
"""

from __future__ import annotations

import time

import pytest

from providers import Completed, Request, RetryPolicy, RetryScheduled, TextDelta, Timeouts, raise_for_checks
from providers import errors as E
from providers.spec import Endpoint
from tests.fakeserver import HttpError, Reply, empty_billed, overloaded, rate_limited, unauthorized

BOTH = pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])


async def collect(provider, request=None):
    """All events of one call, and the text deltas joined in the order they arrived."""
    events = []
    try:
        async for event in provider.stream(request or Request.ask("hello")):
            events.append(event)
    except E.ProviderError as err:
        return events, "".join(e.text for e in events if isinstance(e, TextDelta)), err
    return events, "".join(e.text for e in events if isinstance(e, TextDelta)), None


def final(events):
    assert isinstance(events[-1], Completed)
    return events[-1].response


@BOTH
async def test_normal_stream_reports_text_usage_cost_and_request_id(fake, make_provider, spec):
    fake.script(Reply(text="The disk is full.", input_tokens=40, output_tokens=9))
    events, text, err = await collect(make_provider(spec))
    assert err is None
    response = final(events)
    assert text == response.text == "The disk is full."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (40, 9)
    assert response.finish_reason == "stop"
    assert response.request_id and response.request_id.startswith("req_")
    assert response.cost_usd is not None and response.cost_usd > 0
    assert response.ttft_s is not None and 0 < response.ttft_s <= response.total_s
    assert response.checks == []


@BOTH
async def test_rate_limit_retry_honours_retry_after(fake, make_provider, spec):
    fake.script(rate_limited(retry_after="1"), Reply(text="ok now"))
    started = time.perf_counter()
    events, text, err = await collect(make_provider(spec))
    elapsed = time.perf_counter() - started
    assert err is None and text == "ok now"
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert len(retries) == 1 and retries[0].delay_s == 1.0
    assert retries[0].error.kind == "rate_limited"
    assert elapsed >= 1.0, "the retry-after of 1 s was not waited out"
    assert final(events).retries == 1
    assert len(fake.requests) == 2


@BOTH
async def test_retry_after_is_capped(fake, make_provider, spec):
    fake.script(rate_limited(retry_after="3600"), Reply(text="ok"))
    provider = make_provider(spec, retry=RetryPolicy(retries=1, max_retry_after_s=0.05))
    events, text, err = await collect(provider)
    assert err is None and text == "ok"
    assert [e.delay_s for e in events if isinstance(e, RetryScheduled)] == [0.05]


@BOTH
async def test_overloaded_529_is_retried_then_succeeds(fake, make_provider, spec):
    fake.script(overloaded(retry_after_ms=20), overloaded(retry_after_ms=20), Reply(text="finally"))
    events, text, err = await collect(make_provider(spec))
    assert err is None and text == "finally"
    assert [e.error.kind for e in events if isinstance(e, RetryScheduled)] == ["overloaded", "overloaded"]
    assert final(events).retries == 2 and len(fake.requests) == 3


@BOTH
async def test_rate_limit_gives_up_after_the_retry_budget(fake, make_provider, spec):
    fake.script(*[rate_limited(retry_after_ms=5)] * 3)
    _, text, err = await collect(make_provider(spec))
    assert isinstance(err, E.RateLimitedError)
    assert err.retries == 2 and len(fake.requests) == 3
    assert text == ""
    line = err.one_line()
    assert line.startswith(f"{spec}: rate limited") and "HTTP 429" in line and "after 2 retries" in line
    assert "\n" not in line


@BOTH
async def test_authentication_failure_is_not_retried_and_names_the_key(fake, make_provider, spec):
    fake.script(unauthorized())
    _, _, err = await collect(make_provider(spec))
    assert isinstance(err, E.AuthenticationError) and err.kind == "authentication"
    assert err.retries == 0 and len(fake.requests) == 1
    env = "ANTHROPIC_API_KEY" if spec.startswith("anthropic") else "OPENAI_API_KEY"
    assert f"Check {env}." in err.one_line() and "HTTP 401" in err.one_line()


async def test_wrong_token_parameter_gets_a_named_fix(fake, make_provider):
    """A compatible endpoint configured with max_tokens, serving a model that rejects it."""
    fake.token_param_rules["^strict-model$"] = "max_completion_tokens"
    endpoint = Endpoint(name="lab", base_url=fake.openai_base_url)
    _, _, err = await collect(make_provider("lab:strict-model", endpoints={"lab": endpoint}))
    assert isinstance(err, E.BadRequestError) and err.kind == "bad_request"
    assert err.retries == 0 and len(fake.requests) == 1
    assert "'max_completion_tokens', not 'max_tokens'" in err.one_line()
    assert 'token_param = "max_completion_tokens"' in err.one_line()


async def test_openai_reasoning_models_get_max_completion_tokens(fake, make_provider):
    _events, text, err = await collect(make_provider("openai:gpt-5.5"), Request.ask("hi", max_tokens=321))
    assert err is None and text
    body = fake.requests[0].body
    assert body["max_completion_tokens"] == 321 and "max_tokens" not in body
    assert body["stream_options"] == {"include_usage": True}


async def test_anthropic_bad_request_is_not_retried(fake, make_provider):
    fake.script(HttpError(400, "messages: text content blocks must be non-empty"))
    _, _, err = await collect(make_provider("anthropic:claude-haiku-4-5"))
    assert isinstance(err, E.BadRequestError) and len(fake.requests) == 1
    assert "must be non-empty" in err.one_line()


@BOTH
async def test_context_too_long_is_its_own_kind(fake, make_provider, spec):
    fake.script(HttpError(400, "prompt is too long: 250000 tokens > 200000 maximum"))
    _, _, err = await collect(make_provider(spec))
    assert isinstance(err, E.ContextTooLongError) and err.kind == "context_too_long"


@BOTH
async def test_error_event_mid_stream_keeps_partial_text_and_is_not_replayed(fake, make_provider, spec):
    fake.script(Reply(text="abcdefghijklmnop", chunk_size=4, error_after=2), Reply(text="SHOULD NOT APPEAR"))
    events, text, err = await collect(make_provider(spec))
    assert isinstance(err, E.InterruptedStreamError) and err.kind == "interrupted"
    assert err.partial_text == text == "abcdefgh"
    assert err.cause is not None and err.cause.kind in {"overloaded", "server_error"}
    assert len(fake.requests) == 1, "a stream whose text was shown must not be retried"
    assert not any(isinstance(e, RetryScheduled) for e in events)
    assert "after 8 characters" in err.one_line() and "partial answer was kept" in err.one_line()


@BOTH
async def test_error_event_before_any_text_is_retried_without_duplicating(fake, make_provider, spec):
    fake.script(Reply(text="zzzz", error_after=0), Reply(text="clean answer"))
    events, text, err = await collect(make_provider(spec))
    assert err is None and text == "clean answer" == final(events).text
    assert final(events).retries == 1 and len(fake.requests) == 2


@BOTH
async def test_dropped_connection_mid_stream(fake, make_provider, spec):
    fake.script(Reply(text="abcdefghijkl", chunk_size=4, drop_after=1))
    _, text, err = await collect(make_provider(spec))
    assert isinstance(err, E.InterruptedStreamError)
    assert err.partial_text == text == "abcd"
    assert err.cause is not None and err.cause.kind == "connection_dropped"
    assert "dropped" in err.one_line() and len(fake.requests) == 1


@BOTH
async def test_dropped_connection_before_text_is_retried(fake, make_provider, spec):
    fake.script(Reply(text="abcd", drop_after=0), Reply(text="second try"))
    events, text, err = await collect(make_provider(spec))
    assert err is None and text == "second try"
    assert [e.error.kind for e in events if isinstance(e, RetryScheduled)] == ["connection_dropped"]


@BOTH
async def test_stall_after_text_times_out_as_interrupted(fake, make_provider, spec):
    fake.script(Reply(text="abcdefgh", chunk_size=4, stall_after=1, stall_s=1.5))
    provider = make_provider(spec, timeouts=Timeouts(connect_s=2, first_token_s=5, stall_s=0.3))
    _, text, err = await collect(provider)
    # Had the deadline not fired, the stream would have resumed after 1.5 s and finished.
    assert isinstance(err, E.InterruptedStreamError) and err.partial_text == text == "abcd"
    assert isinstance(err.cause, E.ProviderTimeout) and err.cause.phase == "stall"
    assert "stalled for more than 0.3 s" in err.one_line()


@BOTH
async def test_first_token_timeout_is_retried_then_reported(fake, make_provider, spec):
    fake.script(*[Reply(text="late", first_token_delay_s=1.0)] * 2)
    provider = make_provider(
        spec, retry=RetryPolicy(retries=1, backoff_s=0.01), timeouts=Timeouts(connect_s=2, first_token_s=0.3, stall_s=2)
    )
    _events, text, err = await collect(provider)
    assert isinstance(err, E.ProviderTimeout) and err.phase == "first_token"
    assert err.retries == 1 and text == ""
    assert "no text within 0.3 s" in err.one_line()


@BOTH
async def test_empty_billed_reasoning_reply_is_diagnosed(fake, make_provider, spec):
    fake.script(empty_billed(reasoning_tokens=1024))
    events, text, err = await collect(make_provider(spec), Request.ask("hi", max_tokens=1024))
    assert err is None and text == ""
    response = final(events)
    assert response.cost_usd and response.cost_usd > 0, "the empty reply was billed"
    [check] = [c for c in response.checks if c.severity == "error"]
    param = "max_tokens" if spec.startswith("anthropic") else "max_completion_tokens"
    assert check.name == "reasoning_exhausted"
    assert f"Raise {param} (now 1024)" in check.diagnosis
    with pytest.raises(E.EmptyResponseError) as raised:
        raise_for_checks(response)
    assert raised.value.kind == "empty_response" and param in raised.value.one_line()


@pytest.mark.parametrize(
    ("code", "kind", "attempts"),
    [(400, "bad_request", 1), ("400", "bad_request", 1), (502, "server_error", 2), ("server_error", "server_error", 2)],
)
async def test_an_error_on_a_chunk_with_choices_is_read_as_an_error(fake, make_provider, code, kind, attempts):
    """OpenRouter puts a mid-stream error on an ordinary chunk, choices and all, with a
    numeric code: it is an error (as the openai SDK reads it), classified as that status."""
    fake.script(
        Reply(text="never shown", error_after=0, error_code=code, error_with_choices=True), Reply(text="the retry")
    )
    _, text, err = await collect(make_provider("openai:gpt-5.4-mini", retry=RetryPolicy(retries=1, backoff_s=0.01)))
    if attempts == 1:  # the caller's mistake: not retried, not sent elsewhere
        assert err is not None and err.kind == kind and text == ""
        assert err.status == 400 and "The server had an error" in err.one_line()
    else:  # the provider's fault: retried
        assert err is None and text == "the retry"
    assert len(fake.requests) == attempts


async def test_an_error_chunk_with_choices_after_text_interrupts_the_stream(fake, make_provider):
    fake.script(Reply(text="abcdefgh", chunk_size=4, error_after=1, error_code=400, error_with_choices=True))
    _, text, err = await collect(make_provider("openai:gpt-5.4-mini"))
    assert isinstance(err, E.InterruptedStreamError) and err.partial_text == text == "abcd"
    assert err.cause is not None and err.cause.kind == "bad_request"


@pytest.mark.parametrize(
    ("spec", "finish", "raw", "says"),
    [
        ("anthropic:claude-haiku-4-5", "none", None, "without a finish reason"),
        ("openai:gpt-5.4-mini", "none", None, "without a finish reason"),
        ("anthropic:claude-haiku-4-5", "pause_turn", "pause_turn", "paused the turn (pause_turn)"),
    ],
)
async def test_a_stream_that_never_says_it_finished_is_flagged(fake, make_provider, spec, finish, raw, says):
    fake.script(Reply(text="The first step is", finish=finish))
    events, text, err = await collect(make_provider(spec))
    response = final(events)
    assert err is None and text == response.text == "The first step is"
    assert (response.finish_reason, response.raw_finish_reason) == ("unknown", raw)
    [check] = response.checks
    assert (check.name, check.severity) == ("possibly_incomplete", "warning")
    assert says in check.message and "may be incomplete" in check.message


@BOTH
async def test_cache_reads_and_writes_are_reported_apart_from_input(fake, make_provider, spec):
    fake.script(Reply(text="cached", input_tokens=3000, cache_read_tokens=2048, cache_write_tokens=512))
    events, _, _ = await collect(make_provider(spec))
    usage = final(events).usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (3000, 2048, 512)


@BOTH
async def test_empty_billed_without_reasoning(fake, make_provider, spec):
    fake.script(Reply(text="", output_tokens=37))
    events, _, _ = await collect(make_provider(spec))
    assert [c.name for c in final(events).checks] == ["empty_billed"]


@BOTH
async def test_truncated_answer_is_a_warning(fake, make_provider, spec):
    fake.script(Reply(text="half an answ", finish="length"))
    events, _, _ = await collect(make_provider(spec))
    response = final(events)
    assert response.finish_reason == "length"
    assert [(c.name, c.severity) for c in response.checks] == [("truncated", "warning")]


async def test_null_content_with_finish_stop(fake, make_provider):
    fake.script(Reply(null_content=True, output_tokens=0))
    events, text, _ = await collect(make_provider("openai:gpt-5.4-mini"))
    response = final(events)
    assert text == "" and response.content_null
    assert [c.name for c in response.checks] == ["null_content"]


async def test_missing_usage_chunk_leaves_cost_unknown(fake, make_provider):
    fake.script(Reply(text="no usage here", usage=False))
    events, _, _ = await collect(make_provider("openai:gpt-5.4-mini"))
    response = final(events)
    assert response.usage.output_tokens is None and response.cost_usd is None
    assert [c.name for c in response.checks] == ["usage_missing"]


@BOTH
async def test_invalid_json_fails_the_schema_check(fake, make_provider, spec):
    from pydantic import BaseModel

    class Verdict(BaseModel):
        score: int
        summary: str

    fake.script(Reply(text='{"score": 7, "summary": '))
    events, _, _ = await collect(make_provider(spec), Request.ask("rate it", output_schema=Verdict))
    response = final(events)
    assert response.parsed is None
    [check] = response.checks
    assert check.name == "schema_invalid" and "not valid JSON" in check.message
    with pytest.raises(E.InvalidOutputError):
        raise_for_checks(response)


@BOTH
async def test_unreachable_endpoint_names_it(make_provider, provider_env, spec):
    from providers import build_provider

    env = {**provider_env, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    provider = build_provider(spec, env=env, retry=RetryPolicy(retries=1, backoff_s=0.01))
    _, _, err = await collect(provider)
    await provider.aclose()
    assert isinstance(err, E.UnreachableError) and err.retries == 1
    assert "cannot reach http://127.0.0.1:9" in err.one_line() and "connection refused" in err.one_line()


@BOTH
async def test_first_text_arrives_before_the_stream_ends(fake, make_provider, spec):
    """Streaming is real: the first delta is in hand long before the last one is sent (a
    word at a time: an unfinished word is held back until it ends, in case it is a key)."""
    fake.script(Reply(text="word " * 8, chunk_size=4, chunk_delay_s=0.05))
    first_at = None
    started = time.perf_counter()
    async for event in make_provider(spec).stream(Request.ask("go")):
        if isinstance(event, TextDelta) and first_at is None:
            first_at = time.perf_counter() - started
    total = time.perf_counter() - started
    assert first_at is not None and first_at < total - 0.3
