"""The providers' batch APIs through the real SDKs, against the fake server's Message
Batches (Anthropic) and Files + Batches (OpenAI): submit, poll, results, cancel, list,
per-item errors and expiry, every result converted, checked and priced at the batch rate."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import jsonschema
import pytest

from app.cli.schema import schema_of
from providers import Request
from providers.batch import BatchItem, has_batch_api
from providers.errors import ProviderError
from providers.pricing import cost_usd
from providers.spec import Endpoint
from tests.fake_batches import created
from tests.fake_reviews import keyed_review
from tests.fakeserver import HttpError, Reply

SPECS = ("anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini")


async def _until_ended(provider, batch_id: str):
    for _ in range(200):
        status = await provider.poll_batch(batch_id)
        if status.ended:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError("the batch never ended")


@pytest.mark.parametrize("spec", SPECS)
async def test_a_batch_is_submitted_polled_and_collected_at_the_batch_price(fake, make_provider, spec):
    provider = make_provider(spec)
    model = spec.split(":")[1]
    fake.batch_processing_s = 0.2
    fake.script(
        Reply(text="first answer", input_tokens=400, output_tokens=20),
        Reply(text="second answer", input_tokens=500, output_tokens=30),
        model=model,
    )
    requests = {f"item-{n}": Request.ask(f"question {n}") for n in range(2)}
    status = await provider.submit_batch([BatchItem(cid, r) for cid, r in requests.items()])
    assert not status.ended and status.counts["processing"] == 2 and status.provider == spec
    assert created(fake, spec.split(":")[0]) == [status.id]

    done = await _until_ended(provider, status.id)
    assert done.counts["succeeded"] == 2 and done.counts["processing"] == 0
    outcomes = {o.custom_id: o for o in await provider.batch_results(status.id, requests)}
    assert {cid: o.response.text for cid, o in outcomes.items()} == {
        "item-0": "first answer",
        "item-1": "second answer",
    }
    first = outcomes["item-0"].response
    assert first.batch and first.finish_reason == "stop" and first.usage.input_tokens == 400
    assert first.cost_usd == pytest.approx(cost_usd(provider.price_provider, model, first.usage) / 2)
    from app.calls.metrics import metrics_dict, metrics_line

    assert metrics_dict(first)["batch"] is True and "batch price" in metrics_line(first)
    # Nothing was timed live: no latency figure, and the line says so.
    assert metrics_dict(first)["latency_ms"] is None and metrics_dict(first)["ttft_ms"] is None
    assert "not a live latency" in metrics_line(first) and "first token" not in metrics_line(first)
    assert [b.id for b in await provider.list_batches()] == [status.id]


@pytest.mark.parametrize("spec", SPECS)
async def test_per_item_errors_are_classified_and_an_expired_batch_leaves_nothing_lost(fake, make_provider, spec):
    provider = make_provider(spec)
    model = spec.split(":")[1]
    fake.script(Reply(text="fine"), HttpError(400, "prompt is too long: 300000 tokens > 200000 maximum"), model=model)
    requests = {"ok": Request.ask("a"), "bad": Request.ask("b")}
    status = await provider.submit_batch([BatchItem(cid, r) for cid, r in requests.items()])
    await _until_ended(provider, status.id)
    outcomes = {o.custom_id: o for o in await provider.batch_results(status.id, requests)}
    assert outcomes["ok"].state == "succeeded" and outcomes["ok"].response.text == "fine"
    bad = outcomes["bad"]
    assert bad.state == "errored" and isinstance(bad.error, ProviderError) and bad.response is None
    assert bad.error.kind == "context_too_long" and not bad.retryable

    fake.batch_expires = True
    expired = await provider.submit_batch([BatchItem(cid, r) for cid, r in requests.items()])
    ended = await _until_ended(provider, expired.id)
    assert ended.counts["expired"] == 2
    outcomes = await provider.batch_results(expired.id, requests)
    assert sorted(o.custom_id for o in outcomes) == ["bad", "ok"]
    assert all(o.state == "expired" and o.retryable for o in outcomes)


@pytest.mark.parametrize("spec", SPECS)
async def test_a_batch_in_progress_can_be_cancelled(fake, make_provider, spec):
    provider = make_provider(spec)
    fake.batch_processing_s = 30
    requests = {"only": Request.ask("slow")}
    status = await provider.submit_batch([BatchItem("only", requests["only"])])
    cancelled = await provider.cancel_batch(status.id)
    assert cancelled.ended and cancelled.counts["canceled"] == 1
    [outcome] = await provider.batch_results(status.id, requests)
    assert outcome.state == "canceled" and outcome.retryable


@pytest.mark.parametrize("spec", SPECS)
async def test_an_unknown_batch_id_is_one_clear_error(fake, make_provider, spec):
    with pytest.raises(ProviderError) as caught:
        await make_provider(spec).poll_batch("batch_doesnotexist")
    assert caught.value.status == 404


async def test_structured_output_in_a_batch_is_validated_like_a_streamed_answer(fake, make_provider):
    from pydantic import BaseModel

    class Verdict(BaseModel):
        ok: bool

    provider = make_provider("anthropic:claude-haiku-4-5")
    fake.script(Reply(text='{"ok": true}'), Reply(text="not json"))
    requests = {"good": Request.ask("a", output_schema=Verdict), "broken": Request.ask("b", output_schema=Verdict)}
    status = await provider.submit_batch([BatchItem(cid, r) for cid, r in requests.items()])
    await _until_ended(provider, status.id)
    sent = next(r for r in fake.requests if r.path.endswith("/messages/batches"))
    assert sent.body["requests"][0]["params"]["output_config"]["format"]["type"] == "json_schema"
    assert "stream" not in sent.body["requests"][0]["params"]
    outcomes = {o.custom_id: o for o in await provider.batch_results(status.id, requests)}
    assert outcomes["good"].response.parsed == Verdict(ok=True)
    assert any(c.name == "schema_invalid" for c in outcomes["broken"].response.checks)


async def test_an_api_key_echoed_in_a_batch_result_is_scrubbed(fake, make_provider):
    from tests.conftest import CANARY_OPENAI
    from tests.fakeserver import ECHO_KEY

    provider = make_provider("openai:gpt-5.4-mini")
    fake.script(Reply(text=f"your key is {ECHO_KEY}"))
    requests = {"leak": Request.ask("a")}
    status = await provider.submit_batch([BatchItem("leak", requests["leak"])])
    await _until_ended(provider, status.id)
    [outcome] = await provider.batch_results(status.id, requests)
    assert CANARY_OPENAI not in outcome.response.text and CANARY_OPENAI not in json.dumps(outcome.response.text)


def test_only_the_providers_own_apis_have_a_batch_api(fake, make_provider):
    lab = Endpoint(name="lab", base_url=fake.openai_base_url)
    assert has_batch_api(make_provider("anthropic:claude-haiku-4-5"))
    assert has_batch_api(make_provider("openai:gpt-5.4-mini"))
    assert not has_batch_api(make_provider("lab:some-model", endpoints={"lab": lab}))


# --- eval --batch ------------------------------------------------------------------------------

from tests import fake_eval  # noqa: E402
from tests.test_eval import ANSWERS, EVAL, GRADES, NO_CACHE, _comparable  # noqa: E402


def test_an_eval_with_batch_gives_the_live_report_at_half_the_price(fake, run_cli):
    fake.cache_min_tokens = NO_CACHE  # the comparison is of prices, not of cache luck
    fake_eval.script(fake)
    live = run_cli(*EVAL, "--format", "json", timeout=180)
    assert live.code == 0, live.stderr
    fake.reset()
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake)
    batched = run_cli(*EVAL, "--batch", "--format", "json", timeout=180)
    assert batched.code == 0, batched.stderr
    # One batch per provider and round (answers, then grades) — per model at OpenAI, whose
    # batches take one model each — and no live call.
    streamed = [r for r in fake.requests if r.path.endswith(("/messages", "/chat/completions"))]
    assert streamed == [] and _batches_by_api(fake) == {"anthropic": 2, "openai": 3}
    first = next(iter(fake.batches.batches.values()))  # Haiku's and Sonnet's answers, together
    assert first.api == "anthropic" and len(first.outcomes) == 2 * len(fake_eval.INCIDENTS)
    assert sum(len(b.outcomes) for b in fake.batches.batches.values()) == ANSWERS + GRADES
    live_report, batch_report = json.loads(live.stdout), json.loads(batched.stdout)
    assert batch_report["cost_usd"]["total"] == pytest.approx(live_report["cost_usd"]["total"] / 2, rel=1e-3)
    # A batched answer's time is the batch's turnaround, apart: never a live latency.
    for row in (row for task in batch_report["tasks"] for row in task["models"]):
        assert row["latency_ms"]["median"] is None and row["ttft_ms"]["median"] is None
        assert row["batch_turnaround_ms"]["median"] >= 0
    assert all("batch_turnaround_ms" not in row for task in live_report["tasks"] for row in task["models"])
    from app.render.eval_html import eval_html

    page = eval_html(batch_report)  # no latency plot of batched answers; their turnaround, said apart
    assert "No answer finished live" in page and "answered through a batch API; batch turnaround" in page

    def without_costs_or_times(report: dict) -> dict:
        data = _comparable(report)
        data.pop("cost_usd")
        for task in data["tasks"]:
            for row in task["models"]:
                for key in [k for k in row if "cost" in k or k in ("ttft_ms", "latency_ms", "batch_turnaround_ms")]:
                    row.pop(key)
            task.pop("recommendation")  # it weighs cost, which halved for every model alike
        return data

    assert without_costs_or_times(batch_report) == without_costs_or_times(live_report)
    assert "batch " in batched.stderr and "ended" in batched.stderr
    assert f"({fake_eval.HAIKU}, {fake_eval.SONNET}): ended" in batched.stderr  # one batch, both models
    assert "· batch turnaround " in batched.stderr and " · 0.0 s · " not in batched.stderr  # each cell's line


def test_a_provider_without_a_batch_api_runs_live_in_a_batch_eval(fake, run_cli, cli_env):
    from tests.conftest import write_private

    config = Path(cli_env["DRIFTCHECK_CONFIG_DIR"]) / "config.toml"
    write_private(config, f'[endpoints.lab]\nbase_url = "{fake.openai_base_url}"\napi_key_env = "OPENAI_API_KEY"\n')
    fake_eval.script(fake)
    models = "lab:gpt-5.4-mini,anthropic:claude-haiku-4-5"
    judge = "anthropic:claude-sonnet-4-6"
    result = run_cli("eval", "--models", models, "--judges", judge, "--batch", "--format", "json", timeout=180)
    assert "lab:gpt-5.4-mini has no batch API: its calls run live" in result.stderr, result.stderr
    assert any(r.path.endswith("/chat/completions") for r in fake.requests)  # lab, live
    assert any(r.path.endswith("/messages/batches") for r in fake.requests)  # haiku, batched
    assert not any(r.path.endswith("/v1/batches") for r in fake.requests)


#: The answers' batches of EVAL: one for both Anthropic models, one per OpenAI model.
ANSWER_BATCHES = 3


def _batches_by_api(fake) -> dict[str, int]:
    """How many batches were created through each API (one create each)."""
    counts: dict[str, int] = {}
    for batch in fake.batches.batches.values():
        counts[batch.api] = counts.get(batch.api, 0) + 1
    return counts


def _killed_batch_eval(fake, cli_env, *args: str, batches: int = 1) -> tuple[str, list[str]]:
    """Start a --batch eval in a real process, SIGKILL it once `batches` of its answers'
    batches are in history, and return its run id and their batch ids."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    fake.batch_processing_s = 3600
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args, "--batch", "--format", "json"],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db"
    deadline, stored = time.monotonic() + 90, []
    while time.monotonic() < deadline and len(stored) < batches:
        time.sleep(0.1)
        if db.exists():
            with sqlite3.connect(db) as conn, contextlib.suppress(sqlite3.OperationalError):  # not created yet
                stored = conn.execute("SELECT run_id, data_json FROM run_parts WHERE key LIKE 'batch:%'").fetchall()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert stored, "no batch reached history"
    return stored[0][0], [json.loads(data)["id"] for _, data in stored]


