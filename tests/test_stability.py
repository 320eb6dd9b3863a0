"""Finding-level stability over `--repeat N`, scripted on the fake server: each side finds
planted issues of a sample at known rates, and the clusters, counts, verdicts, words,
intervals and the exit-code gates (`--consensus`, `--agree`) are checked against them."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import stdev

import jsonschema
import pytest

from app.compare.significance import minimum_detectable, repeats_to_detect
from tests.fake_eval import eval_plan, review_cell, triage_cell
from tests.fake_reviews import key_issues, keyed_review
from tests.fakeserver import Reply

A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
MODEL = {"a": "claude-haiku-4-5", "b": "gpt-5.4-mini"}
SAMPLE = "inventory_service.py"
ALL = [i["id"] for i in key_issues(SAMPLE)]


def script_side(fake, side: str, drops: list[tuple[str, ...]], scores: list[int] | None = None) -> None:
    """One reply per run: run n leaves out the key's issues in drops[n]."""
    for n, drop in enumerate(drops):
        score = scores[n] if scores else 4
        fake.script(Reply(text=json.dumps(keyed_review(SAMPLE, drop=drop, score=score))), model=MODEL[side])


def cluster_of(report: dict, line: int) -> dict:
    return next(c for c in report["noise"]["clusters"] if c["line"] == line)


def compare(run_cli, repeat: int, *extra: str):
    return run_cli("compare", f"sample_code/{SAMPLE}", "-a", A, "-b", B, "--repeat", str(repeat), *extra)


