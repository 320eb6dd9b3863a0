"""`driftcheck eval` end to end: the fake server plays four models of different quality,
speed and price and two judges (tests/fake_eval.py); the real SDKs talk to it over a
socket, and the report is checked against what was scripted."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from statistics import mean

import pytest

from app.calls.limits import ProviderLimit
from app.eval.limits import Budget
from app.eval.stats import min_p, paired_p
from app.render.eval import headline, model_table
from providers.health import percentile
from tests import fake_eval
from tests.conftest import ROOT
from tests.fake_eval import GPT55, HAIKU, JUDGES, MINI, MODELS, SONNET
from tests.fake_reviews import keyed_review_text
from tests.fake_triage import INCIDENTS
from tests.fakeserver import HttpError, Reply, rate_limited, unauthorized

EVAL = ("eval", "--models", ",".join(MODELS), "--judges", ",".join(JUDGES))
ANSWERS, GRADES = len(MODELS) * len(INCIDENTS), len(MODELS) * len(INCIDENTS) * len(JUDGES)


def _db(cli_env: dict[str, str]) -> sqlite3.Connection:
    conn = sqlite3.connect(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db")
    conn.row_factory = sqlite3.Row
    return conn


def _run_id(stderr: str) -> str:
    return re.search(r"recorded as (r[0-9a-z]+)", stderr).group(1)


def _task(report: dict, name: str = "triage.active") -> dict:
    return next(t for t in report["tasks"] if t["task"] == name)


def _row(task: dict, model: str) -> dict:
    return next(r for r in task["models"] if r["model"] == model)


def test_four_models_two_judges_report_matches_the_script(fake, run_cli, cli_env):
    fake_eval.script(fake)
    result = run_cli(*EVAL, "--format", "json", timeout=180)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok" and report["cells"] == {
        "expected": ANSWERS,
        "done": ANSWERS,
        "failed": 0,
        "skipped": 0,
        "grades_failed": 0,
        "grades_skipped": 0,
    }
    assert len(fake.requests) == ANSWERS + GRADES  # every answer once, every grade once
    task = _task(report)
    assert task["measure"] == "judges" and task["items"] == [f"incidents/{i}" for i in INCIDENTS]

    with _db(cli_env) as conn:
        calls = [dict(r) for r in conn.execute("SELECT * FROM calls WHERE run_id = ?", (report["run_id"],))]
    assert len(calls) == ANSWERS + GRADES and all(c["status"] == "ok" for c in calls)
    for model in MODELS:
        row = _row(task, model)
        scripted = fake_eval.expected_quality(model)
        assert row["quality"]["mean"] == round(mean(scripted.values()), 2)
        assert row["quality"]["min"] == min(scripted.values()) and row["quality"]["max"] == max(scripted.values())
        for level, stats in row["by_difficulty"].items():
            values = [q for i, q in scripted.items() if fake_eval.difficulty(i) == level]
            assert stats["mean"] == round(mean(values), 2) and stats["n"] == len(values)
        for judge in JUDGES:
            assert row["by_judge"][judge] == round(mean(sum(fake_eval.scores(judge, model, i)) for i in INCIDENTS), 2)
        # Harmful steps are found by the reference checks, not by the judges.
        assert row["reference"]["violations"] == (len(INCIDENTS) if model == HAIKU else 0)
        assert row["reference"]["coverage"] == 1.0
        # Cost per call is what history recorded for that model's answers.
        _provider, name = model.split(":")
        costs = [c["cost_usd"] for c in calls if c["role"] == "candidate" and c["model"] == name]
        assert len(costs) == len(INCIDENTS) and row["cost_per_call_usd"] == pytest.approx(mean(costs), abs=1e-6)
        assert row["cost_per_point_usd"] == pytest.approx(mean(costs) / row["quality"]["mean"], rel=1e-3)
        ttfts = [c["ttft_ms"] for c in calls if c["role"] == "candidate" and c["model"] == name]
        assert row["ttft_ms"]["median"] >= fake_eval.DELAY[model] * 1000
        assert row["ttft_ms"]["median"] == round(percentile(ttfts, 50), 1)
    cost = {m: _row(task, m)["cost_per_call_usd"] for m in MODELS}
    assert cost[MINI] < cost[HAIKU] < cost[SONNET] < cost[GPT55]  # the real price table's order
    # Each model's TTFT is at least its scripted delay and is what history recorded (above).
    # No order between models: their scripted delays differ by 50-280 ms, and scheduling
    # noise on a loaded 2-core machine was larger (Haiku 290 ms above Sonnet's 279 ms).

    rec = task["recommendation"]
    assert rec["model"] == MINI and rec["best"] == GPT55 and not rec["uncertain"]
    verdicts = {c["model"]: c for c in rec["comparisons"]}
    assert verdicts[MINI]["eligible"] and verdicts[MINI]["p"] == 0.5
    assert not verdicts[SONNET]["eligible"] and verdicts[SONNET]["p"] == pytest.approx(0.031, abs=0.001)
    assert not verdicts[HAIKU]["eligible"] and any("harmful" in w for w in verdicts[HAIKU]["why_not"])
    assert "openai:gpt-5.4-mini: the cheapest model" in rec["text"]

    judges = task["judges"]
    evictions = next(d for d in judges["disagreement"] if d["item"] == "incidents/prometheus-evictions.md")
    assert evictions["max_spread"] == 2
    self_graded = {(s["judge"], s["model"]): s for s in judges["self_grading"]}
    assert set(self_graded) == {(SONNET, HAIKU), (SONNET, SONNET), (GPT55, MINI), (GPT55, GPT55)}
    assert self_graded[(SONNET, HAIKU)]["preference"] == round(
        7 - mean(sum(fake_eval.scores(GPT55, HAIKU, i)) for i in INCIDENTS), 2
    )
    # Haiku's answers sit 3+ points below the others on every incident, with a harmful step.
    assert [s["item"] for s in task["splits"]] == task["items"]
    assert all(s["answers"][HAIKU]["violations"] for s in task["splits"])


def test_text_and_markdown_reports_show_the_table_and_recommendation(fake, run_cli):
    fake_eval.script(fake)
    text = run_cli(*EVAL, timeout=180)
    assert text.code == 0, text.stderr
    assert "Recommendation:" in text.stdout and "openai:gpt-5.4-mini: the cheapest model" in text.stdout
    assert "24 of 24 cells done" in text.stdout and "[24/24]" in text.stderr
    assert "self-grading: anthropic:claude-sonnet-4-6 graded anthropic:claude-haiku-4-5" in text.stdout
    markdown = run_cli(*EVAL, "--format", "markdown", timeout=180)
    rows = [line for line in markdown.stdout.splitlines() if line.startswith("| openai:gpt-5.4-mini |")]
    assert rows and rows[0].split(" | ")[1] == "9.67 (9–10)"
    assert "**Recommendation:** openai:gpt-5.4-mini" in markdown.stdout


class _Tables(HTMLParser):
    """Every table's rows, every SVG point, and the embedded chart data of an HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.points: list[dict[str, str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self._json: list[str] | None = None
        self.json = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "circle":
            self.points.append(attrs)
        elif tag == "script" and attrs.get("id") == "chart-data":
            assert attrs.get("type") == "application/json" and "src" not in attrs
            self._json = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "script" and self._json is not None:
            self.json, self._json = "".join(self._json), None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._json is not None:
            self._json.append(data)


