"""The public JSON contract: every command's `--format json` output validates against the
JSON Schema `driftcheck schema NAME` prints, and a mutated output does not.

The schemas come from the pydantic models the domain builds its outputs with; they are
closed (additionalProperties false), so a field added to an output without its model, or
a field dropped from one, fails here. Runs against the fake server, as a user runs them.

With CONTRACT_CAPTURE=DIR set, each output is also written to DIR/NAME.json (how the
change to models was checked for the same JSON, key order included, as before it).
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests import fake_eval
from tests.fake_reviews import keyed_review_text
from tests.fake_triage import answer_text, verdict
from tests.fakeserver import Reply, empty_billed, heavy_tailed_delays
from tests.test_diff_review import CALC, UTIL_JS, finding, reply, repo  # noqa: F401 (repo: the fixture)

ROOT = Path(__file__).resolve().parent.parent
HAIKU, MINI, SONNET, GPT55 = (
    "anthropic:claude-haiku-4-5",
    "openai:gpt-5.4-mini",
    "anthropic:claude-sonnet-4-6",
    "openai:gpt-5.5",
)
SAMPLE = "sample_code/inventory_service.py"
INCIDENT = "incidents/pg-storage.md"


@cache
def _schema(name: str) -> dict[str, Any]:
    from app.cli.schema import schema_of

    schema = schema_of(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    """One validator per schema: jsonschema.validate checks the schema itself on every call,
    which cost this file most of its time."""
    return jsonschema.Draft202012Validator(_schema(name))


def _valid(name: str, data: Any) -> None:
    """Validate `data` against schema NAME (and keep it for the before/after check)."""
    capture = os.environ.get("CONTRACT_CAPTURE")
    if capture:
        label = f"{name}-{os.environ.get('PYTEST_CURRENT_TEST', '').split('::')[-1].split(' ')[0]}"
        path = Path(capture) / f"{label}.json"
        while path.exists():
            path = path.with_name(path.stem + "+.json")
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        if os.environ.get("CONTRACT_CAPTURE_ONLY"):
            return
    _validator(name).validate(data)


def _invalid(name: str, data: Any) -> None:
    if os.environ.get("CONTRACT_CAPTURE_ONLY"):
        return
    with pytest.raises(jsonschema.ValidationError):
        _validator(name).validate(data)


def _each_breaks(name: str, data: dict[str, Any], *mutations: Callable[[dict[str, Any]], Any]) -> None:
    """Each mutation, on its own copy of `data`, makes an output schema NAME refuses."""
    for mutate in mutations:
        broken = copy.deepcopy(data)
        mutate(broken)
        _invalid(name, broken)


def _run_id(stderr: str) -> str:
    return stderr.split("recorded as ")[1].split()[0]


def _export(run_cli, stderr: str) -> dict[str, Any]:
    result = run_cli("history", "export", _run_id(stderr), "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


# --- review -----------------------------------------------------------------------------------


def test_review_json_validates_and_so_does_its_history_export(fake, run_cli):
    fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except",), score=3)))
    result = run_cli("review", SAMPLE, "-p", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    _valid("review", data)
    exported = _export(run_cli, result.stderr)
    assert exported == data
    _valid("history", exported)
    listed = run_cli("history", "list", "--format", "json")
    _valid("history-list", json.loads(listed.stdout))
    shown = json.loads(run_cli("history", "show", _run_id(result.stderr), "--format", "json").stdout)
    assert shown["result"] == data and shown["calls"]
    _valid("history-show", shown)

    # Negative checks: the schema is strict enough to fail an output that broke the contract.
    for mutate in (
        lambda d: d.pop("metrics"),
        lambda d: d["result"]["findings"][0].pop("line_start"),
        lambda d: d["result"]["findings"][0].update(severity="severe"),
        lambda d: d["metrics"].update(surprise=1),
        lambda d: d.update(status="fine"),
        lambda d: d["input"].update(lines="85"),
    ):
        broken = copy.deepcopy(data)
        mutate(broken)
        _invalid("review", broken)
        _invalid("history", broken)


def test_history_diff_json_validates(fake, run_cli):
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=3)))
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=5, drop=("bare-except",))))
    first, second = (run_cli("review", SAMPLE, "-p", MINI, "--format", "json") for _ in range(2))
    result = run_cli("history", "diff", _run_id(first.stderr), _run_id(second.stderr), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["same_input"] is True and len(data["only_a"]) == 1
    _valid("history-diff", data)
    broken = copy.deepcopy(data)
    broken["cost_usd"] = "free"
    _invalid("history-diff", broken)


def test_chunked_review_json_validates(fake, run_cli, tmp_path):
    path = tmp_path / "big.py"
    path.write_text("".join(f"def f{n}(x):\n    y = x + {n}\n    return y * 2\n\n" for n in range(400)))
    result = run_cli("review", str(path), "-p", MINI, "--chunk-tokens", "1500", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["input"]["chunks"]) > 1
    _valid("review", data)


def test_a_review_failed_mid_stream_validates(fake, run_cli, tmp_path):
    text = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=text, chunk_size=20, drop_after=text.index('"line_start": 49') // 20))
    out = tmp_path / "partial.json"
    result = run_cli("review", SAMPLE, "-p", HAIKU, "--format", "json", "--out", str(out))
    assert result.code == 3
    data = json.loads(out.read_text())
    assert data["status"] == "failed" and data["error"]["kind"] == "interrupted" and data["partial_text"]
    _valid("review", data)
    shown = json.loads(run_cli("history", "show", _run_id(result.stderr), "--format", "json").stdout)
    assert shown["calls"][0]["status"] == "failed" and shown["calls"][0]["parsed"] is None
    _valid("history-show", shown)
    broken = copy.deepcopy(data)
    broken["error"].pop("message")  # an error always says what happened
    _invalid("review", broken)


# --- a review of several files or of a change, and review --repeat --------------------------------


def _in(repo, cli_env, *args: str):
    from tests.conftest import run_in_process

    return run_in_process(args, env=cli_env, cwd=repo.path)


def test_a_change_review_validates_with_a_baseline_and_a_file_left_out(fake, repo, cli_env):
    fake.script(reply(finding(6, "return a / b")))
    base = _in(repo, cli_env, "review", "calc.py", "notes.txt", "-p", MINI, "--format", "json")
    assert base.code == 0, base.stderr
    assert json.loads(base.stdout)["input"]["kind"] == "files"
    _valid("review", json.loads(base.stdout))

    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    (repo.path / "notes.txt").unlink()  # deleted: left out, with the reason
    fake.reply_when(
        "gpt-5.4-mini", ["File: calc.py"], reply(finding(6, "return a / b  # may be zero", title="Div by 0"))
    )
    fake.reply_when("gpt-5.4-mini", ["File: web/util.js"], reply(finding(2, 'return "hi " + name;', title="Unescaped")))
    result = _in(repo, cli_env, "review", "--diff", "-p", MINI, "--baseline", _run_id(base.stderr), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["input"]["kind"] == "change" and data["baseline"]["fixed_findings"]
    assert {f["status"] for f in data["files"]} == {"ok", "left_out"}
    assert all({"path", "fingerprint", "outside_change", "baseline"} <= set(f) for f in data["result"]["findings"])
    _valid("review", data)
    _valid("history", _export(run_cli=lambda *a: _in(repo, cli_env, *a), stderr=result.stderr))
    _each_breaks(
        "review",
        data,
        lambda d: d["files"][0].pop("hunks_only"),
        lambda d: d["files"][-1].update(status="skipped"),
        lambda d: d["baseline"].pop("fixed"),
        lambda d: d["result"]["findings"][0].update(baseline="old"),
        lambda d: d["input"].update(kind="patch"),
        lambda d: d.pop("provenance"),
    )


def test_a_compare_of_a_change_validates_with_its_drift_per_file(fake, repo, cli_env):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    zero = finding(6, "return a / b  # may be zero")
    for model, calc, util in (
        (
            "claude-haiku-4-5",
            reply(zero),
            reply(finding(2, 'return "hi " + name;', title="Unescaped", severity="medium")),
        ),
        ("gpt-5.4-mini", reply({**zero, "severity": "critical"}), reply()),
    ):
        fake.reply_when(model, ["File: calc.py"], calc)
        fake.reply_when(model, ["File: web/util.js"], util)
    result = _in(repo, cli_env, "compare", "--diff", "-a", HAIKU, "-b", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["drift"]["files"] and data["drift"]["matched"][0]["path"] == "calc.py"
    _valid("compare", data)
    broken = copy.deepcopy(data)
    broken["drift"]["files"][0].pop("agreement")
    _invalid("compare", broken)


def _script_repeat(fake, model: str, drops: list[tuple[str, ...]]) -> None:
    for drop in drops:
        fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=drop)), model=model)


def test_review_repeat_validates_with_the_stability_of_each_finding(fake, run_cli):
    _script_repeat(fake, "claude-haiku-4-5", [(), ("sql-injection",), ()])
    result = run_cli("review", SAMPLE, "-p", HAIKU, "--repeat", "3", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["repeat"] == 3 and len(data["runs"]) == 3 and data["stability"]["clusters"]
    _valid("review", data)
    _valid("history", _export(run_cli, result.stderr))
    broken = copy.deepcopy(data)
    broken["stability"]["clusters"][0].update(verdict="drift")  # one provider's runs: stable or flicker
    _invalid("review", broken)


def test_compare_repeat_with_a_gate_validates(fake, run_cli):
    _script_repeat(fake, "claude-haiku-4-5", [(), (), ("sql-injection",)])
    _script_repeat(fake, "gpt-5.4-mini", [("sql-injection",), ("sql-injection",), ()])
    args = ("compare", SAMPLE, "-a", HAIKU, "-b", MINI, "--repeat", "3", "--fail-on", "critical", "--consensus", "2")
    result = run_cli(*args, "--format", "json")
    assert result.code == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["gate"]["exit"] == 1 and data["gate"]["findings"]
    noise = data["noise"]
    assert noise["clusters"] and noise["stability"]
    score = next(m for m in noise["measures"] if m["measure"] == "score")
    assert score["difference"] is not None and score["power"] is not None
    _valid("compare", data)
    _each_breaks(
        "compare",
        data,
        lambda d: d["gate"].pop("exit"),
        lambda d: d["noise"]["clusters"][0].update(verdict="maybe"),
        lambda d: d["noise"]["stability"].pop("flicker"),
        lambda d: next(m for m in d["noise"]["measures"] if m["measure"] == "score")["power"].pop("runs"),
    )


def test_compare_against_a_baseline_validates_with_its_attribution(fake, run_cli):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    first = run_cli("review", SAMPLE, "-p", HAIKU, "--format", "json")
    assert first.code == 0, first.stderr
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=6)), model="gpt-5.4-mini")
    result = run_cli("compare", SAMPLE, "--baseline", _run_id(first.stderr), "-b", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["attribution"]["verdict"] and "pairwise" not in data
    _valid("compare", data)
    broken = copy.deepcopy(data)
    broken["attribution"]["verdict"] = "sunspots"
    _invalid("compare", broken)


# --- triage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["active", "postmortem"])
def test_triage_json_with_judges_validates_in_both_modes(fake, run_cli, mode):
    fake.script(Reply(text=answer_text("pg-storage.md", mode)), model="claude-haiku-4-5")
    fake.script(Reply(text=verdict(5, 4)), model="gpt-5.4-mini")
    fake.script(Reply(text=verdict(3, 4)), model="claude-sonnet-4-6")
    result = run_cli(
        "triage", INCIDENT, "-p", HAIKU, "--mode", mode, "--judge", MINI, "--judge", SONNET, "--format", "json"
    )
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["judge_disagreement"] is not None and data["reference_checks"]["reference"]
    _valid("triage", data)
    _valid("history", _export(run_cli, result.stderr))
    broken = copy.deepcopy(data)
    broken["judges"][0]["total"] = "nine"
    _invalid("triage", broken)
    broken = copy.deepcopy(data)
    broken["result"]["root_cause"]["blame"] = "the DBA"  # closed down to the nested objects
    _invalid("triage", broken)


def test_triage_json_without_a_reference_or_judges_validates(fake, run_cli):
    fake.script(Reply(text=answer_text("pg-storage.md", "active")))
    pasted = (ROOT / INCIDENT).read_text(encoding="utf-8")
    result = run_cli("triage", "-", "-p", HAIKU, "--format", "json", stdin=pasted)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reference_checks"]["reference"] is None and "coverage" not in data["reference_checks"]
    _valid("triage", data)


# --- compare ----------------------------------------------------------------------------------


def test_compare_of_reviews_with_repeat_validates(fake, run_cli):
    for score in (3, 4):
        fake.script(Reply(text=keyed_review_text("inventory_service.py", score=score)), model="claude-haiku-4-5")
    for score in (7, 8):
        fake.script(
            Reply(text=keyed_review_text("inventory_service.py", score=score, drop=("bare-except",))),
            model="gpt-5.4-mini",
        )
    result = run_cli("compare", SAMPLE, "-a", HAIKU, "-b", MINI, "--repeat", "2", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["runs"]["a"]) == 2 and data["noise"]["measures"]
    _valid("compare", data)
    _valid("history", _export(run_cli, result.stderr))
    broken = copy.deepcopy(data)
    broken["drift"]["score"].pop("delta")
    _invalid("compare", broken)


def test_compare_of_triage_with_judges_and_repeat_validates(fake, run_cli):
    for _ in range(2):
        fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P1")), model="claude-haiku-4-5")
        fake.script(
            Reply(text=answer_text("pg-storage.md", "active", harmful=True, severity="P2")), model="gpt-5.4-mini"
        )
    for _ in range(4):
        fake.script(Reply(text=verdict(4, 4)), model="gpt-5.5")
    result = run_cli(
        "compare", "--incident", INCIDENT, "-a", HAIKU, "-b", MINI, "--judge", GPT55, "--repeat", "2",
        "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["compared"] == "triage" and data["drift"]["judges"] is not None
    _valid("compare", data)
    broken = copy.deepcopy(data)
    broken["a"]["task"] = "review"  # a triage's keys under a review's name
    _invalid("compare", broken)


def test_compare_of_one_run_each_has_no_runs_key_and_validates(fake, run_cli):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="gpt-5.4-mini")
    result = run_cli("compare", SAMPLE, "-a", HAIKU, "-b", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "runs" not in data
    _valid("compare", data)


def test_compare_of_triage_with_pairwise_judges_validates(fake, run_cli):
    fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P1")), model="claude-haiku-4-5")
    fake.script(Reply(text=answer_text("pg-storage.md", "active", harmful=True)), model="gpt-5.4-mini")
    pick = {"first": "The first one is sounder.", "second": "The second one is sounder."}
    fake.script(
        *(Reply(text=json.dumps({"reason": pick[p], "better": p})) for p in ("first", "first")), model="gpt-5.5"
    )
    judges = ("--judge", GPT55, "--judge-mode", "pairwise")
    result = run_cli("compare", "--incident", INCIDENT, "-a", HAIKU, "-b", MINI, *judges, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["pairwise"]["judges"][0]["position_bias"] == "first"
    _valid("compare", data)
    _each_breaks(
        "compare",
        data,
        lambda d: d["pairwise"]["judges"][0].update(winner="c"),
        lambda d: d["pairwise"].pop("votes"),
    )


# --- eval, bench, ask, providers ----------------------------------------------------------------


def test_eval_json_validates(fake, run_cli, tmp_path):
    for name in ("pg-storage.md", "pg-storage.md.reference.toml", "kafka-lag.md"):
        (tmp_path / name).write_text((ROOT / "incidents" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "inventory.py").write_text((ROOT / SAMPLE).read_text(encoding="utf-8"), encoding="utf-8")
    fake_eval.script(fake)
    fake.reply_when("gpt-5.4-mini", ("inventory",), Reply(text=keyed_review_text("inventory_service.py")))
    fake.reply_when("claude-haiku-4-5", ("inventory",), Reply(text=keyed_review_text("inventory_service.py")))
    result = run_cli(
        "eval", "--models", f"{MINI},{HAIKU}", "--judges", f"{GPT55},{SONNET}", "--set", str(tmp_path),
        "--format", "json", timeout=180,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {t["task"] for t in data["tasks"]} == {"review", "triage.active"}
    reliability = data["tasks"][0]["judges"]["reliability"]
    assert reliability["statistic"] == "weighted_kappa" and "kappa" in reliability["dimensions"]["total"]
    _valid("eval", data)
    _valid("history", _export(run_cli, result.stderr))
    _each_breaks(
        "eval",
        data,
        lambda d: d["tasks"][0]["models"][0]["quality"].update(mean="high"),
        lambda d: d["tasks"][0]["judges"]["reliability"]["dimensions"]["total"].update(reading="fine"),
        lambda d: d["tasks"][0]["judges"]["reliability"].pop("offsets"),
        lambda d: d["plan"].update(self_judging="yes"),
    )


def test_bench_json_validates(fake, run_cli):
    fake.latency_profile(
        "claude-haiku-4-5", heavy_tailed_delays(40, scale=0.01), Reply(text="Check the last deploy.", chunk_size=6)
    )
    result = run_cli("bench", "latency", "-p", HAIKU, "-n", "12", "--concurrency", "4", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["length"] is not None
    _valid("bench", data)
    stored = _export(run_cli, result.stderr)
    assert stored == {"task": "bench", **data}
    _valid("history", stored)
    broken = copy.deepcopy(data)
    broken["ttft"].pop("p95")
    _invalid("bench", broken)


def test_ask_and_providers_json_validate(fake, run_cli):
    fake.script(Reply(text="An answer."))
    result = run_cli("ask", "-p", MINI, "--format", "json", "hi")
    assert result.code == 0, result.stderr
    _valid("ask", json.loads(result.stdout))
    # A billed answer with no text: failed by its check, whose error has only kind and message.
    fake.script(empty_billed(reasoning_tokens=2000))
    result = run_cli("ask", "-p", "openai:gpt-5.5", "--max-tokens", "2000", "--format", "json", "hi")
    assert result.code == 3
    failed = json.loads(result.stdout)
    assert failed["status"] == "failed" and set(failed["error"]) == {"kind", "message"}
    _valid("ask", failed)
    result = run_cli("providers", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    _valid("providers", data)
    broken = copy.deepcopy(data)
    broken["providers"][0]["usable"] = "yes"
    _invalid("providers", broken)


# --- history: a row stored before the models existed --------------------------------------------

# A review as the hand-built dicts wrote it (the shape of the public JSON before the models).
OLD_REVIEW = {
    "task": "review",
    "provider": "anthropic",
    "model": "claude-haiku-4-5",
    "status": "ok",
    "error": None,
    "input": {
        "path": "sample_code/quota_limiter.go",
        "sha256": "0" * 64,
        "language": "go",
        "lines": 40,
        "encoding": "utf-8",
        "chunks": [{"start": 1, "end": 40}],
    },
    "result": {
        "score": 4,
        "summary": "Races on the counter.",
        "counts": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0},
        "findings": [
            {
                "id": "F1",
                "line_start": 12,
                "line_end": 14,
                "severity": "high",
                "category": "concurrency",
                "title": "Unsynchronised counter",
                "explanation": "Two goroutines write it.",
                "suggestion": "Use a mutex.",
                "evidence": "count++",
                "symbol": "Allow",
                "lines_valid": True,
                "cited_lines": None,
            }
        ],
    },
    "partial_text": None,
    "metrics": {
        "ttft_ms": 80.0,
        "latency_ms": 900.5,
        "input_tokens": 1200,
        "output_tokens": 300,
        "reasoning_tokens": None,
        "cache_read_tokens": None,
        "cache_write_tokens": None,
        "cost_usd": 0.0027,
        "retries": 0,
        "hedged": False,
        "fallback_from": None,
        "hedge_cost_usd": None,
    },
    "checks": [],
    "answer_key": None,
}


def _store_old_review(run_cli, cli_env, run_id: str, path: str, sha: str, record: dict[str, Any]) -> None:
    """A finished review stored a day ago, as an older driftcheck wrote it."""
    assert run_cli("history", "list").code == 0  # creates the database
    conn = sqlite3.connect(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db")
    with conn:
        conn.execute(
            "INSERT INTO runs (id, created_at, finished_at, task, input_ref, input_sha256, providers, status,"
            " score, summary, result_json) VALUES (?, ?, ?, 'review', ?, ?, 'anthropic:claude-haiku-4-5',"
            " 'ok', 4, 'Races on the counter.', ?)",
            (run_id, time.time() - 86400, time.time() - 86399, path, sha, json.dumps(record)),
        )
    conn.close()


def test_a_run_stored_before_the_models_still_shows_and_exports(run_cli, cli_env):
    _store_old_review(run_cli, cli_env, "rold1", "sample_code/quota_limiter.go", "0" * 64, OLD_REVIEW)
    shown = run_cli("history", "show", "rold1")
    assert shown.code == 0, shown.stderr
    assert "Score 4/10" in shown.stdout and "Unsynchronised counter" in shown.stdout
    as_json = json.loads(run_cli("history", "show", "rold1", "--format", "json").stdout)
    assert as_json["result"] == OLD_REVIEW
    _valid("history-show", as_json)
    exported = run_cli("history", "export", "rold1", "--format", "json")
    assert exported.code == 0 and json.loads(exported.stdout) == OLD_REVIEW
    # Stored before provenance and cache savings existed: today's schema holds once they are added.
    from app.calls.contract import Provenance

    metrics = {**OLD_REVIEW["metrics"], "cache_saved_usd": None, "batch": False}
    _valid("history", {**OLD_REVIEW, "metrics": metrics, "provenance": dict.fromkeys(Provenance.model_fields)})
    assert run_cli("history", "export", "rold1", "--format", "sarif").code == 0


def test_a_baseline_stored_before_fields_were_added_is_compared_as_it_was(fake, run_cli, cli_env):
    """An older driftcheck stored reviews without the cache-token and hedge metrics: a
    compare against one works, and keeps that side exactly as stored."""
    import hashlib

    path = "sample_code/inventory_service.py"
    sha = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    older = copy.deepcopy(OLD_REVIEW)
    older["input"].update(path=path, sha256=sha, language="python", lines=85, chunks=[{"start": 1, "end": 85}])
    for key in ("cache_read_tokens", "cache_write_tokens", "hedge_cost_usd"):
        del older["metrics"][key]
    _store_old_review(run_cli, cli_env, "rold2", path, sha, older)
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="gpt-5.4-mini")
    result = run_cli("compare", path, "--baseline", "rold2", "-b", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["a"] == older and report["b"]["model"] == "gpt-5.4-mini"
    assert report["drift"]["metrics"]["cost_usd"]["a"] == older["metrics"]["cost_usd"]
    _valid("review", report["b"])
    _invalid("review", report["a"])  # it is not the current contract, and is reported as it was


# --- the schema command and the config schema -----------------------------------------------------


def test_schema_prints_a_json_schema_for_each_name(run_cli):
    history = ("history", "history-list", "history-show", "history-diff")
    for name in ("review", "triage", "compare", "eval", "bench", *history, "config", "ask", "providers"):
        result = run_cli("schema", name)
        assert result.code == 0, result.stderr
        schema = json.loads(result.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema == _schema(name)


def test_every_object_of_every_schema_is_closed():
    """A model added to an output with extra keys allowed would let a field slip past the
    contract: every object with properties must forbid others (additionalProperties false)."""
    from app.cli.schema import SCHEMAS

    for name in SCHEMAS:
        schema = _schema(name)
        objects = {**schema.get("$defs", {}), "(top)": schema}
        open_objects = [
            k for k, v in objects.items() if "properties" in v and v.get("additionalProperties") is not False
        ]
        assert open_objects == [], f"schema {name}: {open_objects} accept keys they do not name"


def test_schema_of_an_unknown_name_is_one_line_listing_the_names(run_cli):
    result = run_cli("schema", "reviews")
    assert result.code == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "reviews" in line
    assert "review, triage, compare, eval, bench, history, history-list, history-show, history-diff, config" in line


def test_the_documented_config_validates_against_the_config_schema():
    import tomllib

    text = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    data = tomllib.loads(example)
    assert {"default", "endpoints", "resilience"} <= data.keys()
    _valid("config", data)
    _invalid("config", {**data, "defualt": data["default"]})
    _invalid("config", {**data, "resilience": {**data["resilience"], "retries": "two"}})