def _script_compare(fake) -> tuple[str, ...]:
    """A compare --repeat 3 of two Anthropic models: all six runs go in one Message Batch."""
    answer = json.dumps(keyed_review("inventory_service.py", score=5))
    for model in ("claude-haiku-4-5", "claude-sonnet-4-6"):
        fake.script(*[Reply(text=answer) for _ in range(3)], model=model)
    return (
        "compare",
        "sample_code/inventory_service.py",
        "-a",
        fake_eval.HAIKU,
        "-b",
        fake_eval.SONNET,
        "--repeat",
        "3",
    )


REVIEW_REPEAT = ("review", "sample_code/inventory_service.py", "-p", fake_eval.HAIKU, "--repeat", "3", "--no-tui")


def _script_review(fake) -> None:
    """Three runs of one review, each answered alike: in one batch with --batch."""
    fake.script(*[Reply(text=json.dumps(keyed_review("inventory_service.py", score=5))) for _ in range(3)])


def _same_answers(review: dict) -> dict:
    """A review --repeat's JSON without what differs between a batched and a live run of the
    same answers: timings, prices, the batch's own figures, the provider's id for the call."""
    runs = [{k: v for k, v in r.items() if k != "metrics"} for r in review["runs"]]
    for run in runs:
        run["provenance"] = {k: v for k, v in run["provenance"].items() if k not in ("request_id", "service_tier")}
    return {"runs": runs, "stability": review["stability"]}