def test_html_report_is_self_contained_and_its_charts_match_the_run(fake, run_cli, cli_env, tmp_path):
    fake_eval.script(fake)
    out = tmp_path / "eval.html"
    result = run_cli(*EVAL, "--format", "html", "--out", str(out), timeout=180)
    assert result.code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    # Nothing to fetch: no address at all, and no element that loads anything.
    assert not re.search(r"https?:|//[a-z]", html, re.IGNORECASE)
    assert not re.search(r"<(link|img|iframe|object|embed)\b|@import|url\(|\bsrc=", html, re.IGNORECASE)
    with _db(cli_env) as conn:
        stored = json.loads(
            conn.execute("SELECT result_json FROM runs WHERE id = ?", (_run_id(result.stderr),)).fetchone()[0]
        )
    parsed = _Tables()
    parsed.feed(html)
    task = _task(stored)
    header, rows = model_table(task)
    assert parsed.tables[0] == [header, *rows]  # the model table, cell for cell
    assert [r[0] for r in parsed.tables[0][1:]] == MODELS
    data = json.loads(parsed.json)
    assert data["cost_quality"]["triage.active"] == [
        {
            "model": r["model"],
            "cost_per_call_usd": r["cost_per_call_usd"],
            "quality": r["quality"]["mean"],
            "recommended": r["model"] == MINI,
        }
        for r in task["models"]
    ]
    assert data["latency_ms"] == stored["latency_samples_ms"]
    assert all(len(v) == len(INCIDENTS) for v in data["latency_ms"].values())
    # The drawn points are the data: one per model on the cost chart, one per answer on latency.
    drawn = {p["data-model"]: p for p in parsed.points if "data-quality" in p}
    assert set(drawn) == set(MODELS)
    for row in task["models"]:
        assert float(drawn[row["model"]]["data-quality"]) == row["quality"]["mean"]
        assert float(drawn[row["model"]]["data-cost"]) == row["cost_per_call_usd"]
    samples = [p for p in parsed.points if "data-ms" in p]
    assert sorted(float(p["data-ms"]) for p in samples) == sorted(v for vs in data["latency_ms"].values() for v in vs)


NO_CACHE = 10**9  # a prompt-cache minimum no prompt reaches: the fake server caches nothing


