"""`driftcheck compare` as a user runs it, against two scripted providers on the fake
server: every sample and every incident, a side that fails mid-stream, repeat runs, a
baseline from history, the default pair, and bad input. The drift numbers are checked
against what each side was scripted to say."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from app.compare.events import compare_events
from app.review.task import FindingFound, ReviewFinished, review_events
from app.source.inputs import decode_text
from app.source.model import load_source
from providers import Request
from tests.conftest import write_private
from tests.fake_reviews import SAMPLES, key_issues, keyed_review, plain_finding
from tests.fake_triage import INCIDENTS, answer_text, verdict
from tests.fakeserver import Reply

A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
SAMPLE_FILES = sorted(p.name for p in SAMPLES.iterdir() if p.name.endswith((".py", ".js", ".go", ".java")))


def _scripted_b(sample: str) -> tuple[dict, str, str]:
    """B misses the key's second issue, rates the first one lower, and adds one of its own."""
    issues = key_issues(sample)
    lines = (SAMPLES / sample).read_text().splitlines()
    dropped = issues[1]["id"]
    extra_line = next(
        n
        for n, text in enumerate(lines, start=1)
        if text.strip() and all(not (i["lines"][0] - 5 <= n <= i["lines"][-1] + 5) for i in issues)
    )
    reply = keyed_review(
        sample,
        drop=(dropped,),
        score=6,
        extra=(plain_finding(extra_line, lines[extra_line - 1].strip(), title="Magic number without a name"),),
    )
    first = reply["findings"][0]
    lowered = "low" if first["severity"] != "low" else "info"
    first["severity"] = lowered
    return reply, dropped, lowered


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_compare_of_each_sample_reports_the_scripted_drift(fake, run_cli, sample):
    issues = key_issues(sample)
    reply_b, dropped, lowered = _scripted_b(sample)
    fake.script(Reply(text=json.dumps(keyed_review(sample, score=3))), model="claude-haiku-4-5")
    fake.script(Reply(text=json.dumps(reply_b)), model="gpt-5.4-mini")
    result = run_cli("compare", f"sample_code/{sample}", "-a", A, "-b", B, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["task"], report["compared"], report["status"]) == ("compare", "review", "ok")
    assert (report["a"]["provider"], report["b"]["provider"]) == ("anthropic", "openai")
    drift = report["drift"]
    n = len(issues)
    assert len(drift["matched"]) == n - 1
    assert [f["title"] for f in drift["only_b"]] == ["Magic number without a name"]
    assert len(drift["only_a"]) == 1 and drift["only_a"][0]["severity"] == issues[1]["severity"]
    assert drift["agreement"] == round((n - 1) / (n + 1), 3)
    assert [d["severity"] for d in drift["severity_disagreements"]] == [[issues[0]["severity"], lowered]]
    assert drift["score"] == {"a": 3, "b": 6, "delta": 3}
    assert drift["answer_key"]["a"]["recall"] == 1.0
    assert drift["answer_key"]["b"]["recall"] == round((n - 1) / n, 3)
    assert report["b"]["answer_key"]["missed"] == [dropped]
    for metric in ("ttft_ms", "latency_ms", "input_tokens", "output_tokens", "cost_usd"):
        m = drift["metrics"][metric]
        assert m["a"] is not None and m["b"] is not None and m["ratio_b_to_a"] == round(m["b"] / m["a"], 3)
    assert "--repeat 3" in report["noise"]["verdict"]