@pytest.mark.parametrize("command", ["eval", "compare", "review"])
def test_a_killed_batch_run_resumes_by_collecting_its_batches_not_resending_them(
    fake, run_cli, cli_env, command, tmp_path
):
    """A real process: SIGKILL after the batches were submitted is the point. An eval, a
    compare --batch and a review --repeat N --batch are resumed by `history resume ID`,
    which passes on the options that fit the run and refuses the others in one line."""
    import sqlite3

    fake.cache_min_tokens = NO_CACHE
    if command == "eval":
        fake_eval.script(fake)
        args, batches = EVAL, ANSWER_BATCHES
    elif command == "compare":
        args, batches = _script_compare(fake), 1
    else:
        _script_review(fake)
        args, batches = REVIEW_REPEAT, 1
    run_id, ids = _killed_batch_eval(fake, cli_env, *args, batches=batches)
    submitted = dict(fake.batches.batches)
    assert sorted(submitted) == sorted(ids) and len(ids) == batches
    listed = json.loads(run_cli("batches", "--format", "json").stdout)["batches"]
    assert sorted(row["batch_id"] for row in listed) == sorted(ids) and {row["run_id"] for row in listed} == {run_id}
    if command != "eval":  # every run (both models' for a compare) in one batch; history says how to carry on
        assert [len(b.outcomes) for b in submitted.values()] == [6 if command == "compare" else 3]
        assert f"driftcheck history resume {run_id}" in run_cli("history", "show", run_id).stdout
    refused = {  # what does not fit this run, or history resume at all: one line each, nothing run
        "eval": [("--format", "sarif"), ("--repeat", "2")],
        "compare": [("--budget", "5"), ("--out", str(tmp_path / "x")), ("--retry-failed",)],
        "review": [("--budget", "5"), ("--format", "html"), ("--models", "x")],
    }[command]
    for options in refused:
        bad = run_cli("history", "resume", run_id, *options)
        assert bad.code == 2 and bad.stderr.count("\n") == 1 and options[0] in bad.stderr, bad.stderr
    assert list(fake.batches.batches) == list(submitted)

    for batch in submitted.values():  # the provider finishes the work while nobody watches
        batch.ready_at = 0.0
    fake.batch_processing_s = 0.0
    out = tmp_path / "resumed.json"
    passed = ("--out", str(out), "--batch-retry", "live") if command != "compare" else ("--batch-retry", "batch")
    resumed = run_cli("history", "resume", run_id, *passed, "--format", "json", timeout=180)
    assert resumed.code == 0, resumed.stderr
    assert f"resuming {command} {run_id} (interrupted, {batches} batch(es) to collect)" in resumed.stderr
    assert "submitted before the resume" in resumed.stderr
    assert not any(r.path.endswith(("/messages", "/chat/completions")) for r in fake.requests)
    assert list(fake.batches.batches)[: len(submitted)] == list(submitted)
    if command != "eval":  # the request log: one create (before the kill), none from the resume
        assert len([r for r in fake.requests if r.path.endswith("/messages/batches")]) == 1
    report = json.loads(resumed.stdout if command == "compare" else out.read_text())
    if command == "review":  # nothing sent again, and the same output as a live review of the same answers
        assert list(fake.batches.batches) == list(submitted)
        assert all(r["metrics"]["batch"] for r in report["runs"])
        _script_review(fake)
        from tests.conftest import ROOT

        where = str(ROOT / REVIEW_REPEAT[1])  # as the resume runs it: the path the review kept, absolute
        live = run_cli(*REVIEW_REPEAT[:1], where, *REVIEW_REPEAT[2:], "--format", "json", "--no-history")
        assert live.code == 0, live.stderr
        assert _same_answers(report) == _same_answers(json.loads(live.stdout))
    elif command == "eval":
        # One create per provider for the answers (before the kill), then the grades'.
        assert _batches_by_api(fake) == {"anthropic": 2, "openai": 3}
        assert report["status"] == "ok" and report["cells"]["done"] == ANSWERS
    else:  # nothing sent again: the one batch of both sides' runs was collected
        assert list(fake.batches.batches) == list(submitted)
        assert report["noise"]["runs"] == {"a": 3, "b": 3, "ok_a": 3, "ok_b": 3}
        assert all(r["metrics"]["batch"] for side in ("a", "b") for r in report["runs"][side])
    with sqlite3.connect(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db") as conn:
        states = [
            json.loads(d)["state"] for (d,) in conn.execute("SELECT data_json FROM run_parts WHERE key LIKE 'batch:%'")
        ]
        status = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    assert states and all(s == "collected" for s in states) and status == "ok"
    again = run_cli("history", "resume", run_id)  # finished now: nothing to resume
    assert again.code == 2 and again.stderr.count("\n") == 1 and "finished (ok): nothing to resume" in again.stderr


def test_expired_and_failed_items_of_a_batch_eval_are_run_again_never_lost(fake, run_cli):
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake)
    fake.batch_expires = True  # the first batch to be created expires with nothing done
    models, judge = "anthropic:claude-haiku-4-5", "anthropic:claude-sonnet-4-6"
    result = run_cli("eval", "--models", models, "--judges", judge, "--batch", "--format", "json", timeout=180)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cells"]["done"] == report["cells"]["expected"] and report["cells"]["failed"] == 0
    # Every answer was asked again live, after the batch expired (the grades' batch did not).
    assert len([r for r in fake.requests if r.path.endswith("/messages")]) == report["cells"]["expected"]