def _comparable(report: dict) -> dict:
    """The report without what differs from one run to the next: ids and timings."""
    text = json.dumps(report)
    data = json.loads(text)
    data.pop("run_id"), data.pop("latency_samples_ms")
    for task in data["tasks"]:
        for row in task["models"]:
            row.pop("ttft_ms"), row.pop("latency_ms")
    return data


def test_an_interrupted_eval_resumes_to_the_same_report_without_repeating_calls(fake, run_cli, cli_env):
    # Which of a judge's grades reads the shared prefix from the cache depends on the order
    # the calls ran in, and so would each model's judge cost: this test compares reports.
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake)
    whole = run_cli(*EVAL, "--format", "json", timeout=180)
    assert whole.code == 0, whole.stderr
    fake.reset()
    fake.cache_min_tokens = NO_CACHE
    fake_eval.script(fake, slow=0.8)  # gpt-5.5 slow enough to be caught mid-answer
    # A real process: SIGINT is the point (the handler, exit code 130, the run left resumable).
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *EVAL, "--concurrency", "1", "--format", "json"],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db"
    deadline = time.monotonic() + 90
    stored = 0
    while time.monotonic() < deadline and stored < 12 and proc.poll() is None:
        time.sleep(0.1)
        if db.exists():
            try:
                with _db(cli_env) as conn:
                    run = conn.execute("SELECT id FROM runs WHERE task = 'eval' AND status = 'running'").fetchone()
                    if run is not None:
                        stored = conn.execute(
                            "SELECT COUNT(*) FROM run_parts WHERE run_id = ? AND key != 'plan'", (run[0],)
                        ).fetchone()[0]
            except sqlite3.OperationalError:  # the schema is not there yet, or the writer holds a lock
                continue
    # Interrupt only a run that is where this test needs it: mid-way, still running. Under
    # load the poll used to give up and interrupt whatever state the eval was in.
    assert proc.poll() is None, f"the eval ended before it could be interrupted: {proc.communicate()[1][-2000:]}"
    assert stored >= 12, "the eval stored fewer than 12 parts in 90 s"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    run_id = re.search(r"driftcheck eval --resume (r[0-9a-z]+)", err).group(1)
    with _db(cli_env) as conn:
        assert conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0] == "interrupted"
        done_before = conn.execute(
            "SELECT COUNT(*) FROM run_parts WHERE run_id = ? AND key != 'plan'", (run_id,)
        ).fetchone()[0]
        ok_calls_before = conn.execute(
            "SELECT COUNT(*) FROM calls WHERE run_id = ? AND status = 'ok'", (run_id,)
        ).fetchone()[0]
    assert 12 <= done_before < ANSWERS + GRADES

    fake.requests.clear()
    resumed = run_cli("eval", "--resume", run_id, "--format", "json", timeout=180)
    assert resumed.code == 0, resumed.stderr
    # Only what was not finished was asked: every stored answer and grade was kept.
    assert len(fake.requests) == ANSWERS + GRADES - done_before
    assert ok_calls_before >= done_before
    assert "(kept from before)" in resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["run_id"] == run_id and report["status"] == "ok"
    assert _comparable(report) == _comparable(json.loads(whole.stdout))
    with _db(cli_env) as conn:
        assert conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0] == "ok"
    # Resuming a finished eval asks nothing and reports the same.
    fake.requests.clear()
    again = run_cli("eval", "--resume", run_id, "--format", "json", timeout=120)
    assert again.code == 0 and not fake.requests
    assert _comparable(json.loads(again.stdout)) == _comparable(report)


def test_the_budget_is_a_hard_stop_and_a_larger_one_finishes(fake, run_cli, cli_env):
    fake_eval.script(fake)
    stopped = run_cli(*EVAL, "--budget", "0.12", "--format", "json", timeout=180)
    assert stopped.code == 0, stopped.stderr
    report = json.loads(stopped.stdout)
    assert report["status"] == "partial" and report["stopped"]["limit_usd"] == 0.12
    assert 0 < report["cells"]["done"] < ANSWERS
    with _db(cli_env) as conn:
        spent = conn.execute("SELECT SUM(cost_usd) FROM calls WHERE run_id = ?", (report["run_id"],)).fetchone()[0]
        status = conn.execute("SELECT status FROM runs WHERE id = ?", (report["run_id"],)).fetchone()[0]
    assert spent <= 0.12 and status == "stopped"
    assert "over the budget" in stopped.stderr
    requests_before = len(fake.requests)
    # history resume passes --budget on: still too small, and said so with the new figure.
    again = run_cli("history", "resume", report["run_id"], "--budget", "0.121", "--format", "json", timeout=180)
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["stopped"]["limit_usd"] == 0.121
    finished = run_cli("eval", "--resume", report["run_id"], "--budget", "5", "--format", "json", timeout=180)
    assert finished.code == 0, finished.stderr
    assert json.loads(finished.stdout)["status"] == "ok"
    assert len(fake.requests) == ANSWERS + GRADES  # nothing asked twice across the two
    assert requests_before < ANSWERS + GRADES