def test_text_output_shows_both_sides_and_the_drift(fake, run_cli):
    sample = "inventory_service.py"
    reply_b, _dropped, _ = _scripted_b(sample)
    fake.script(Reply(text=json.dumps(keyed_review(sample, score=3))), model="claude-haiku-4-5")
    fake.script(Reply(text=json.dumps(reply_b)), model="gpt-5.4-mini")
    result = run_cli("compare", f"sample_code/{sample}", "-a", A, "-b", B)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert A in out and B in out and "3/10" in out and "6/10" in out
    assert "8 matched · 1 only in A · 1 only in B" in out
    assert "only B: F9" in out and "Magic number without a name" in out
    assert "score 3 → 6 (+3)" in out and "B against A: first token" in out
    assert "verdict: not distinguishable at this N" in out
    # While streaming, each finding is a line on stderr tagged with its side, both sides' in between.
    tags = [line.split()[0] for line in result.stderr.splitlines() if line[:1] in "AB" and " L" in line]
    assert tags.count("A") == 9 and tags.count("B") == 9
    assert "score 3/10, 9 finding(s)" in result.stderr and "score 6/10, 9 finding(s)" in result.stderr


@pytest.mark.parametrize("incident", INCIDENTS)
def test_compare_of_each_incident_reports_the_scripted_drift(fake, run_cli, incident):
    fake.script(Reply(text=answer_text(incident, "active", severity="P1")), model="claude-haiku-4-5")
    fake.script(Reply(text=answer_text(incident, "active", harmful=True, severity="P2")), model="gpt-5.4-mini")
    result = run_cli("compare", "--incident", f"incidents/{incident}", "-a", A, "-b", B, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    drift = report["drift"]
    points = len(json.loads(answer_text(incident, "active"))["actions"])
    assert drift["severity"] == {"a": "P1", "b": "P2", "same": False}
    assert drift["escalation"] == {"a": "escalate now", "b": "escalate now", "same": True}
    assert drift["root_cause"]["similarity"] == 1.0
    assert len(drift["actions"]["matched"]) == points
    assert [a["n"] for a in drift["actions"]["only_b"]] == [points + 1] and drift["actions"]["only_a"] == []
    assert drift["actions"]["agreement"] == round(points / (points + 1), 3)
    assert drift["actionability"] == {
        "a": {"actions": points, "with_owner_and_timeline": points},
        "b": {"actions": points + 1, "with_owner_and_timeline": points + 1},
    }
    assert drift["reference"]["a"] == {"coverage": 1.0, "must_not_violations": 0}
    assert drift["reference"]["b"]["must_not_violations"] == 1


def test_triage_compare_judges_both_sides_and_reports_the_judge_delta(fake, run_cli):
    incident = "pg-storage.md"
    # B's answer arrives later, so A's judgement is asked for first and takes the first verdict.
    fake.script(Reply(text=answer_text(incident, "active")), model="claude-haiku-4-5")
    fake.script(
        Reply(text=answer_text(incident, "active", harmful=True), first_token_delay_s=0.8), model="gpt-5.4-mini"
    )
    fake.script(Reply(text=verdict(5, 4)), Reply(text=verdict(2, 3)), model="claude-sonnet-4-6")
    result = run_cli(
        "compare",
        "--incident",
        f"incidents/{incident}",
        "-a",
        A,
        "-b",
        B,
        "--judge",
        "anthropic:claude-sonnet-4-6",
        "--context",
        "users_affected=none yet",
    )
    assert result.code == 0, result.stderr
    assert "judge total (mean, of 10) 9.00 → 5.00 (-4): anthropic:claude-sonnet-4-6 9 → 5" in result.stdout
    assert "harmful actions recommended 0 → 1" in result.stdout
    judged = [r for r in fake.requests if r.model == "claude-sonnet-4-6"]
    assert len(judged) == 2 and all("none yet" in str(r.body) for r in fake.requests if r.model != "claude-sonnet-4-6")


def test_a_failed_judge_in_a_triage_compare_exits_3_unless_judges_are_optional(fake, run_cli):
    incident = "kafka-lag.md"
    for optional, expected in (((), 3), (("--judge-optional",), 0)):
        fake.reset()
        fake.script(Reply(text=answer_text(incident, "active")), model="claude-haiku-4-5")
        fake.script(Reply(text=answer_text(incident, "active")), model="gpt-5.4-mini")
        fake.script(
            Reply(text=verdict(5, 4)), Reply(text="no verdict"), Reply(text="still none"), model="claude-sonnet-4-6"
        )
        result = run_cli(
            "compare",
            "--incident",
            f"incidents/{incident}",
            "-a",
            A,
            "-b",
            B,
            "--judge",
            "anthropic:claude-sonnet-4-6",
            "--format",
            "json",
            *optional,
        )
        assert result.code == expected, result.stderr
        report = json.loads(result.stdout)
        assert (
            report["status"] == "ok"
            and [j["status"] for side in "ab" for j in report[side]["judges"]].count("failed") == 1
        )
        said = "warning" if optional else "error"
        assert re.search(rf"driftcheck: {said}: [AB]: judge anthropic:claude-sonnet-4-6 failed", result.stderr)


def test_a_side_that_fails_mid_stream_leaves_the_other_complete(fake, run_cli):
    sample = "inventory_service.py"
    fake.script(Reply(text=json.dumps(keyed_review(sample))), model="gpt-5.4-mini")
    # Anthropic sends an overloaded_error event part way through its reply.
    fake.script(Reply(text=json.dumps(keyed_review(sample)), chunk_size=40, error_after=12), model="claude-haiku-4-5")
    result = run_cli("compare", f"sample_code/{sample}", "-a", B, "-b", A, "--format", "json")
    assert result.code == 3, result.stderr
    report = json.loads(result.stdout)
    good, bad = report["a"], report["b"]
    assert good["status"] == "ok" and len(good["result"]["findings"]) == 9
    assert bad["status"] == "failed" and bad["error"]["kind"] in ("interrupted", "overloaded")
    assert bad["partial_text"].startswith('{"findings"') and len(bad["partial_text"]) >= 400
    streamed = bad["result"]["findings"]
    assert 1 <= len(streamed) < 9  # the findings completed before the break are kept
    assert len(report["drift"]["matched"]) == len(streamed)
    assert "B:" in result.stderr and "error" in result.stderr

    fake.script(Reply(text=json.dumps(keyed_review(sample))), model="gpt-5.4-mini")
    fake.script(Reply(text=json.dumps(keyed_review(sample)), chunk_size=40, error_after=12), model="claude-haiku-4-5")
    text = run_cli("compare", f"sample_code/{sample}", "-a", B, "-b", A)
    assert text.code == 3
    assert "FAILED" in text.stdout and "B: text received before the failure" in text.stdout
    assert "B failed: the drift compares what it reported before failing" in text.stdout
    assert "recall 1.00 →" in text.stdout  # A's review, complete


async def test_the_sides_run_at_once_and_their_events_interleave(fake, make_provider):
    sample = "inventory_service.py"
    text = (SAMPLES / sample).read_text()
    source = load_source(sample, text)
    body = json.dumps(keyed_review(sample))
    providers = {"a": make_provider(A), "b": make_provider(B)}
    for p in providers.values():  # load the SDKs first: this test is about the streams
        fake.script(Reply(text="warm"), model=p.model)
        await p.complete(Request.ask("hi", max_tokens=5))
    # Each side streams for about 0.6 s; one after the other would take 1.2 s or more.
    fake.script(Reply(text=body, chunk_size=40, chunk_delay_s=0.6 / (len(body) / 40)), model="claude-haiku-4-5")
    fake.script(Reply(text=body, chunk_size=40, chunk_delay_s=0.6 / (len(body) / 40)), model="gpt-5.4-mini")

    def start(side):
        return lambda run: review_events(
            providers[side], source, decode_text(text.encode(), sample), source.chunks(12_000), max_tokens=4096
        )

    order, finished = [], {}
    async for item in compare_events({"a": start("a"), "b": start("b")}):
        if isinstance(item.event, FindingFound):
            order.append(item.side)
        elif isinstance(item.event, ReviewFinished):
            finished[item.side] = item.event.outcome
    assert sorted(finished) == ["a", "b"] and all(o.error is None for o in finished.values())
    assert order.count("a") == order.count("b") == 9
    switches = sum(1 for x, y in itertools.pairwise(order) if x != y)
    # Interleaved as they arrived, not one side then the other: concurrency shown by order,
    # not by a wall-clock bound that a loaded machine breaks.
    assert switches >= 4, order


def test_repeat_runs_set_the_spread_within_against_the_gap_between(fake, run_cli):
    sample = "quota_limiter.go"
    for score in (3, 3, 4):
        fake.script(Reply(text=json.dumps(keyed_review(sample, score=score))), model="claude-haiku-4-5")
    for score, drop in ((7, ()), (8, (key_issues(sample)[0]["id"],)), (7, ())):
        fake.script(Reply(text=json.dumps(keyed_review(sample, score=score, drop=drop))), model="gpt-5.4-mini")
    result = run_cli("compare", f"sample_code/{sample}", "-a", A, "-b", B, "--repeat", "3", "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    noise = report["noise"]
    assert noise["runs"] == {"a": 3, "b": 3, "ok_a": 3, "ok_b": 3}
    score = next(m for m in noise["measures"] if m["measure"] == "score")
    assert (score["a"], score["b"], score["separated"], score["chance"]) == ([3, 3, 4], [7, 8, 7], True, 0.1)
    assert noise["drift_beyond_noise"] == ["score"]
    assert noise["verdict"].startswith("drift larger than noise in score")
    # The issue B left out of one run comes and goes; A's findings are stable.
    assert noise["within"]["a"] == {"stable": 6, "come_and_go": []}
    assert noise["within"]["b"]["stable"] == 5 and noise["within"]["b"]["come_and_go"][0]["seen_in"] == 2
    assert len(report["runs"]["a"]) == len(report["runs"]["b"]) == 3
    assert len([r for r in fake.requests if r.model == "claude-haiku-4-5"]) == 3


def test_a_baseline_from_history_is_side_a(fake, run_cli, tmp_path):
    sample = "sample_code/upload_service.js"
    fake.script(Reply(text=json.dumps(keyed_review("upload_service.js", score=4))), model="claude-haiku-4-5")
    first = run_cli("review", sample, "-p", A, "--format", "json")
    assert first.code == 0, first.stderr
    run_id = first.stderr.split("recorded as ")[1].split()[0]
    # Last week's answer against today's, same model: B defaults to the baseline's SPEC.
    fake.script(
        Reply(text=json.dumps(keyed_review("upload_service.js", score=6, drop=("open-redirect",)))),
        model="claude-haiku-4-5",
    )
    result = run_cli("compare", sample, "--baseline", run_id, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["baseline"] == run_id and report["drift"]["score"] == {"a": 4, "b": 6, "delta": 2}
    assert (report["a"]["model"], report["b"]["model"]) == ("claude-haiku-4-5", "claude-haiku-4-5")
    assert len(fake.requests) == 2  # the baseline was read from history, not asked again
    compare_id = result.stderr.split("recorded as ")[1].split()[0]

    # A stored compare can be a baseline too, by side; a changed file cannot.
    fake.script(Reply(text=json.dumps(keyed_review("upload_service.js"))), model="gpt-5.4-mini")
    again = run_cli("compare", sample, "--baseline", f"{compare_id}:b", "-b", B, "--format", "json")
    assert again.code == 0 and json.loads(again.stdout)["drift"]["score"]["a"] == 6
    assert "say which side" in run_cli("compare", sample, "--baseline", compare_id).stderr
    changed = tmp_path / "upload_service.js"
    changed.write_text((SAMPLES / "upload_service.js").read_text() + "\n// edited\n")
    moved = run_cli("compare", str(changed), "--baseline", run_id)
    assert moved.code == 2 and "different input" in moved.stderr and "byte for byte" in moved.stderr
    wrong = run_cli("compare", "--incident", "incidents/kafka-lag.md", "--baseline", run_id)
    assert wrong.code == 2 and "is a review; this compare is a triage" in wrong.stderr


def test_compare_is_recorded_with_each_sides_calls(fake, run_cli):
    fake.script(Reply(text=json.dumps(keyed_review("ReportExporter.java"))))
    fake.script(Reply(text=json.dumps(keyed_review("ReportExporter.java"))))
    result = run_cli("compare", "sample_code/ReportExporter.java", "-a", A, "-b", B)
    assert result.code == 0, result.stderr
    run_id = result.stderr.split("recorded as ")[1].split()[0]
    run = json.loads(run_cli("history", "show", run_id, "--format", "json").stdout)
    assert run["task"] == "compare" and run["status"] == "ok"
    assert sorted((c["role"], c["model"]) for c in run["calls"]) == [("a", "claude-haiku-4-5"), ("b", "gpt-5.4-mini")]
    assert run["result"]["drift"]["agreement"] == 1.0
    listing = run_cli("history", "list", "--task", "compare")
    assert run_id in listing.stdout


def test_the_pair_comes_from_the_config_else_the_usable_providers(fake, run_cli, cli_env, tmp_path):
    fake.script(Reply(text=json.dumps(keyed_review("quota_limiter.go"))))
    fake.script(Reply(text=json.dumps(keyed_review("quota_limiter.go"))))
    both = json.loads(run_cli("compare", "sample_code/quota_limiter.go", "--format", "json").stdout)
    assert (both["a"]["provider"], both["b"]["provider"]) == ("anthropic", "openai")

    write_private(
        tmp_path / "config" / "config.toml", 'compare = ["openai:gpt-5.4-nano", "anthropic:claude-sonnet-4-6"]\n'
    )
    fake.script(Reply(text=json.dumps(keyed_review("quota_limiter.go"))))
    fake.script(Reply(text=json.dumps(keyed_review("quota_limiter.go"))))
    configured = json.loads(run_cli("compare", "sample_code/quota_limiter.go", "--format", "json").stdout)
    assert (configured["a"]["model"], configured["b"]["model"]) == ("gpt-5.4-nano", "claude-sonnet-4-6")

    write_private(tmp_path / "config" / "config.toml", "[local]\nuse_when_unconfigured = false\n")
    env = {k: v for k, v in cli_env.items() if k != "OPENAI_API_KEY"}
    alone = run_cli("compare", "sample_code/quota_limiter.go", env=env)
    assert alone.code == 2 and "compare needs two providers and found anthropic:claude-haiku-4-5" in alone.stderr
    assert "-a SPEC -b SPEC" in alone.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        ((), None, "give one input"),
        (("sample_code/quota_limiter.go", "--incident", "incidents/kafka-lag.md"), None, "not FILE and --incident"),
        (("sample_code/quota_limiter.go", "--mode", "postmortem"), None, "--mode apply to a triage"),
        (("sample_code/quota_limiter.go", "--judge-optional"), None, "--judge-optional apply to a triage"),
        (("--incident", "incidents/kafka-lag.md", "--key", "x.toml"), None, "apply to a review"),
        (("sample_code/quota_limiter.go", "--repeat", "0"), None, "between 1 and 20"),
        (("sample_code/quota_limiter.go", "--baseline", "nope"), None, "no run 'nope' in history"),
        (("sample_code/quota_limiter.go", "--baseline", "x", "-a", A), None, "--baseline is side A"),
        (("sample_code/quota_limiter.go", "-a", "nosuch:model", "-b", B), None, "nosuch"),
        (("sample_code/missing.go", "-a", A, "-b", B), None, "no such file"),
        (("sample_code",), None, "is a directory"),
        (("--incident-text", "a b", "-a", A, "-b", B), None, "does not look like an incident"),
        (("--incident-text", "-", "-a", A, "-b", B), "", "empty"),
    ],
)
def test_bad_compare_input_is_one_line_and_exit_2(fake, run_cli, args, stdin, words):
    result = run_cli("compare", *args, stdin=stdin)
    assert result.code == 2, (result.code, result.stderr)
    # One line says what is wrong (argparse's own errors come after its usage line).
    assert words in result.stderr.strip().splitlines()[-1], result.stderr
    assert fake.requests == []
