"""Fallback, cooldown and hedging around real providers talking to the fake server:
each decision is checked in the events, in what the server received, and in the final
response's `fallback_from`, `hedged` and `extra_cost_usd`."""

from __future__ import annotations

import time

import pytest

from providers import Completed, Request, RetryPolicy, TextDelta
from providers.errors import InterruptedStreamError, OverloadedError
from providers.health import CooldownPolicy, HealthRegistry
from providers.resilience import HedgePolicy, ResilientProvider, parse_hedge_after
from providers.types import CooldownSkipped, CooldownStarted, FallbackTaken, HedgeDecided, HedgeStarted, HedgeWithheld
from tests.fakeserver import Reply, overloaded, rate_limited

PRIMARY, BACKUP = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
NO_RETRY = RetryPolicy(retries=0)
ASK = Request.ask("what is the status?", max_tokens=64)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def sdks_imported():
    """The SDKs load lazily, on a provider's first call. Here a race between a slow primary
    and its backup is the point, and importing the backup's SDK inside the race took over a
    second on a loaded machine (the test was flaky when run on its own): import first."""
    import anthropic  # noqa: F401
    import openai  # noqa: F401


async def drain(provider) -> tuple[list, object]:
    events = [event async for event in provider.stream(ASK)]
    return events, next(e for e in events if isinstance(e, Completed)).response


def chain(make_provider, *, retry=NO_RETRY, **kw):
    registry = kw.pop("registry", HealthRegistry())
    return ResilientProvider(
        [make_provider(PRIMARY, retry=retry), make_provider(BACKUP, retry=retry)], registry=registry, **kw
    )


async def test_a_529_before_any_text_falls_back(fake, make_provider):
    fake.script(overloaded(), model="claude-haiku-4-5")
    fake.script(Reply(text="from the backup"), model="gpt-5.4-mini")
    events, response = await drain(chain(make_provider))
    taken = next(e for e in events if isinstance(e, FallbackTaken))
    assert (taken.failed, taken.next, type(taken.error)) == (PRIMARY, BACKUP, OverloadedError)
    assert response.text == "from the backup" and response.fallback_from == PRIMARY and not response.hedged
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5", "gpt-5.4-mini"]


async def test_nothing_is_replayed_once_text_was_shown(fake, make_provider):
    fake.script(Reply(text="the first half of an answer, then", chunk_size=5, error_after=3), model="claude-haiku-4-5")
    shown = []
    with pytest.raises(InterruptedStreamError) as caught:
        async for event in chain(make_provider).stream(ASK):
            if type(event) is TextDelta:
                shown.append(event.text)
    assert caught.value.partial_text == "".join(shown) == "the first half "
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5"]  # the backup was never asked


async def test_the_callers_own_mistake_is_not_sent_elsewhere(fake, make_provider):
    from tests.fakeserver import unauthorized

    fake.script(unauthorized(), model="claude-haiku-4-5")
    with pytest.raises(Exception) as caught:
        await drain(chain(make_provider))
    assert caught.value.kind == "authentication"
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5"]


async def test_retry_after_is_honoured_before_falling_back(fake, make_provider):
    fake.script(rate_limited(retry_after_ms=300), Reply(text="after waiting"), model="claude-haiku-4-5")
    started = time.perf_counter()
    events, response = await drain(chain(make_provider, retry=RetryPolicy(retries=1)))
    assert time.perf_counter() - started >= 0.3
    assert response.text == "after waiting" and response.retries == 1 and response.fallback_from is None
    assert not any(isinstance(e, FallbackTaken) for e in events)


async def test_cooldown_skips_a_failing_provider_then_lets_it_back(fake, make_provider):
    clock = Clock()
    registry = HealthRegistry(clock)
    resilient = chain(make_provider, registry=registry, cooldown=CooldownPolicy(failures=2, seconds=30))
    for _ in range(2):
        fake.script(overloaded(), model="claude-haiku-4-5")
        fake.script(Reply(text="backup"), model="gpt-5.4-mini")
        events, _ = await drain(resilient)
    assert any(isinstance(e, CooldownStarted) and e.spec == PRIMARY for e in events)
    fake.requests.clear()
    fake.script(Reply(text="backup again"), model="gpt-5.4-mini")
    events, response = await drain(resilient)
    skipped = next(e for e in events if isinstance(e, CooldownSkipped))
    assert skipped.spec == PRIMARY and skipped.seconds_left == 30
    assert [r.model for r in fake.requests] == ["gpt-5.4-mini"] and response.fallback_from == PRIMARY
    clock.now += 31  # the cooldown is over: the primary is asked again, and answers
    fake.script(Reply(text="primary is back"), model="claude-haiku-4-5")
    _, response = await drain(resilient)
    assert response.text == "primary is back" and response.spec == PRIMARY