def test_a_rate_limited_provider_slows_down_and_its_cells_are_asked_again(fake, run_cli):
    fake_eval.script(fake)
    fake.script(rate_limited(retry_after="0"), rate_limited(retry_after="0"), model="gpt-5.4-mini")
    result = run_cli("eval", "--models", MINI, "--judges", "none", "--retries", "0", "--format", "json", timeout=120)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok" and report["cells"]["done"] == len(INCIDENTS)
    assert report["cells"]["failed"] == report["cells"]["skipped"] == 0
    assert "openai is rate limiting" in result.stderr and "goes back in the queue" in result.stderr
    assert "1 request(s) in flight from now" in result.stderr  # 4 halved twice
    # Without judges, quality is the reference coverage.
    task = _task(report)
    assert task["measure"] == "reference" and _row(task, MINI)["quality"]["mean"] == 10


def test_samples_are_reviewed_and_scored_against_their_keys(fake, run_cli):
    fake.reply_when("gpt-5.5", ("quota_limiter",), Reply(text=keyed_review_text("quota_limiter.go")))
    fake.reply_when(
        "gpt-5.4-mini",
        ("quota_limiter",),
        Reply(text=keyed_review_text("quota_limiter.go", drop=("map-data-race", "no-http-timeout", "defer-in-loop"))),
    )
    result = run_cli(
        "eval",
        "--models",
        f"{GPT55},{MINI}",
        "--judges",
        "none",
        "--set",
        "sample_code/quota_limiter.go",
        "--format",
        "json",
        timeout=120,
    )
    assert result.code == 0, result.stderr
    task = _task(json.loads(result.stdout), "review")
    assert task["measure"] == "answer_key" and task["difficulties"] == ["complex"]
    assert _row(task, GPT55)["answer_key"] == {"recall": 1.0, "precision": 1.0}
    assert _row(task, GPT55)["quality"]["mean"] == 10
    assert _row(task, MINI)["answer_key"] == {"recall": 0.5, "precision": 1.0}
    assert _row(task, MINI)["quality"]["mean"] == round(10 * 2 * 0.5 / 1.5, 2)
    # Hedging was off: the plan and the rows say nothing of it.
    assert "hedge_after" not in json.loads(result.stdout)["plan"] and "hedging" not in _row(task, GPT55)
    # One file cannot tell two models apart: the cheaper one is only "not shown to be worse",
    # and the report says that it is uncertain, and why.
    rec = task["recommendation"]
    assert rec["best"] == GPT55 and rec["model"] == MINI
    assert rec["uncertain"] and "no gap can be told from noise" in rec["text"]


def test_kaplan_meier_quantiles_match_the_textbook_example():
    from app.eval.hedging import km_quantile

    # Freireich et al. (1963), the 6-MP arm, weeks in remission (False: still in remission
    # when last seen); Kaplan-Meier's median is 23 weeks (Kleinbaum & Klein, Survival
    # Analysis, 3rd ed., 2012, ch. 2), and S never falls below 0.448, so the 75th
    # percentile lies beyond the last time seen.
    censored = {6: 1, 9: 1, 10: 1, 11: 1, 17: 1, 19: 1, 20: 1, 25: 1, 32: 2, 34: 1, 35: 1}
    events = {6: 3, 7: 1, 10: 1, 13: 1, 16: 1, 22: 1, 23: 1}
    times = [(t, True) for t, n in events.items() for _ in range(n)]
    times += [(t, False) for t, n in censored.items() for _ in range(n)]
    assert km_quantile(times, 0.5) == (23, True)
    assert km_quantile(times, 0.3) == (13, True)  # 1 − S(13) = 0.310
    assert km_quantile(times, 0.75) == (35, False)
    # With nothing censored it is the inverse of the empirical distribution.
    assert km_quantile([(v, True) for v in (5, 1, 4, 2, 3)], 0.95) == (5, True)
    assert km_quantile([(v, True) for v in (5, 1, 4, 2, 3)], 0.4) == (2, True)