def test_expired_items_can_go_to_a_new_batch_instead(fake, run_cli):
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake)
    fake.batch_expires = True
    models, judge = "anthropic:claude-haiku-4-5", "anthropic:claude-sonnet-4-6"
    result = run_cli(
        "eval",
        "--models",
        models,
        "--judges",
        judge,
        "--batch",
        "--batch-retry",
        "batch",
        "--format",
        "json",
        timeout=180,
    )
    assert result.code == 0, result.stderr
    assert not any(r.path.endswith("/messages") for r in fake.requests)
    assert len(fake.batches.batches) == 3  # answers (expired), answers again, grades


def test_batches_lists_open_ones_and_a_cancelled_one_is_run_live_on_resume(fake, run_cli, cli_env):
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake)
    args = ("eval", "--models", "anthropic:claude-haiku-4-5", "--judges", "anthropic:claude-sonnet-4-6")
    run_id, [batch_id] = _killed_batch_eval(fake, cli_env, *args)

    listed = run_cli("batches", "--format", "json")
    assert listed.code == 0, listed.stderr
    [row] = json.loads(listed.stdout)["batches"]
    jsonschema.validate(json.loads(listed.stdout), schema_of("batches"))  # the contract (tests/test_contract.py)
    assert (row["batch_id"], row["run_id"], row["provider"], row["state"]) == (
        batch_id,
        run_id,
        "anthropic:claude-haiku-4-5",
        "submitted",
    )
    assert row["items"] == 6 and row["models"] == ["anthropic:claude-haiku-4-5"]
    text = run_cli("batches")
    assert text.code == 0 and batch_id in text.stdout

    # Bad input: an id history does not know, and a resume against another endpoint.
    unknown = run_cli("batches", "--cancel", "msgbatch_nope")
    assert unknown.code == 2 and unknown.stderr.count("\n") == 1 and "not in history" in unknown.stderr
    moved_env = {**cli_env, "ANTHROPIC_BASE_URL": f"{fake.url}/elsewhere"}
    moved = run_cli("eval", "--resume", run_id, env=moved_env)
    assert moved.code == 2 and "was submitted to" in moved.stderr and "Traceback" not in moved.stderr
    moved = run_cli("history", "resume", run_id, env=moved_env)
    assert moved.code == 2 and moved.stderr.count("error:") == 1 and "was submitted to" in moved.stderr
    nowhere = run_cli("history", "resume", "nope")
    assert nowhere.code == 2 and nowhere.stderr.count("\n") == 1 and "no run 'nope' in history" in nowhere.stderr
    fake.script(Reply(text=json.dumps(keyed_review("inventory_service.py", score=5))))
    review = run_cli("review", "sample_code/inventory_service.py", "-p", "anthropic:claude-haiku-4-5", "--no-tui")
    review_id = review.stderr.split("recorded as ", 1)[1].split()[0]
    other = run_cli("history", "resume", review_id)
    assert (
        other.code == 2
        and "is a review without --batch: only an eval, a compare --batch or a review --repeat N --batch can be resumed"
        in other.stderr
    )
    fake.requests.clear()
    assert len(fake.batches.batches) == 1  # nothing was resent

    cancelled = run_cli("batches", "--cancel", batch_id)
    assert cancelled.code == 0, cancelled.stderr
    assert f"driftcheck history resume {run_id}" in cancelled.stderr
    assert fake.batches.batches[batch_id].cancelled

    fake.batch_processing_s = 0.0
    fake.requests.clear()
    resumed = run_cli("eval", "--resume", run_id, "--format", "json", timeout=180)
    assert resumed.code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["cells"]["done"] == 6
    assert len([r for r in fake.requests if r.path.endswith("/messages")]) == 6  # the cancelled answers, live
    assert len(fake.batches.batches) == 2  # and the grades in a batch of their own
    assert json.loads(run_cli("batches", "--format", "json").stdout)["batches"] == []