async def test_a_hedge_fires_at_the_threshold_and_the_faster_stream_wins(fake, make_provider):
    fake.script(Reply(text="slow primary", first_token_delay_s=8.0), model="claude-haiku-4-5")
    fake.script(Reply(text="quick backup"), model="gpt-5.4-mini")
    started = time.perf_counter()
    events, response = await drain(chain(make_provider, hedge=HedgePolicy(after_s=0.2, budget=1.0)))
    took = time.perf_counter() - started
    fired = next(e for e in events if isinstance(e, HedgeStarted))
    decided = next(e for e in events if isinstance(e, HedgeDecided))
    assert (fired.primary, fired.hedge, fired.after_s) == (PRIMARY, BACKUP, 0.2)
    assert (decided.winner, decided.loser) == (BACKUP, PRIMARY)
    assert response.text == "quick backup" and response.hedged and response.spec == BACKUP
    # The loser had reported its input tokens when it was cancelled: its cost is known.
    assert decided.loser_cost_usd is not None and decided.loser_cost_usd > 0
    assert response.extra_cost_usd == decided.loser_cost_usd
    assert took < 8.0  # the slow primary's 8 s was not waited for (the backup wins in ~0.3 s)
    # Timed from when the caller asked: the 0.2 s before the hedge was sent count too.
    assert response.ttft_s is not None and 0.2 <= response.ttft_s <= response.total_s
    assert sorted(r.model for r in fake.requests) == ["claude-haiku-4-5", "gpt-5.4-mini"]
    texts = "".join(e.text for e in events if type(e) is TextDelta)
    assert texts == "quick backup"  # nothing of the loser reached the caller


async def test_no_hedge_when_the_primary_is_quick(fake, make_provider):
    fake.script(Reply(text="quick primary"), model="claude-haiku-4-5")
    events, response = await drain(chain(make_provider, hedge=HedgePolicy(after_s=1.0, budget=1.0)))
    assert response.text == "quick primary" and not response.hedged
    assert not any(isinstance(e, HedgeStarted) for e in events)
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5"]


async def test_the_hedge_budget_holds(fake, make_provider):
    resilient = chain(make_provider, hedge=HedgePolicy(after_s=0.05, budget=0.25))
    hedged = 0
    for _ in range(8):
        fake.script(Reply(text="slow", first_token_delay_s=0.3), model="claude-haiku-4-5")
        fake.script(Reply(text="fast"), model="gpt-5.4-mini")
        events, _ = await drain(resilient)
        hedged += any(isinstance(e, HedgeStarted) for e in events)
    assert hedged == 2  # a quarter of eight requests


async def test_an_explicit_hedge_fires_on_the_first_request_at_the_default_budget(fake, make_provider):
    fake.script(Reply(text="slow primary", first_token_delay_s=8.0), model="claude-haiku-4-5")
    fake.script(Reply(text="quick backup"), model="gpt-5.4-mini")
    events, response = await drain(chain(make_provider, hedge=HedgePolicy(after_s=0.2)))  # budget 5 %
    assert any(isinstance(e, HedgeStarted) for e in events)
    assert response.hedged and response.text == "quick backup"


async def test_a_hedge_the_budget_stops_is_announced_and_the_primary_is_waited_for(fake, make_provider):
    resilient = chain(make_provider, hedge=HedgePolicy(after_s=0.1, budget=0.05))
    fake.script(
        Reply(text="slow", first_token_delay_s=0.4),
        Reply(text="slow again", first_token_delay_s=0.4),
        model="claude-haiku-4-5",
    )
    fake.script(Reply(text="fast"), model="gpt-5.4-mini")
    events, response = await drain(resilient)
    assert response.hedged  # the first: the allowance the budget starts with
    events, response = await drain(resilient)  # the second: 5 % of one request is no hedge
    [withheld] = [e for e in events if isinstance(e, HedgeWithheld)]
    assert (withheld.primary, withheld.hedge, withheld.after_s, withheld.budget) == (PRIMARY, BACKUP, 0.1, 0.05)
    assert not any(isinstance(e, HedgeStarted) for e in events)
    assert response.text == "slow again" and not response.hedged
    assert [r.model for r in fake.requests].count("gpt-5.4-mini") == 1