def test_eval_hedges_each_model_with_itself_and_accounts_for_it(fake, run_cli, tmp_path):
    from tests.conftest import write_private

    write_private(tmp_path / "config" / "config.toml", "[resilience]\nhedge_budget = 1.0\n")
    text = keyed_review_text("quota_limiter.go")
    # In the order the requests arrive (one at a time): run 1's primary stalls and its hedge
    # answers at once; run 2 answers at once (no hedge); run 3's primary answers after the
    # threshold but before its hedge, which stalls.
    fake.script(
        Reply(text=text, first_token_delay_s=3.0),
        Reply(text=text),
        Reply(text=text),
        Reply(text=text, first_token_delay_s=0.5),
        Reply(text=text, first_token_delay_s=3.0),
        model="claude-haiku-4-5",
    )
    base = ("eval", "--models", HAIKU, "--judges", "none", "--set", "sample_code/quota_limiter.go")
    base += ("--concurrency", "1", "--hedge-after", "200ms")
    result = run_cli(*base, "--repeat", "3", "--format", "json", timeout=120)
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 5  # three answers and two hedges, each to the same model
    report = json.loads(result.stdout)
    assert report["plan"]["hedge_after"] == "200ms"
    account = _row(_task(report, "review"), HAIKU)["hedging"]
    assert {k: account[k] for k in ("after", "calls", "fired", "won", "withheld")} == {
        "after": "200ms",
        "calls": 3,
        "fired": 2,
        "won": 1,
        "withheld": 0,
    }
    assert account["extra_cost_usd"] > 0  # the cancelled primary's input, at least
    # Run 3's primary was seen to the end, so the slowest time is known: nothing is "at least",
    # and without hedging is never faster than as served.
    for name in ("p95", "p99"):
        figures = account[name]
        assert figures["at_least"] is False
        assert figures["saved_ms"] == round(figures["without_ms"] - figures["served_ms"], 1) >= 0
    fake.reset()
    write_private(tmp_path / "config" / "config.toml", "[resilience]\nhedge_budget = 1.0\n")
    fake.script(Reply(text=text, first_token_delay_s=3.0), Reply(text=text), model="claude-haiku-4-5")
    shown = run_cli(*base, "--format", "markdown", timeout=120)
    assert shown.code == 0, shown.stderr
    assert "- hedging (after 200ms):" in shown.stdout
    assert f"  - {HAIKU}: hedged 1 of 1 calls, the hedge won 1, extra $" in shown.stdout
    # The primary was cut off: its time without hedging is only known to be longer.
    assert "first token p95" in shown.stdout and "(without hedging ≥ " in shown.stdout


def test_write_routes_asks_first_and_writes_only_with_consent(fake, run_cli, cli_env):
    fake_eval.script(fake)
    config = Path(cli_env["DRIFTCHECK_CONFIG_DIR"]) / "config.toml"
    declined = run_cli(*EVAL, "--write-routes", timeout=180)
    assert declined.code == 0, declined.stderr
    assert "triage.active: openai:gpt-5.4-mini  (now unset)" in declined.stderr
    assert "not written" in declined.stderr and not config.exists()
    fake.reset()
    fake_eval.script(fake)
    accepted = run_cli(*EVAL, "--write-routes", "--yes", timeout=180)
    assert accepted.code == 0, accepted.stderr
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert '"triage.active" = "openai:gpt-5.4-mini"' in config.read_text()
    providers = run_cli("providers", "--no-check")
    assert "triage.active" in providers.stdout and "gpt-5.4-mini" in providers.stdout


def test_an_eval_whose_every_answer_is_refused_is_failed_and_stops_asking(fake, run_cli, cli_env):
    fake.reply_when("claude-haiku-4-5", (), unauthorized())
    result = run_cli("eval", "--models", HAIKU, "--judges", "none", "--retries", "0", "--format", "json", timeout=120)
    assert result.code == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert report["cells"] == {
        "expected": len(INCIDENTS),
        "done": 1,
        "failed": 1,
        "skipped": len(INCIDENTS) - 1,
        "grades_failed": 0,
        "grades_skipped": 0,
    }
    assert len(fake.requests) == 1  # the first 401 stops the provider: the other five are never sent
    row = _row(_task(report), HAIKU)
    assert (row["calls"], row["failed"], row["skipped"], row["failures"]) == (1, 1, 5, ["authentication"])
    assert headline(report).startswith("FAILED, no answer succeeded: 1 models × 6 inputs")
    with _db(cli_env) as conn:
        assert conn.execute("SELECT status FROM runs WHERE id = ?", (report["run_id"],)).fetchone()[0] == "failed"
    assert result.stderr.count("skipped: not sent: anthropic refused an earlier request") == 5
    assert f"6 of 6 answers are missing: {HAIKU}: 1 failed, 5 not sent (authentication)" in result.stderr
    assert f"driftcheck eval --resume {report['run_id']} --retry-failed" in result.stderr


def test_a_refused_key_stops_the_judge_of_the_same_provider_too(fake, run_cli):
    """Haiku's 401 means the Anthropic key is wrong: Sonnet, judging on the same key, is not asked either."""
    fake_eval.script(fake)
    fake.script(unauthorized(), model="claude-haiku-4-5")  # then it would answer: it is not asked again
    result = run_cli(
        "eval", "--models", f"{HAIKU},{MINI}", "--judges", SONNET, "--retries", "0", "--format", "json", timeout=120
    )
    assert result.code == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "partial"
    assert report["cells"] == {
        "expected": 12,
        "done": 7,
        "failed": 1,
        "skipped": 5,
        "grades_failed": 0,
        "grades_skipped": 6,
    }
    assert [r.model for r in fake.requests].count("claude-haiku-4-5") == 1
    assert "claude-sonnet-4-6" not in [r.model for r in fake.requests]
    assert len(fake.requests) == 1 + len(INCIDENTS)


