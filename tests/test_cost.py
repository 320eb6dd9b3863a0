"""Cost at scale: prompts laid out for the providers' caches, cache reads and writes
counted and priced, and what caching saved — against the fake server's caches, which
behave as the real ones do (Anthropic: marked prefixes; OpenAI: long shared prefixes)."""

from __future__ import annotations

import json

import pytest

from providers.pricing import cache_saving_usd, cost_usd, list_price
from providers.types import Usage
from tests.fake_reviews import keyed_review
from tests.fakeserver import Reply

SAMPLE = "inventory_service.py"  # its review prompt is over 1,024 tokens: long enough to cache
HAIKU, MINI = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"


def _expected_cost(spec: str, metrics: dict, *, read_rate: float, write_rate: float) -> float:
    """The cost from the list prices and the providers' published cache multipliers."""
    price = list_price(*spec.split(":"))
    assert price is not None
    inp, out = metrics["input_tokens"], metrics["output_tokens"]
    read, written = metrics["cache_read_tokens"] or 0, metrics["cache_write_tokens"] or 0
    plain = inp - read - written
    return (
        plain * price.input_per_mtok
        + read * price.input_per_mtok * read_rate
        + written * price.input_per_mtok * write_rate
        + out * price.output_per_mtok
    ) / 1e6