def test_a_withheld_hedge_is_a_line_that_says_why_and_what_to_change():
    from app.render.text import route_event_line

    line = route_event_line(HedgeWithheld(PRIMARY, BACKUP, 0.5, 0.05))
    assert line == (
        f"no first token from {PRIMARY} after 0.5 s, but no hedge to {BACKUP}: the hedge budget "
        f"(5% of requests) is spent; waiting for {PRIMARY} (raise [resilience] hedge_budget to hedge "
        "more often)"
    )


async def test_a_zero_budget_never_hedges(fake, make_provider):
    fake.script(Reply(text="slow", first_token_delay_s=0.3), model="claude-haiku-4-5")
    events, response = await drain(chain(make_provider, hedge=HedgePolicy(after_s=0.05, budget=0.0)))
    assert any(isinstance(e, HedgeWithheld) for e in events) and not response.hedged
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5"]


async def test_p95_hedging_waits_for_data_then_uses_the_observed_percentile(fake, make_provider):
    registry = HealthRegistry()
    resilient = chain(make_provider, registry=registry, hedge=HedgePolicy(percentile=95, budget=1.0))
    fake.script(Reply(text="no data yet", first_token_delay_s=0.3), model="claude-haiku-4-5")
    events, _ = await drain(resilient)
    assert not any(isinstance(e, HedgeStarted) for e in events)  # fewer than 20 observations
    registry.seed(PRIMARY, [0.1] * 19 + [0.15] * 11)
    fake.script(Reply(text="slow", first_token_delay_s=0.8), model="claude-haiku-4-5")
    fake.script(Reply(text="fast"), model="gpt-5.4-mini")
    events, response = await drain(resilient)
    assert next(e for e in events if isinstance(e, HedgeStarted)).after_s == 0.15
    assert response.text == "fast"


async def test_a_primary_that_fails_after_the_hedge_started_leaves_the_hedge_to_answer(fake, make_provider):
    fake.script(Reply(text="x", first_token_delay_s=0.4, error_after=0), model="claude-haiku-4-5")
    fake.script(Reply(text="the hedge", first_token_delay_s=0.6), model="gpt-5.4-mini")
    events, response = await drain(chain(make_provider, hedge=HedgePolicy(after_s=0.1, budget=1.0)))
    assert any(isinstance(e, FallbackTaken) for e in events)
    assert response.text == "the hedge" and response.hedged and response.fallback_from == PRIMARY


@pytest.mark.parametrize(
    ("text", "after", "percentile"),
    [("p95", None, 95.0), ("p90", None, 90.0), ("2.5s", 2.5, 95.0), ("800ms", 0.8, 95.0), ("3", 3.0, 95.0)],
)
def test_hedge_after_parses(text, after, percentile):
    policy = parse_hedge_after(text)
    assert (policy.after_s, policy.percentile) == (after, percentile)


def test_hedge_after_off_and_nonsense():
    assert parse_hedge_after("off") is None
    with pytest.raises(ValueError, match="write off, p95"):
        parse_hedge_after("soon")


# --- as a user runs it: flags, routes, history -------------------------------------------------


def _show(run_cli, stderr: str) -> dict:
    import json

    run_id = stderr.split("recorded as ")[1].split()[0]
    return json.loads(run_cli("history", "show", run_id, "--format", "json").stdout)