def test_the_estimate_shows_live_and_batch_prices_and_the_budget_holds_for_batches(fake, run_cli, cli_env):
    import sqlite3

    fake.cache_min_tokens = NO_CACHE
    dry_live = run_cli(*EVAL, "--dry-run")
    dry_batch = run_cli(*EVAL, "--dry-run", "--batch")
    assert dry_live.code == dry_batch.code == 0
    live = float(dry_live.stderr.split("estimated $", 1)[1].split()[0].rstrip(";"))
    batch = float(dry_batch.stderr.split("estimated $", 1)[1].split()[0])
    assert batch == pytest.approx(live / 2, rel=0.01)
    assert f"at batch prices (live: ${live:.4f})" in dry_batch.stderr
    assert fake.requests == []  # a dry run sends nothing, batch or not

    fake_eval.script(fake)
    stopped = run_cli(*EVAL, "--batch", "--budget", "0.05", "--format", "json", timeout=180)
    assert stopped.code == 0, stopped.stderr
    report = json.loads(stopped.stdout)
    assert report["status"] == "partial" and 0 < report["cells"]["done"] < ANSWERS
    with sqlite3.connect(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db") as conn:
        spent = conn.execute("SELECT SUM(cost_usd) FROM calls WHERE run_id = ?", (report["run_id"],)).fetchone()[0]
    assert spent <= 0.05
    sent = sum(len(b.outcomes) for b in fake.batches.batches.values())
    assert sent < ANSWERS + GRADES  # the batches were sized to the budget, not sent whole


async def test_closing_a_batched_provider_before_its_calls_are_gathered_submits_nothing():
    """The task that gathers calls into a batch was not among those cancelled on close: it
    woke after the gathering pause and submitted a batch nobody would collect."""
    import asyncio

    from app.calls.batching import BatchCollector
    from providers import Request

    submitted: list[object] = []

    class Submitter:
        async def submit_batch(self, *args: object, **kwargs: object) -> None:
            submitted.append(args)

    collector = BatchCollector(Submitter(), lambda *_: None, gather_s=0.01)
    call = asyncio.create_task(collector.call(Request.ask("hi", max_tokens=8)))
    await asyncio.sleep(0)  # the call is waiting, the flusher started
    await collector.cancel_all()
    call.cancel()
    await asyncio.sleep(0.05)  # several gathering pauses
    assert submitted == []