def test_compare_repeat_reads_the_shared_prefix_from_the_cache_on_every_later_run(fake, run_cli):
    answer = json.dumps(keyed_review(SAMPLE, score=5))
    fake.script(*[Reply(text=answer) for _ in range(5)], model="claude-haiku-4-5")
    fake.script(*[Reply(text=answer) for _ in range(5)], model="gpt-5.4-mini")
    result = run_cli("compare", f"sample_code/{SAMPLE}", "-a", HAIKU, "-b", MINI, "--repeat", "5", "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)

    # Anthropic: the system prompt and the stable prefix (here the whole message) are marked.
    sent = [r for r in fake.requests if r.api == "anthropic"]
    assert len(sent) == 5
    for request in sent:
        assert request.body["system"][-1]["cache_control"] == {"type": "ephemeral"}
        blocks = request.body["messages"][0]["content"]
        assert blocks[0]["cache_control"] == {"type": "ephemeral"}
        assert sum(1 for b in [*request.body["system"], *blocks] if "cache_control" in b) <= 4
    assert len({r.message_text(0) for r in sent}) == 1  # every repeat resends the same prefix
    # OpenAI: one prompt_cache_key for all of them, naming the prefix without carrying it.
    keys = {r.body.get("prompt_cache_key") for r in fake.requests if r.api == "openai"}
    assert len(keys) == 1 and None not in keys and "inventory" not in next(iter(keys))

    runs_a, runs_b = report["runs"]["a"], report["runs"]["b"]
    first_a, first_b = runs_a[0]["metrics"], runs_b[0]["metrics"]
    assert first_a["cache_read_tokens"] == 0 and first_a["cache_write_tokens"] > 1024
    assert first_b["cache_read_tokens"] == 0
    assert first_a["cost_usd"] == pytest.approx(_expected_cost(HAIKU, first_a, read_rate=0.1, write_rate=1.25))
    assert first_a["cache_saved_usd"] < 0  # the write premium, repaid by the reads that follow
    for run_a, run_b in zip(runs_a[1:], runs_b[1:], strict=True):
        a, b = run_a["metrics"], run_b["metrics"]
        assert a["cache_read_tokens"] == first_a["cache_write_tokens"] and a["cache_write_tokens"] == 0
        assert b["cache_read_tokens"] >= 1024 and b["cache_read_tokens"] % 128 == 0
        assert a["cost_usd"] == pytest.approx(_expected_cost(HAIKU, a, read_rate=0.1, write_rate=1.25))
        assert b["cost_usd"] == pytest.approx(_expected_cost(MINI, b, read_rate=0.1, write_rate=1.0))
        assert a["cache_saved_usd"] == pytest.approx(a["cache_read_tokens"] * 0.9 * 1.0 / 1e6)
        assert b["cache_saved_usd"] == pytest.approx(b["cache_read_tokens"] * 0.9 * 0.75 / 1e6)
    # The report adds it all up per side and says it in words.
    spend_a = report["spend"]["a"]
    assert spend_a["calls"] == 5 and spend_a["cache_read_tokens"] == 4 * first_a["cache_write_tokens"]
    assert spend_a["cost_usd"] == pytest.approx(sum(r["metrics"]["cost_usd"] for r in runs_a))
    assert spend_a["cache_saved_usd"] == pytest.approx(sum(r["metrics"]["cache_saved_usd"] for r in runs_a))
    assert spend_a["cache_saved_usd"] > 0

    text = run_cli("compare", f"sample_code/{SAMPLE}", "-a", HAIKU, "-b", MINI, "--repeat", "2", "--format", "text")
    assert text.code == 0, text.stderr
    assert "spent (all runs, judges included): A $" in text.stdout and "(cache read " in text.stdout


def test_the_metrics_line_says_what_the_cache_read_and_saved(fake, run_cli):
    fake.script(Reply(text="ok", input_tokens=3000, output_tokens=5, cache_read_tokens=2048))
    result = run_cli("ask", "-p", HAIKU, "hi")
    assert result.code == 0, result.stderr
    saved = 2048 * 0.9 * 1.0 / 1e6  # Haiku: $1 per million input tokens, reads at a tenth of it
    assert f"cache read 2,048 (saved ${saved:.6f})" in result.stderr + result.stdout


def test_a_repeated_triage_and_its_judges_share_cacheable_prefixes(fake, run_cli):
    """The marker tag around the incident is the same on every call of a run, so repeats
    resend one prefix; a judge's prompt is stable up to the answer it grades."""
    from app.triage.judge import judge_request
    from app.triage.task import triage_request

    incident = "checkout latency p99 went from 300 ms to 9 s at 14:02\n" * 40
    first, second = (triage_request(incident, "active", {}, max_tokens=100) for _ in range(2))
    assert first.messages == second.messages and first.stable_prefix == len(first.messages[0].content)
    one, other = (judge_request(incident, answer, "restart nothing", "active") for answer in ("A1", "A2"))
    cut = one.stable_prefix
    assert cut is not None and one.messages[0].content[:cut] == other.messages[0].content[:cut]
    assert (
        "A1" not in one.messages[0].content[:cut] and one.messages[0].content[cut:] != other.messages[0].content[cut:]
    )


def test_a_chunked_review_shares_the_header_and_outline_but_not_the_scope():
    from app.review.prompt import review_request
    from app.source.model import load_source

    text = "".join(f"def f{n}(x):\n    return x + {n}\n\n" for n in range(400))
    source = load_source("big.py", text)
    chunks = source.chunks(1500)
    assert len(chunks) > 1
    first, second = (review_request(source, c, len(chunks), max_tokens=100) for c in chunks[:2])
    cut = first.stable_prefix
    assert cut == second.stable_prefix and first.messages[0].content[:cut] == second.messages[0].content[:cut]
    assert "Outline of the whole file" in first.messages[0].content[:cut]
    assert "part 1 of" not in first.messages[0].content[:cut]


def test_cache_saving_is_priced_by_genai_prices_and_never_a_silent_zero():
    usage = Usage(input_tokens=10_000, output_tokens=100, cache_read_tokens=8_000)
    actual = cost_usd("anthropic", "claude-haiku-4-5", usage)
    assert actual is not None
    assert cache_saving_usd("anthropic", "claude-haiku-4-5", usage, actual) == pytest.approx(8_000 * 0.9 / 1e6)
    assert cache_saving_usd(None, "mystery", usage, None) is None  # unknown price: unknown saving
    plain = Usage(input_tokens=10, output_tokens=1)
    assert (
        cache_saving_usd("anthropic", "claude-haiku-4-5", plain, cost_usd("anthropic", "claude-haiku-4-5", plain)) == 0
    )


async def test_openai_gets_a_prompt_cache_key_and_a_compatible_endpoint_does_not(fake, make_provider):
    from providers import Request
    from providers.spec import Endpoint

    request = Request.ask("hello there", system="be brief", stable_prefix=5)
    lab = Endpoint(name="lab", base_url=fake.openai_base_url)
    for provider in (make_provider("openai:gpt-5.4-mini"), make_provider("lab:some-model", endpoints={"lab": lab})):
        await provider.complete(request)
    openai_body, lab_body = (r.body for r in fake.requests)
    assert openai_body["prompt_cache_key"].startswith("driftcheck-")
    assert "prompt_cache_key" not in lab_body  # a compatible server may refuse what it does not know
    await make_provider("openai:gpt-5.4-mini").complete(Request.ask("hello there", system="be brief"))
    assert "prompt_cache_key" not in fake.requests[-1].body  # no stable prefix promised: no key


def test_a_one_off_review_marks_nothing_and_pays_no_cache_write(fake, run_cli):
    """A cache write costs 1.25x at Anthropic: only a command that resends the prefix
    (repeats, evals) marks it, so a single review costs what it did before."""
    fake.script(Reply(text=json.dumps(keyed_review(SAMPLE, score=5))))
    result = run_cli("review", f"sample_code/{SAMPLE}", "-p", HAIKU, "--format", "json")
    assert result.code == 0, result.stderr
    [request] = fake.requests
    assert "cache_control" not in json.dumps(request.body)
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["cache_write_tokens"] == 0 and metrics["cache_saved_usd"] == 0


def test_compare_and_review_repeat_with_batch_send_their_runs_as_one_batch(fake, run_cli):
    answer = json.dumps(keyed_review(SAMPLE, score=5))
    fake.script(*[Reply(text=answer) for _ in range(5)], model="claude-haiku-4-5")
    fake.script(*[Reply(text=answer) for _ in range(5)], model="gpt-5.4-mini")
    args = ("compare", f"sample_code/{SAMPLE}", "-a", HAIKU, "-b", MINI, "--repeat", "5", "--format", "json")
    result = run_cli(*args, "--batch")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [len(b.outcomes) for b in fake.batches.batches.values()] == [5, 5]  # one per side
    assert not any(r.path.endswith(("/messages", "/chat/completions")) for r in fake.requests)
    runs = report["runs"]["a"] + report["runs"]["b"]
    assert all(r["status"] == "ok" and r["metrics"]["batch"] for r in runs)
    assert report["noise"]["runs"] == {"a": 5, "b": 5, "ok_a": 5, "ok_b": 5}
    # Each run's time is its batch's turnaround, labelled, and no live latency is compared.
    assert all(r["metrics"]["latency_ms"] is None and r["metrics"]["batch_turnaround_ms"] >= 0 for r in runs)
    timings = report["drift"]["metrics"]
    assert timings["latency_ms"]["ratio_b_to_a"] is None and timings["batch_turnaround_ms"]["a"] is not None
    assert "A and B answered through a batch API" in timings["note"] and "not a live latency" in timings["note"]
    assert "done (batch turnaround " in result.stderr and "done in 0.0 s" not in result.stderr
    text = run_cli("history", "show", result.stderr.split("recorded as ", 1)[1].split()[0])
    assert text.code == 0 and "total ?" in text.stdout  # history keeps no live time for a batched call
    # Priced at the batch rate: half of what the same tokens cost live.
    for run in runs:
        m = run["metrics"]
        spec = HAIKU if run in report["runs"]["a"] else MINI
        usage = Usage(m["input_tokens"], m["output_tokens"], None, m["cache_read_tokens"], m["cache_write_tokens"])
        live = cost_usd(spec.split(":")[0], spec.split(":")[1], usage)
        assert m["cost_usd"] == pytest.approx(live / 2)

    # review --repeat N --batch: the same executor, its N runs in one batch.
    fake.reset()
    fake.script(*[Reply(text=answer) for _ in range(3)], model="claude-haiku-4-5")
    review_args = ("review", f"sample_code/{SAMPLE}", "-p", HAIKU, "--repeat", "3", "--batch", "--format", "json")
    review = run_cli(*review_args)
    assert review.code == 0, review.stderr
    assert [len(b.outcomes) for b in fake.batches.batches.values()] == [3]
    assert not any(r.path.endswith("/messages") for r in fake.requests)
    record = json.loads(review.stdout)
    assert record["stability"]["finished"] == 3 and all(r["metrics"]["batch"] for r in record["runs"])
    single = run_cli("review", f"sample_code/{SAMPLE}", "-p", HAIKU, "--batch", "--format", "json")
    assert single.code == 2 and "add --repeat" in single.stderr and single.stderr.count("\n") == 1
    # --batch-retry batch: the runs of a batch that expired go to a new batch, not live.
    fake.reset()
    fake.batch_expires = True
    fake.script(*[Reply(text=answer) for _ in range(3)], model="claude-haiku-4-5")
    again = run_cli(*review_args, "--batch-retry", "batch")
    assert again.code == 0, again.stderr
    assert [b.expires for b in fake.batches.batches.values()] == [True, False]
    assert not any(r.path.endswith("/messages") for r in fake.requests)


async def test_the_tui_metrics_bar_says_what_the_cache_read_and_saved():
    from textual.app import App, ComposeResult

    from app.tui.widgets import MetricsBar

    class Bar(App[None]):
        def compose(self) -> ComposeResult:
            yield MetricsBar("")

    metrics = {"input_tokens": 3000, "output_tokens": 5, "cost_usd": 0.001, "cache_read_tokens": 2048}
    async with Bar().run_test(size=(120, 5)) as pilot:
        bar = pilot.app.query_one(MetricsBar)
        bar.show_metrics(HAIKU, {**metrics, "cache_write_tokens": 0, "cache_saved_usd": 0.0018432}, "ok")
        await pilot.pause()
        assert "cache read 2,048 (saved $0.001843)" in str(bar.render())
        bar.show_metrics(HAIKU, {**metrics, "cache_read_tokens": 0, "cache_saved_usd": 0.0}, "ok")
        await pilot.pause()
        assert "cache" not in str(bar.render())