def test_a_finding_one_side_always_makes_and_the_other_never_is_drift(fake, run_cli):
    # A finds every planted issue in all five runs; B never finds the SQL injection, and
    # both flicker on the weak password hash (A 3 of 5, B 2 of 5).
    a_scores, b_scores = [3, 3, 4, 3, 4], [6, 7, 6, 7, 7]
    script_side(fake, "a", [(), (), (), ("weak-password-hash",), ("weak-password-hash",)], a_scores)
    drops_b = [("sql-injection", "weak-password-hash")] * 3 + [("sql-injection",)] * 2
    script_side(fake, "b", drops_b, b_scores)
    result = compare(run_cli, 5, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    noise = report["noise"]
    assert noise["stability"] == {"stable": len(ALL) - 2, "drift": 1, "one_side": 0, "flicker": 1}
    assert noise["verdict"].endswith("; 1 finding(s) differ between the sides beyond each side's flicker")
    sql = cluster_of(report, 35)
    assert (sql["found_a"], sql["found_b"], sql["repeat_a"], sql["repeat_b"]) == (5, 0, 5, 5)
    assert (sql["verdict"], sql["favours"], sql["severity"]) == ("drift", "a", "critical")
    assert sql["p"] == round(2 / 252, 4) and sql["q"] <= 0.10
    assert list(sql["runs_a"]) == ["1", "2", "3", "4", "5"] and sql["runs_b"] == {}
    weak = cluster_of(report, 73)
    assert (weak["found_a"], weak["found_b"], weak["verdict"], weak["p"]) == (3, 2, "flicker", 1.0)
    # The ranking: stable on both sides, then drift, then flicker.
    assert [c["verdict"] for c in noise["clusters"]] == ["stable"] * (len(ALL) - 2) + ["drift", "flicker"]

    # The score: B − A with its Welch interval, and what N=5 could have seen.
    score = next(m for m in noise["measures"] if m["measure"] == "score")
    assert score["difference"]["estimate"] == pytest.approx(3.2, abs=1e-3)
    assert 0 < score["difference"]["low"] < 3.2 < score["difference"]["high"]
    detectable = minimum_detectable(stdev(a_scores), stdev(b_scores), 5)
    assert score["power"]["detectable"] == round(detectable, 3) and score["power"]["runs"] == 5
    assert score["power"]["repeats_for_target"] == repeats_to_detect(stdev(a_scores), stdev(b_scores), 1.0)
    recall = next(m for m in noise["measures"] if m["measure"] == "recall")
    assert recall["a"] == [1.0, 1.0, 1.0, round(8 / 9, 3), round(8 / 9, 3)]

    # In words, for people.
    script_side(fake, "a", [(), (), (), ("weak-password-hash",), ("weak-password-hash",)], a_scores)
    script_side(fake, "b", drops_b, b_scores)
    text = compare(run_cli, 5, "--format", "text").stdout
    assert 'B never finds "Sql injection problem" (L35) that A finds 5 of 5 times: drift (p = 0.008' in text
    assert '"Md5 password problem" (L73): A 3 of 5, B 2 of 5: flicker within each side, not drift' in text
    assert "findings across runs: 7 stable on both sides, 1 drift, 0 on one side only" in text
    needed = repeats_to_detect(stdev(a_scores), stdev(b_scores), 1.0)
    assert f"with N=5 a score gap under {detectable:.2g} is invisible; N={needed} detects 1 point at 80% power" in text
    assert "B − A +3.20 (95% interval" in text


def test_three_of_five_against_two_of_five_is_flicker_not_drift(fake, run_cli):
    script_side(fake, "a", [(), (), ("sql-injection",), ("sql-injection",), ()])
    script_side(fake, "b", [("sql-injection",)] * 3 + [(), ()])
    report = json.loads(compare(run_cli, 5, "--format", "json").stdout)
    sql = cluster_of(report, 35)
    assert (sql["found_a"], sql["found_b"], sql["verdict"]) == (3, 2, "flicker")
    assert report["noise"]["stability"]["drift"] == 0 and "flicker" not in report["noise"]["verdict"]


def test_two_runs_cannot_call_a_one_sided_finding_drift(fake, run_cli):
    script_side(fake, "a", [(), ()])
    script_side(fake, "b", [("sql-injection",)] * 2)
    result = compare(run_cli, 2, "--format", "text")
    assert result.code == 0, result.stderr
    assert (
        'B never finds "Sql injection problem" (L35) that A finds 2 of 2 times: too few runs to call it drift '
        "(p = 0.33); --repeat more to tell"
    ) in result.stdout


def test_a_later_run_that_fails_fails_the_compare(fake, run_cli):
    # Backlog bug: the status came from each side's first run only, so a second run that
    # failed gave exit 3 with "status": "ok".
    script_side(fake, "a", [(), ()])
    fake.script(Reply(text=json.dumps(keyed_review(SAMPLE))), model=MODEL["b"])
    fake.script(Reply(text=json.dumps(keyed_review(SAMPLE)), chunk_size=40, error_after=5), model=MODEL["b"])
    result = compare(run_cli, 2, "--format", "json", "--retries", "0")
    report = json.loads(result.stdout)
    assert result.code == 3, result.stderr
    assert [r["status"] for r in report["runs"]["b"]] == ["ok", "failed"]
    assert report["status"] == "failed"


# --- the gates: --fail-on with --consensus K and --agree -----------------------------------------


def _flickering_sql(fake) -> None:
    """A reports the critical SQL injection in 2 of 3 runs, B in 1 of 3; every other
    issue (high at most, after the shell injection is left out) both report every time."""
    script_side(fake, "a", [("shell-injection",), ("shell-injection",), ("shell-injection", "sql-injection")])
    script_side(
        fake, "b", [("shell-injection",), ("shell-injection", "sql-injection"), ("shell-injection", "sql-injection")]
    )


@pytest.mark.parametrize(
    ("gate", "code", "said"),
    [
        # Without --consensus any run counts: the injection was critical in some run.
        ((), 1, '1 finding(s) at or above critical in any of the 3 runs: "Sql injection problem" (L35)'),
        # A found it in 2 of 3 runs: K=2 keeps it (on either side), K=3 drops it.
        (("--consensus", "2"), 1, "at or above critical in at least 2 of 3 runs"),
        (("--consensus", "3"), 0, "1 finding(s) reached critical but not at or above critical in at least 3 of 3"),
        # Both providers report it (in one run at least): it gates with --agree ...
        (("--agree",), 1, "reported by both providers"),
        # ... but B reports it in only 1 of 3 runs, so not with --agree --consensus 2.
        (("--agree", "--consensus", "2"), 0, "reached critical but not"),
    ],
)
def test_consensus_and_agree_choose_the_findings_that_gate(fake, run_cli, gate, code, said):
    _flickering_sql(fake)
    result = compare(run_cli, 3, "--format", "json", "--fail-on", "critical", *gate)
    assert result.code == code, result.stderr
    assert said in result.stderr
    report = json.loads(result.stdout)
    assert report["gate"]["exit"] == code and report["gate"]["agree"] == ("--agree" in gate)
    assert [f["item"] for f in report["gate"]["findings"]] == (["Sql injection problem"] if code else [])


def test_agree_gates_only_on_findings_both_providers_report(fake, run_cli):
    # A finds the critical SQL injection, B never does: without --agree it gates, with it not.
    script_side(fake, "a", [("shell-injection",)])
    script_side(fake, "b", [("shell-injection", "sql-injection")])
    assert compare(run_cli, 1, "--fail-on", "critical", "--format", "json").code == 1
    script_side(fake, "a", [("shell-injection",)])
    script_side(fake, "b", [("shell-injection", "sql-injection")])
    assert compare(run_cli, 1, "--fail-on", "critical", "--agree", "--format", "json").code == 0
    # Both report high findings (the weak password hash): --agree gates on them.
    script_side(fake, "a", [("shell-injection",)])
    script_side(fake, "b", [("shell-injection", "sql-injection")])
    assert compare(run_cli, 1, "--fail-on", "high", "--agree", "--format", "json").code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-on", "high", "--consensus", "2"), "--consensus 2 counts runs: give --repeat N"),
        (("--repeat", "3", "--fail-on", "high", "--consensus", "4"), "--consensus 4 is more than --repeat 3"),
        (("--repeat", "3", "--consensus", "2"), "--consensus chooses which findings gate --fail-on"),
        (("--agree",), "--agree chooses which findings gate --fail-on"),
        (("--repeat", "3", "--fail-on", "high", "--consensus", "0"), "must be greater than 0"),
    ],
)
def test_bad_gate_combinations_are_one_line_and_exit_2(fake, run_cli, args, message):
    result = run_cli("compare", f"sample_code/{SAMPLE}", "-a", A, "-b", B, *args)
    assert result.code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not fake.requests