def test_a_failed_judge_fails_the_eval_unless_judges_are_optional(fake, run_cli):
    fake_eval.script(fake)
    refused = HttpError(403, "this key may not use claude-sonnet-4-6")
    fake.script(refused, model="claude-sonnet-4-6")
    strict = run_cli("eval", "--models", MINI, "--judges", SONNET, "--retries", "0", "--format", "json", timeout=120)
    assert strict.code == 3, strict.stderr
    report = json.loads(strict.stdout)
    assert report["status"] == "partial"
    assert (report["cells"]["failed"], report["cells"]["grades_failed"], report["cells"]["grades_skipped"]) == (0, 1, 5)
    assert [r.model for r in fake.requests].count("claude-sonnet-4-6") == 1
    assert "--judge-optional makes this a warning" in strict.stderr
    fake.script(refused, model="claude-sonnet-4-6")
    optional = run_cli("eval", "--models", MINI, "--judges", SONNET, "--retries", "0", "--judge-optional", timeout=120)
    assert optional.code == 0, optional.stderr
    assert "warning: 1 grade(s) failed and 5 grade(s) were not sent" in optional.stderr
    assert "partial: 1 models × 6 inputs" in optional.stdout


def _unreferenced_set(folder: Path) -> dict[str, str]:
    """Two incidents without a reference, one with, and a source file without an answer key."""
    for name in ("pg-storage.md", "cert-expiry.md"):
        (folder / f"new-{name}").write_text((ROOT / "incidents" / name).read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("kafka-lag.md", "kafka-lag.md.reference.toml"):
        (folder / name).write_text((ROOT / "incidents" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "inventory.py").write_text(
        (ROOT / "sample_code" / "inventory_service.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "README.md").write_text("notes about this folder, not an incident\n", encoding="utf-8")
    return {
        "keyed": str(folder / "kafka-lag.md"),
        "source": str(folder / "inventory.py"),
        "unkeyed": [str(folder / "new-cert-expiry.md"), str(folder / "new-pg-storage.md")],
    }


def test_inputs_without_a_reference_are_graded_by_the_judges_alone(fake, run_cli, tmp_path):
    from rich.console import Console

    from app.render.eval import eval_markdown, print_eval
    from app.render.eval_html import eval_html

    paths = _unreferenced_set(tmp_path)
    fake_eval.script(fake)
    fake.reply_when("gpt-5.4-mini", ("inventory",), Reply(text=keyed_review_text("inventory_service.py")))
    result = run_cli(
        "eval", "--models", MINI, "--judges", GPT55, "--set", str(tmp_path), "--format", "json", timeout=120
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok" and report["cells"]["done"] == 4  # README.md is not an input
    assert "3 input(s) have no reference or answer key and are graded by the judges alone" in result.stderr
    triage, review = _task(report), _task(report, "review")
    assert triage["measure"] == review["measure"] == "judges"
    assert triage["judge_only"] == paths["unkeyed"] and review["judge_only"] == [paths["source"]]
    assert "judge-only for 2 of 3 inputs, without a reference: " in triage["measure_label"]
    assert review["measure_label"] == "judges' mean total (0-10), judge-only: no input has an answer key"
    assert _row(triage, MINI)["quality"]["n"] == 3 and _row(review, MINI)["quality"]["n"] == 1
    assert _row(triage, MINI)["reference"]["coverage"] == 1.0  # the keyed incident is still checked
    console = Console(record=True, width=200)
    print_eval(console, report)
    for shown in (console.export_text(), eval_markdown(report), eval_html(report)):
        assert "judge-only for 2 of 3 inputs" in shown and "judge-only: no input has an answer key" in shown


def test_inputs_without_a_reference_or_judges_report_no_quality_but_the_rest(fake, run_cli, tmp_path):
    paths = _unreferenced_set(tmp_path)
    fake_eval.script(fake)
    result = run_cli(
        "eval",
        "--models",
        f"{MINI},{GPT55}",
        "--judges",
        "none",
        "--set",
        *paths["unkeyed"],
        "--format",
        "json",
        timeout=120,
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok" and report["cells"]["done"] == 4
    assert "are not graded at all (no judges)" in result.stderr
    task = _task(report)
    assert task["measure"] == "none" and task["unmeasured"] == paths["unkeyed"]
    assert task["measure_label"].startswith("none: no input has a reference and there are no judges")
    assert task["recommendation"]["model"] is None and "nothing measures quality" in task["recommendation"]["text"]
    for model in (MINI, GPT55):
        row = _row(task, model)
        assert row["quality"]["mean"] is None and row["failed"] == 0 and row["cost_per_call_usd"] > 0
        assert row["latency_ms"]["median"] is not None
    mixed = run_cli(
        "eval", "--models", MINI, "--judges", "none", "--set", str(tmp_path), "--format", "markdown", timeout=120
    )
    assert mixed.code == 0, mixed.stderr
    assert "reference coverage × 10 for 1 of 3 inputs; no quality measure (no reference, no judges) for" in mixed.stdout
    assert "none: no input has an answer key and there are no judges" in mixed.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("--set", "no/such/place"), "no such file or folder"),
        (
            ("--set", "tests/__snapshots__/test_tui_snapshots"),
            "no incident (.log, .md, .txt), no change (.diff, .patch) and no source file",
        ),
        (("--set", "tests/data/not-a-diff.patch"), "not-a-diff.patch is not a unified diff"),
        (("--models", ","), "--models is empty"),
        (("--models", "openai:gpt-5.5,openai:gpt-5.5"), "names a model twice"),
        (("--models", "nosuch:model"), "nosuch"),
        (("--resume", "rdoesnotexist"), "not in history"),
        (("--resume", "r1", "--models", "openai:gpt-5.5"), "drop --models"),
        (("--retry-failed",), "--retry-failed applies to --resume"),
        (("--yes",), "--yes applies to --write-routes"),
        (("--budget", "-1"), "must be more than 0"),
        (("--budget", "lots"), "is not an amount"),
        (("--budget", "inf"), "must be a finite amount"),
        (("--budget", "nan"), "must be more than 0"),
        (("--repeat", "0"), "between 1 and 20"),
        (("--out", "/"), "is a directory"),
    ],
)
def test_bad_eval_input_is_refused_before_anything_is_sent(fake, run_cli, args, message):
    base = () if {"--models", "--resume"} & set(args) else ("--models", GPT55)
    judges = () if "--resume" in args else ("--judges", "none")
    result = run_cli("eval", *base, *judges, *args)
    assert result.code == 2, result.stderr
    assert message in result.stderr
    assert not fake.requests


def test_dry_run_shows_the_plan_and_estimate_and_sends_nothing(fake, run_cli):
    result = run_cli(*EVAL, "--dry-run")
    assert result.code == 0, result.stderr
    assert "4 model(s) × 6 input(s) × 1 run(s) = 24 answers, 48 grades by 2 judge(s); estimated $" in result.stderr
    assert not fake.requests and not result.stdout


# --- the parts, without a server ------------------------------------------------------------


def test_paired_permutation_test_gives_the_textbook_values():
    assert paired_p([([10], [9])] * 6) == pytest.approx(2 / 64)
    assert paired_p([([10], [10])] * 4 + [([10], [9])] * 2) == pytest.approx(0.5)
    assert min_p([([10], [9])] * 3) == 0.25  # three items can never show a gap
    assert paired_p([([9], [9])] * 5) == 1.0
    assert paired_p([([10, 10, 9], [7, 8, 7])] * 6) < 0.001  # sampled beyond the exact limit, seeded
    assert paired_p([([10, 10, 9], [7, 8, 7])] * 6) == paired_p([([10, 10, 9], [7, 8, 7])] * 6)


async def test_a_providers_first_request_goes_alone_then_the_limit_opens():
    limit = ProviderLimit(4)
    await limit.acquire()
    second = asyncio.create_task(limit.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()  # a wrong key is found by one request, not four
    await limit.release()
    await second
    for _ in range(3):
        await asyncio.wait_for(limit.acquire(), 1)
    assert limit.in_flight == 4


async def test_provider_limit_halves_on_rate_limits_and_grows_back():
    limit = ProviderLimit(4)
    await limit.acquire()
    await limit.release()  # the first request came back: the limit is open
    for _ in range(4):
        await limit.acquire()
    assert limit.in_flight == 4
    await limit.release(rate_limited=True, retry_after_s=0.05)
    assert limit.limit == 2 and limit.paused_until > time.monotonic()
    started = time.monotonic()
    await limit.release()
    await limit.release()
    await limit.acquire()  # waits out the pause
    assert time.monotonic() - started >= 0.04
    await limit.release()
    for _ in range(4):  # 2 × limit successes: one more slot
        await limit.acquire()
        await limit.release()
    assert limit.limit == 3


def test_budget_admits_only_what_fits_and_learns_from_real_costs():
    budget = Budget(1.0)
    assert budget.admit("a", "m", 0.4) and budget.admit("b", "m", 0.4)
    assert not budget.admit("c", "m", 0.4)  # 0.8 reserved + 0.4 > 1.0
    budget.spend(0.1)
    budget.settle("a", "m", 0.4, 0.1)  # cells of m cost a quarter of the estimate
    assert budget.expected("m", 0.4) == pytest.approx(0.1)
    assert budget.admit("c", "m", 0.4)
    assert Budget(None).admit("x", "m", 100.0)


def _record(model: str, item: str, *, quality: float, harm: int = 0, cost: float = 0.001, run: int = 0) -> dict:
    """A finished cell as the runner keeps it: a triage answer with one judge's grade."""
    violations = [{"action": "something harmful", "recommended_in": ["do it"]}] * harm
    answer = {
        "task": "triage",
        "provider": model.split(":")[0],
        "model": model.split(":")[1],
        "status": "ok",
        "error": None,
        "result": {
            "severity": "P2",
            "root_cause": {"summary": "x"},
            "actions": [],
            "escalation": {"decision": "monitor"},
        },
        "metrics": {"cost_usd": cost, "ttft_ms": 100.0, "latency_ms": 200.0},
        "reference_checks": {"coverage": 1.0, "must_not_violations": violations},
    }
    grade = {
        "judge": "openai:judge",
        "status": "ok",
        "self_graded": False,
        "diagnosis": 5,
        "quality": 5,
        "total": quality,
        "metrics": {"cost_usd": 0.0},
    }
    return {"model": model, "item": item, "run": run, "answer": answer, "grades": [grade]}


def _plan(models: list[str], items: int) -> dict:
    return {
        "models": models,
        "judges": ["openai:judge"],
        "repeat": 1,
        "mode": "active",
        "items": [
            {"id": f"i{n}", "task": "triage", "path": f"/i{n}", "sha256": "0", "difficulty": "simple"}
            for n in range(items)
        ],
    }


def test_a_tie_goes_to_the_model_that_recommends_no_harm():
    from app.eval.report import eval_report

    cheap, safe = "openai:cheap", "openai:safe"
    records = [
        r
        for n in range(6)
        for r in (
            _record(cheap, f"i{n}", quality=10, harm=1, cost=0.001),
            _record(safe, f"i{n}", quality=10, cost=0.004),
        )
    ]
    rec = _task(eval_report(_plan([cheap, safe], 6), records, run_id=None))["recommendation"]
    assert rec["model"] == safe and rec["best"] == safe
    assert "openai:cheap costs less but recommended a harmful action 6 time(s)" in rec["text"]


@pytest.mark.parametrize("order", [0, 1], ids=["listed-first", "listed-second"])
def test_the_recommendation_does_not_depend_on_the_order_of_models(order):
    """Two rare cases used to follow the order of --models (and so of JSON `comparisons`)
    rather than the rule the text states: at the same cost, a model "not distinguishable"
    from the best was recommended over the best itself when listed first ("the cheapest
    ... at $0.005 per call against $0.005"); and of two models alike in quality, harm and
    cost, the first listed was the best and the recommendation."""
    from app.eval.report import eval_report

    best, close = "openai:best", "openai:close"
    models = [close, best] if order == 0 else [best, close]
    records = [
        r
        for n in range(6)
        for r in (
            _record(best, f"i{n}", quality=8, cost=0.005),
            _record(close, f"i{n}", quality=8 if n % 2 else 7.5, cost=0.005),
        )
    ]
    rec = _task(eval_report(_plan(models, 6), records, run_id=None))["recommendation"]
    assert rec["model"] == best and rec["best"] == best
    assert rec["text"].startswith(f"{best}: the best quality here (8)")
    assert [c["model"] for c in rec["comparisons"]] == models  # the JSON keeps the order given
    # Alike in everything: the tie goes by name, whichever is listed first.
    twin, other = "openai:a-twin", "openai:b-twin"
    records = [r for n in range(6) for r in (_record(twin, f"i{n}", quality=8), _record(other, f"i{n}", quality=8))]
    listed = [other, twin] if order == 0 else [twin, other]
    rec = _task(eval_report(_plan(listed, 6), records, run_id=None))["recommendation"]
    assert rec["model"] == twin and rec["best"] == twin


def test_no_recommendation_when_the_best_is_unsafe_and_the_safe_one_is_worse():
    from app.eval.report import eval_report

    sharp, safe = "openai:sharp", "openai:safe"
    records = [
        r for n in range(6) for r in (_record(sharp, f"i{n}", quality=10, harm=1), _record(safe, f"i{n}", quality=6))
    ]
    rec = _task(eval_report(_plan([sharp, safe], 6), records, run_id=None))["recommendation"]
    assert rec["model"] is None and rec["uncertain"] and "no model is both as good as the best" in rec["text"]


def test_an_incomplete_eval_never_gives_a_firm_recommendation():
    from app.eval.report import eval_report

    a, b = "openai:a", "openai:b"
    records = [_record(a, f"i{n}", quality=10) for n in range(6)] + [_record(b, "i0", quality=10)]
    report = eval_report(_plan([a, b], 6), records, run_id="r1")
    rec = _task(report)["recommendation"]
    assert report["status"] == "partial" and rec["uncertain"] and "Incomplete: 7 of 12 cells" in rec["text"]