def test_review_falls_back_and_history_keeps_both_calls(fake, run_cli):
    import json

    from tests.fake_reviews import keyed_review_text

    fake.script(overloaded(), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("quota_limiter.go")), model="gpt-5.4-mini")
    result = run_cli(
        "review",
        "sample_code/quota_limiter.go",
        "-p",
        PRIMARY,
        "--retries",
        "0",
        "--fallback",
        BACKUP,
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["fallback_from"] == PRIMARY and data["provider"] == "openai"  # who answered
    assert f"falling back from {PRIMARY} to {BACKUP}" in result.stderr
    calls = _show(run_cli, result.stderr)["calls"]
    assert [(c["role"], c["model"], c["status"]) for c in calls] == [
        ("candidate", "claude-haiku-4-5", "failed"),
        ("candidate-backup", "gpt-5.4-mini", "ok"),
    ]


def test_a_route_in_the_config_hedges_and_records_both_costs(fake, run_cli, tmp_path):
    import json

    from tests.conftest import write_private
    from tests.fake_reviews import keyed_review_text

    write_private(
        tmp_path / "config" / "config.toml",
        f'[routes]\nreview = {{ spec = "{PRIMARY}", fallback = ["{BACKUP}"], hedge_after = "300ms" }}\n'
        "[resilience]\nhedge_budget = 1.0\n",
    )
    fake.script(Reply(text=keyed_review_text("quota_limiter.go"), first_token_delay_s=2.0), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("quota_limiter.go", score=6)), model="gpt-5.4-mini")
    result = run_cli("review", "sample_code/quota_limiter.go", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["hedged"] is True and data["result"]["score"] == 6
    assert data["metrics"]["hedge_cost_usd"] > 0
    assert "hedging with openai:gpt-5.4-mini" in result.stderr and "streamed first" in result.stderr
    calls = {c["model"]: c for c in _show(run_cli, result.stderr)["calls"]}
    assert calls["claude-haiku-4-5"]["status"] == "cancelled" and calls["claude-haiku-4-5"]["cost_usd"] > 0
    run_id = result.stderr.split("recorded as ")[1].split()[0]
    assert "hedged: the first of two calls to stream answered" in run_cli("history", "show", run_id).stdout
    assert calls["gpt-5.4-mini"]["status"] == "ok" and calls["gpt-5.4-mini"]["cost_usd"] > 0


def test_hedge_after_on_the_command_line_fires_on_a_single_review(fake, run_cli):
    import json

    from tests.fake_reviews import keyed_review_text

    fake.script(Reply(text=keyed_review_text("quota_limiter.go"), first_token_delay_s=4.0), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("quota_limiter.go", score=6)), model="gpt-5.4-mini")
    result = run_cli(
        "review",
        "sample_code/quota_limiter.go",
        "-p",
        PRIMARY,
        "--fallback",
        BACKUP,
        "--hedge-after",
        "0.5s",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["hedged"] is True and data["result"]["score"] == 6  # the backup's answer
    assert f"after 0.5 s: hedging with {BACKUP}" in result.stderr
    calls = {c["model"]: c["status"] for c in _show(run_cli, result.stderr)["calls"]}
    assert calls == {"claude-haiku-4-5": "cancelled", "gpt-5.4-mini": "ok"}  # the slow primary was not waited for


def test_bench_says_when_the_budget_stopped_a_hedge(fake, run_cli):
    import json

    # The warm-up is quick; then two slow calls: the first is hedged (its hedge draws the
    # quick 0.01), the budget (5 % of requests) stops the second.
    slow_twice = [0.01, 0.6, 0.01, 0.6]
    fake.latency_profile("claude-haiku-4-5", slow_twice, Reply(text="An answer.", chunk_size=4))
    result = run_cli("bench", "latency", "-p", PRIMARY, "-n", "2", "--hedge-after", "200ms", "--format", "json")
    assert result.code == 0, result.stderr
    hedged = json.loads(result.stdout)["hedged"]
    assert (hedged["requests"], hedged["withheld_by_budget"]) == (1, 1)
    fake.latency_profile("claude-haiku-4-5", slow_twice)
    result = run_cli("bench", "latency", "-p", PRIMARY, "-n", "2", "--hedge-after", "200ms")
    assert result.code == 0, result.stderr
    assert "1 slow request(s) were not hedged: the hedge budget was spent" in result.stdout


def test_a_bad_hedge_flag_is_one_line(fake, run_cli):
    result = run_cli("review", "sample_code/quota_limiter.go", "-p", PRIMARY, "--hedge-after", "soon")
    assert result.code == 2 and "write off, p95, or a time" in result.stderr
    assert fake.requests == []


def test_bench_latency_prints_the_table_and_histogram_and_records_the_calls(fake, run_cli):
    import json

    from tests.fakeserver import heavy_tailed_delays

    fake.latency_profile(
        "claude-haiku-4-5",
        heavy_tailed_delays(80, scale=0.05),
        Reply(text="Check the dashboards, then the last deploy.", chunk_size=6),
    )
    result = run_cli("bench", "latency", "-p", PRIMARY, "-n", "30", "--concurrency", "5")
    assert result.code == 0, result.stderr
    assert "30 of 30 requests answered" in result.stdout and "time to first token" in result.stdout
    assert "p95 / median" in result.stdout and "Total time" in result.stdout and "█" in result.stdout
    run_id = result.stderr.split("recorded as ")[1].split()[0]
    run = json.loads(run_cli("history", "show", run_id, "--format", "json").stdout)
    assert run["task"] == "bench" and len(run["calls"]) == 31  # one untimed warm-up, then the thirty
    assert run["result"]["ttft"]["median"] > 0 and run["result"]["requests"] == 30


def test_bench_with_hedging_reports_the_hedge_share_and_extra_cost(fake, run_cli, tmp_path):
    import json

    from tests.conftest import write_private

    write_private(tmp_path / "config" / "config.toml", "[resilience]\nhedge_budget = 1.0\n")
    # One warm-up call, then: quick, quick, slow (hedged; the hedge draws the next delay), quick...
    fake.latency_profile("claude-haiku-4-5", [0.01] * 3 + [0.8] + [0.01] * 12, Reply(text="An answer.", chunk_size=4))
    result = run_cli("bench", "latency", "-p", PRIMARY, "-n", "6", "--hedge-after", "200ms", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["hedged"]["requests"] == 1 and data["hedged"]["extra_cost_usd"] is not None
    assert data["ttft"]["max"] < 0.6  # the 0.8 s call was overtaken by its hedge


def test_providers_shows_routes_and_health_from_history(fake, run_cli, tmp_path):
    import json

    from tests.conftest import write_private

    write_private(
        tmp_path / "config" / "config.toml",
        f'[routes]\nreview = {{ spec = "{PRIMARY}", fallback = ["{BACKUP}"] }}\n'
        '[resilience]\nhedge_after = "p95"\ncooldown_failures = 2\ncooldown_s = 600\n',
    )
    fake.script(Reply(text="fine"), overloaded(), overloaded(), model="claude-haiku-4-5")
    for _ in range(3):
        run_cli("ask", "-p", PRIMARY, "--retries", "0", "--hedge-after", "off", "hello")
    data = json.loads(run_cli("providers", "--no-check", "--format", "json").stdout)
    assert data["routes"]["review"] == {"spec": PRIMARY, "fallback": [BACKUP], "hedge_after": "p95"}
    health = {h["spec"]: h for h in data["health"]}[PRIMARY]
    assert (health["calls"], health["error_rate"], health["failures_in_a_row"]) == (3, 0.667, 2)
    assert health["state"].startswith("cooling down") and health["ttft_p50_ms"] is not None
    text = run_cli("providers", "--no-check").stdout
    assert "Routes" in text and "Health (recent calls in history)" in text and "cooling down" in text


def test_a_cooldown_carries_over_between_commands_through_history(fake, run_cli, tmp_path):
    from tests.conftest import write_private

    write_private(tmp_path / "config" / "config.toml", "[resilience]\ncooldown_failures = 2\ncooldown_s = 600\n")
    fake.script(overloaded(), overloaded(), model="claude-haiku-4-5")
    fake.script(Reply(text="one"), Reply(text="two"), Reply(text="three"), model="gpt-5.4-mini")
    for _ in range(2):
        assert run_cli("ask", "-p", PRIMARY, "--retries", "0", "--fallback", BACKUP, "hi").code == 0
    fake.requests.clear()
    result = run_cli("ask", "-p", PRIMARY, "--retries", "0", "--fallback", BACKUP, "hi")
    assert result.code == 0 and "three" in result.stdout
    assert f"skipping {PRIMARY}: cooling down" in result.stderr
    assert [r.model for r in fake.requests] == ["gpt-5.4-mini"]  # the primary was not asked at all