def test_fail_on_is_for_a_review_not_an_incident(fake, run_cli):
    result = run_cli("compare", "--incident", "incidents/kafka-lag.md", "-a", A, "-b", B, "--fail-on", "high")
    assert result.code == 2 and "--fail-on apply to a review (FILE)" in result.stderr


# --- review --repeat N ---------------------------------------------------------------------


def test_review_repeat_reports_stability_and_gates_on_consensus(fake, run_cli):
    # The SQL injection (critical) in 2 of 3 runs; every other issue but the shell
    # injection (the other critical one, left out) in all three.
    def script() -> None:
        script_side(fake, "a", [("shell-injection",), ("shell-injection", "sql-injection"), ("shell-injection",)])

    script()
    result = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "3", "--format", "json")
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["task"], record["status"], record["repeat"], len(record["runs"])) == ("review", "ok", 3, 3)
    clusters = record["stability"]["clusters"]
    sql = next(c for c in clusters if c["line"] == 35)
    assert (sql["found"], sql["repeat"], sql["verdict"], sorted(sql["runs"])) == (2, 3, "flicker", ["1", "3"])
    assert sum(c["verdict"] == "stable" for c in clusters) == len(ALL) - 2

    # --fail-on critical: any run (no --consensus) and K=2 gate on it; K=3 does not.
    for gate, code in (((), 1), (("--consensus", "2"), 1), (("--consensus", "3"), 0)):
        script()
        gated = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "3", "--fail-on", "critical", *gate)
        assert gated.code == code, (gate, gated.stderr)
    assert "reached critical but not at or above critical in at least 3 of 3 runs" in gated.stderr
    assert '"Sql injection problem" (L35): in 2 of 3 runs, comes and goes' in gated.stdout

    # SARIF: one result per finding across the runs, with its stability as properties.
    script()
    sarif = json.loads(run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "3", "--format", "sarif").stdout)
    schema = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
    jsonschema.validate(sarif, json.loads(schema.read_text()))
    results = sarif["runs"][0]["results"]
    assert len(results) == len(ALL) - 1 and sarif["runs"][0]["properties"]["repeat"] == 3
    sql_result = next(r for r in results if r["properties"]["category"] == "security" and "Sql" in r["message"]["text"])
    # History exports the same SARIF, stability included, from the recorded run.
    script()
    recorded = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "3", "--format", "sarif")
    run_id = recorded.stderr.split("recorded as ")[1].split()[0]
    exported = json.loads(run_cli("history", "export", run_id, "--format", "sarif").stdout)
    assert [r["properties"] for r in exported["runs"][0]["results"]] == [r["properties"] for r in results]
    markdown = run_cli("history", "export", run_id, "--format", "markdown").stdout
    assert '"Sql injection problem" (L35): in 2 of 3 runs, comes and goes' in markdown
    assert {k: sql_result["properties"][k] for k in ("foundInRuns", "repeat", "stability", "runs")} == {
        "foundInRuns": 2,
        "repeat": 3,
        "stability": "flicker",
        "runs": [1, 3],
    }


def test_review_repeat_with_a_failed_run_exits_3_and_keeps_the_others(fake, run_cli):
    script_side(fake, "a", [()])
    fake.script(Reply(text=json.dumps(keyed_review(SAMPLE)), chunk_size=40, error_after=5), model=MODEL["a"])
    result = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "2", "--retries", "0", "--format", "json")
    assert result.code == 3 and "run 2 of 2:" in result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "failed" and [r["status"] for r in record["runs"]] == ["ok", "failed"]
    assert record["stability"]["finished"] == 1 and record["result"]["findings"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-on", "high", "--consensus", "2"), "--consensus 2 counts runs: give --repeat N"),
        (("--repeat", "2", "--fail-on", "high", "--consensus", "3"), "--consensus 3 is more than --repeat 2"),
        (("--repeat", "2", "--consensus", "2"), "--consensus chooses which findings gate --fail-on"),
    ],
)
def test_review_gate_mistakes_are_one_line_and_exit_2(fake, run_cli, args, message):
    result = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, *args)
    assert result.code == 2 and message in result.stderr and not fake.requests, result.stderr


# --- the TUI's drift panel ------------------------------------------------------------------------


async def test_the_drift_panel_shows_each_pairs_stability_and_the_score_interval():
    from textual.widgets import OptionList, Static

    from app.tui.app import DriftcheckApp
    from app.tui.compare_screen import CompareScreen

    report = json.loads((Path(__file__).parent / "data" / "tui" / "compare_report_repeat.json").read_text())
    app = DriftcheckApp(lambda a: CompareScreen(f"sample_code/{SAMPLE}", A, B, stored=report), record=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pairs = app.screen.query_one("#pairs", OptionList)
        prompts = [str(pairs.get_option_at_index(n).prompt) for n in range(pairs.option_count)]
        # Matched in the first run and found by every run of both sides.
        assert any("Hardcoded token problem" in p and "5/5 · 5/5" in p for p in prompts)
        # Found by A in every run and by B in none: the drift.
        assert any("only A" in p and "Sql injection problem" in p and "5/5 · 0/5" in p for p in prompts)
        assert any("only A" in p and "Md5 password problem" in p and "3/5 · 2/5" in p for p in prompts)
        summary = str(app.screen.query_one("#drift-summary", Static).render())
        assert "score B − A +3.20 (95% interval +2.40 to +4.00), excludes 0" in summary


# --- eval --repeat N: stability per model, drift against the recommended one -----------------------


def _review_cell(model: str, run: int, drop: tuple[str, ...], cost: float) -> dict:
    reply = keyed_review(SAMPLE, drop=drop)
    findings = [{"id": f"F{n}", "symbol": None, **f} for n, f in enumerate(reply["findings"], start=1)]
    recall = round(len(findings) / len(ALL), 3)
    return review_cell(model, SAMPLE, run, recall=recall, precision=1.0, cost=cost, findings=findings)


def test_eval_repeat_reports_each_models_stability_and_its_drift_from_the_recommended():
    from app.eval.report import eval_report
    from app.render.eval import against_lines, stability_line

    best, cheap = "openai:best", "openai:cheap"
    records = [_review_cell(best, run, (), 0.008) for run in range(5)]
    # The cheap model never finds the SQL injection and finds the weak hash in 3 of 5 runs.
    records += [
        _review_cell(cheap, run, ("sql-injection",) + (("weak-password-hash",) if run < 2 else ()), 0.002)
        for run in range(5)
    ]
    plan = {
        "models": [best, cheap],
        "judges": [],
        "repeat": 5,
        "mode": "active",
        # A plan as EvalPlan.to_dict() gives it: the report validates it into its contract model.
        "items": [
            {
                "id": SAMPLE,
                "task": "review",
                "path": f"sample_code/{SAMPLE}",
                "sha256": "0" * 64,
                "difficulty": "complex",
            }
        ],
    }
    task = eval_report(plan, records, run_id=None)["tasks"][0]
    rows = {row["model"]: row for row in task["models"]}
    assert rows[best]["stability"] == {"stable": len(ALL), "flicker": 0, "stable_share": 1.0, "come_and_go": []}
    assert rows[cheap]["stability"]["flicker"] == 1
    assert rows[cheap]["stability"]["come_and_go"][0] == {
        "input": SAMPLE,
        "item": "Md5 password problem",
        "line": 73,
        "found": 3,
        "repeat": 5,
    }
    rec = task["recommendation"]
    assert rec["model"] == best  # the cheap one scores lower on every run
    [against] = rec["against_recommended"]
    [sql] = against["findings_drift"]
    assert (sql["line"], sql["found_a"], sql["found_b"], sql["repeat_a"]) == (35, 0, 5, 5)
    assert sql["text"] == (
        f'{SAMPLE}: openai:cheap never finds "Sql injection problem" (L35) that openai:best finds 5 of 5 times: '
        f"drift (p = 0.008, adjusted {sql['q']:.3f})"
    )
    assert any("openai:cheap never finds" in line for line in against_lines(rec))
    assert (
        stability_line(task)
        == f"findings made in every run of an input: openai:best {len(ALL)} of {len(ALL)}, openai:cheap {len(ALL) - 2} of {len(ALL) - 1}"
    )


def test_eval_controls_false_discoveries_over_every_input_not_input_by_input():
    """One action the recommended model takes in 5 of 5 runs on one incident and the other
    model never: p = 2/252, drift at the 10 % false-discovery rate if that incident were
    its own family (with the action both take, q = 2 · 2/252). Beside another incident
    with 15 actions that flicker (3 of 5 against 2 of 5, p = 1), the eval's family has 17
    tests and q = 17 · 2/252 = 0.135: not drift (compare adjusts over all of a report's
    clusters the same way)."""
    from app.compare.significance import fisher_exact
    from app.compare.stability import align_actions, stability_clusters
    from app.eval.report import eval_report

    best, cheap = "openai:best", "openai:cheap"
    # Fifteen actions without a word in common, so each is its own cluster.
    flicker = [
        "Rotate leaked credentials",
        "Drain node seven",
        "Raise kafka retention",
        "Purge CDN cache",
        "Scale worker replicas",
        "Disable feature flag",
        "Roll back deploy",
        "Increase disk quota",
        "Notify legal counsel",
        "Pause batch imports",
        "Reindex search cluster",
        "Failover primary database",
        "Block abusive IPs",
        "Extend certificate expiry",
        "Throttle webhook senders",
    ]
    records = []
    for run in range(5):
        records += [triage_cell(best, "i0", run, 8, 0.008, ("Check the dashboards first",))]
        records += [triage_cell(cheap, "i0", run, 8, 0.002, ("Check the dashboards first", "Restart the payment pods"))]
        records += [triage_cell(best, "i1", run, 8, 0.008, tuple(flicker) if run < 3 else ())]
        records += [triage_cell(cheap, "i1", run, 8, 0.002, tuple(flicker) if run < 2 else ())]
    plan = eval_plan([best, cheap], ["i0", "i1"], task="triage", repeat=5, judges=["openai:judge"])
    rec = eval_report(plan, records, run_id=None)["tasks"][0]["recommendation"]
    assert rec["model"] == cheap  # as good, and cheaper
    [against] = rec["against_recommended"]
    assert against["model"] == best and against["findings_drift"] == []
    # On its own, the incident's one-sided action is drift (its family is itself) ...
    alone = stability_clusters(
        [[{"action": "Check the dashboards first"}]] * 5,
        [[{"action": "Check the dashboards first"}, {"action": "Restart the payment pods"}]] * 5,
        aligner=align_actions,
        label=lambda a: str(a["action"]),
    )
    assert [c["verdict"] for c in alone] == ["stable", "drift"]
    # ... and in the eval's family of 17 (one stable, one one-sided, 15 flickering) it is not.
    assert round(fisher_exact(0, 5, 5, 5) * 17, 4) > 0.10


def test_a_triage_compare_clusters_actions_across_runs():
    from app.compare.noise import repeat_report

    def run(*actions: str) -> dict:
        items = [{"priority": n, "action": a, "owner": "on-call", "timeline": "now"} for n, a in enumerate(actions, 1)]
        return {"status": "ok", "result": {"severity": "P2", "root_cause": {"summary": "disk"}, "actions": items}}

    roll = "Roll back the config deploy that raised the connection limit"
    page = "Page the database owner about replication lag on the primary"
    a = [run(roll, page), run(roll, page), run(roll, page), run(roll, page), run(roll)]
    b = [run(page), run(page), run(page), run(page), run(page)]
    report = repeat_report("triage", a, b)
    clusters = {c["item"]: c for c in report["clusters"]}
    assert (clusters[roll]["found_a"], clusters[roll]["found_b"], clusters[roll]["verdict"]) == (5, 0, "drift")
    assert (clusters[page]["found_a"], clusters[page]["found_b"], clusters[page]["verdict"]) == (4, 5, "flicker")
    assert clusters[roll]["line"] is None and clusters[roll]["severity"] is None


def test_stability_sentences_and_gate_notes_reach_the_terminal_inertly(fake, run_cli):
    from tests.test_terminal_output import EVIL, assert_inert

    def evil_reply() -> Reply:
        reply = keyed_review(SAMPLE)
        for finding in reply["findings"]:
            finding["title"] = f"{finding['title']} {EVIL}"
        return Reply(text=json.dumps(reply))

    for args in (("--format", "text"), ("--format", "markdown")):
        fake.script(evil_reply(), model=MODEL["a"])
        fake.script(Reply(text=json.dumps(keyed_review(SAMPLE, drop=("sql-injection",)))), model=MODEL["a"])
        fake.script(evil_reply(), evil_reply(), model=MODEL["b"])
        result = compare(run_cli, 2, "--fail-on", "high", *args)
        assert result.code == 1, result.stderr
        assert "flicker within each side" in result.stdout and "FORGED" in result.stdout
        assert_inert(result.stdout + result.stderr, f"compare --repeat 2 {args}")
    fake.script(evil_reply(), Reply(text=json.dumps(keyed_review(SAMPLE, drop=("sql-injection",)))), model=MODEL["a"])
    result = run_cli("review", f"sample_code/{SAMPLE}", "-p", A, "--repeat", "2", "--fail-on", "high")
    assert result.code == 1 and "comes and goes" in result.stdout
    assert_inert(result.stdout + result.stderr, "review --repeat 2")
