"""`driftcheck review` as a user runs it: a separate process, the fake server behind the
real SDKs, every output format, every exit code and every kind of bad input.

Each run is also checked for tracebacks and canary keys (see conftest.run_cli).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.fake_reviews import SAMPLES, keyed_review, keyed_review_text, plain_finding
from tests.fakeserver import Reply, overloaded

ROOT = Path(__file__).resolve().parent.parent
# The OASIS SARIF 2.1.0 schema, kept in the repo so a lone clone can run the suite.
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
SHARED_SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
INVENTORY = "inventory_service.py"
SAMPLE_PATH = f"sample_code/{INVENTORY}"
HAIKU = "anthropic:claude-haiku-4-5"
MINI = "openai:gpt-5.4-mini"


def test_text_streams_findings_then_the_verdict_and_metrics(fake, run_cli):
    fake.script(Reply(text=keyed_review_text(INVENTORY, score=2), input_tokens=1800, output_tokens=900))
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.count("\n\n") >= 9  # nine findings, each a block
    assert "CRITICAL" in out and "L35" in out and "in find_item" in out
    assert "Score 2/10" in out
    assert "Findings: 2 critical · 4 high · 3 medium · 0 low · 0 info" in out
    assert "9 of 9 planted issues found (recall 1.00, precision 1.00)" in out
    assert "tokens in 1,800 / out 900" in out
    assert out.index("CRITICAL") < out.index("Score 2/10")


def test_json_follows_the_output_contract(fake, run_cli):
    fake.script(Reply(text=keyed_review_text(INVENTORY, drop=("bare-except",), score=3)))
    result = run_cli("review", SAMPLE_PATH, "-p", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert {"task", "provider", "model", "status", "error", "result", "metrics", "checks"} <= data.keys()
    assert (data["task"], data["provider"], data["model"], data["status"]) == ("review", "openai", "gpt-5.4-mini", "ok")
    assert data["input"]["language"] == "python" and data["input"]["lines"] == 85
    assert len(data["input"]["sha256"]) == 64 and data["input"]["chunks"] == [{"start": 1, "end": 85}]
    result_ = data["result"]
    assert result_["score"] == 3 and sum(result_["counts"].values()) == 8 == len(result_["findings"])
    first = result_["findings"][0]
    assert {
        "id",
        "line_start",
        "line_end",
        "severity",
        "category",
        "title",
        "explanation",
        "suggestion",
        "symbol",
        "lines_valid",
    } <= first.keys()
    assert data["answer_key"]["recall"] == round(8 / 9, 3) and data["answer_key"]["missed"] == ["bare-except"]
    assert data["metrics"]["cost_usd"] > 0 and data["metrics"]["ttft_ms"] >= 0


def test_markdown_is_a_readable_report(fake, run_cli):
    fake.script(Reply(text=keyed_review_text(INVENTORY, score=2)))
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--format", "markdown")
    assert result.code == 0
    md = result.stdout
    assert md.startswith("## driftcheck review: `sample_code/inventory_service.py`")
    assert "**Score 2/10.**" in md
    assert "| | Severity | Lines | Category | Symbol | Finding |" in md
    assert "| 🟥 critical | L35 | security | `find_item` |" in md
    assert "### F2 · Sql injection problem (L35)" in md
    assert "Answer key inventory_service.py.key.toml: 9 of 9" in md


def test_sarif_validates_against_the_2_1_0_schema(fake, run_cli):
    lines = (SAMPLES / INVENTORY).read_text().splitlines()
    ghost = plain_finding(400, "nothing here", title="Cites a line past the end")
    fake.script(Reply(text=json.dumps(keyed_review(INVENTORY, extra=(ghost,)))))
    result = run_cli("review", SAMPLE_PATH, "-p", MINI, "--format", "sarif")
    assert result.code == 0, result.stderr
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "driftcheck"
    results = run["results"]
    assert len(results) == 10
    sql = next(r for r in results if r["locations"][0]["physicalLocation"].get("region", {}).get("startLine") == 35)
    assert sql["level"] == "error"
    assert sql["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == SAMPLE_PATH
    assert sql["locations"][0]["logicalLocations"][0]["name"] == "find_item"
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == sql["ruleId"])
    assert float(rule["properties"]["security-severity"]) >= 9.0
    # The finding whose lines are not in the file has no region rather than a wrong one.
    ghost_result = next(r for r in results if "past the end" in r["message"]["text"])
    assert "region" not in ghost_result["locations"][0]["physicalLocation"]
    assert lines  # the sample is real text


@pytest.mark.skipif(not SHARED_SARIF_SCHEMA.is_file(), reason="no shared/ beside this checkout")
def test_the_kept_sarif_schema_is_the_shared_one():
    assert json.loads(SARIF_SCHEMA.read_text()) == json.loads(SHARED_SARIF_SCHEMA.read_text())


@pytest.mark.parametrize(("fail_on", "expected"), [("high", 1), ("critical", 1), ("none", 0)])
def test_fail_on_sets_the_exit_code_for_ci(fake, run_cli, fail_on, expected):
    fake.script(Reply(text=keyed_review_text(INVENTORY)))
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--format", "json", "--fail-on", fail_on)
    assert result.code == expected


def test_fail_on_ignores_findings_below_the_threshold(fake, run_cli):
    lines = (SAMPLES / INVENTORY).read_text().splitlines()
    fake.script(
        Reply(text=json.dumps({"findings": [plain_finding(16, lines[15].strip())], "summary": "s", "score": 8}))
    )
    assert run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--fail-on", "medium").code == 0


def test_out_writes_the_format_while_text_streams(fake, run_cli, tmp_path):
    fake.script(Reply(text=keyed_review_text(INVENTORY)))
    out = tmp_path / "review.sarif"
    result = run_cli("review", SAMPLE_PATH, "-p", MINI, "--format", "sarif", "--out", str(out))
    assert result.code == 0
    assert "Score 3/10" in result.stdout  # the person at the terminal still sees it
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert f"wrote sarif to {out}" in result.stderr
    assert not list(tmp_path.glob(".review.sarif.*"))  # no temporary file left behind


def test_a_failure_mid_stream_keeps_what_arrived_and_exits_3(fake, run_cli, tmp_path):
    text = keyed_review_text(INVENTORY)
    fake.script(Reply(text=text, chunk_size=20, drop_after=text.index('"line_start": 49') // 20))
    out = tmp_path / "partial.json"
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--format", "json", "--out", str(out))
    assert result.code == 3
    assert "CRITICAL" in result.stdout  # findings already streamed stay on screen
    assert "driftcheck: error:" in result.stderr and "kept in the output above and in" in result.stderr
    data = json.loads(out.read_text())
    assert data["status"] == "failed" and data["error"]["kind"] == "interrupted"
    assert len(data["result"]["findings"]) >= 3 and data["partial_text"]
    assert data["result"]["score"] is None


def test_text_output_of_a_failed_review_prints_what_arrived_marked_incomplete(fake, run_cli):
    text = keyed_review_text(INVENTORY)
    cut = text.index('"line_start": 49') // 20
    fake.script(Reply(text=text, chunk_size=20, drop_after=cut))
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU)
    assert result.code == 3
    out = result.stdout
    assert "CRITICAL" in out  # the findings that streamed
    assert "The review is incomplete: the text received before the failure" in out
    received = text[: cut * 20]
    assert received[-60:] in out and out.index("CRITICAL") < out.index("The review is incomplete")
    assert "(end of the incomplete text)" in out


def test_overload_is_retried_and_reported(fake, run_cli):
    fake.script(overloaded(retry_after_ms=10), Reply(text=keyed_review_text(INVENTORY)))
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--format", "json")
    assert result.code == 0
    assert "driftcheck: retry 1" in result.stderr
    assert json.loads(result.stdout)["metrics"]["retries"] == 1


def test_a_large_file_prints_the_estimate_and_chunk_progress(fake, run_cli, tmp_path):
    path = tmp_path / "big.py"
    path.write_text("".join(f"def f{n}(x):\n    y = x + {n}\n    return y * 2\n\n" for n in range(400)))
    result = run_cli("review", str(path), "-p", MINI, "--chunk-tokens", "1500", "--format", "json")
    assert result.code == 0, result.stderr
    assert "input tokens in" in result.stderr and "estimated $" in result.stderr
    assert "reviewing lines 1-" in result.stderr and "(part 1 of " in result.stderr
    data = json.loads(result.stdout)
    assert len(data["input"]["chunks"]) == len(fake.requests) > 1


def test_too_many_requests_asks_before_spending(fake, run_cli, tmp_path):
    path = tmp_path / "big.py"
    path.write_text("".join(f"def f{n}(x):\n    return x + {n}\n\n" for n in range(600)))
    result = run_cli("review", str(path), "-p", MINI, "--chunk-tokens", "200", "--max-requests", "3")
    assert result.code == 2
    assert "the limit is 3" in result.stderr and "--max-requests" in result.stderr
    assert fake.requests == []


# --- bad input: a specific message, exit 2, nothing sent ------------------------------------


def _bad(run_cli, fake, path: str, *expected: str) -> None:
    result = run_cli("review", path, "-p", HAIKU)
    assert result.code == 2, (result.stdout, result.stderr)
    line = result.stderr.strip().splitlines()[-1]
    for text in expected:
        assert text in line, line
    assert fake.requests == []


def test_missing_file(run_cli, fake):
    _bad(run_cli, fake, "nope/missing.py", "nope/missing.py: no such file")


def test_a_directory_with_nothing_to_review(run_cli, fake, tmp_path):
    # A directory is walked now (tests/test_diff_review.py); one with nothing in it says so.
    (tmp_path / "empty").mkdir()
    result = run_cli("review", str(tmp_path / "empty"), "-p", HAIKU)
    assert result.code == 0 and "nothing to review" in result.stderr
    assert fake.requests == []


def test_empty_and_whitespace_only(run_cli, fake, tmp_path):
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "blank.py").write_text("\n   \n\t\n")
    _bad(run_cli, fake, str(tmp_path / "empty.py"), "is empty")
    _bad(run_cli, fake, str(tmp_path / "blank.py"), "only whitespace")


def test_binary(run_cli, fake, tmp_path):
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    _bad(run_cli, fake, str(tmp_path / "image.png"), "looks binary")


def test_huge(run_cli, fake, tmp_path):
    (tmp_path / "dump.sql").write_text("INSERT INTO t VALUES (1);\n" * 200_000)
    _bad(run_cli, fake, str(tmp_path / "dump.sql"), "MiB, more than the 4 MiB limit")


def test_minified(run_cli, fake, tmp_path):
    (tmp_path / "bundle.min.js").write_text("var a=1;" * 20_000 + "\n")
    _bad(run_cli, fake, str(tmp_path / "bundle.min.js"), "looks minified or generated")


def test_unknown_provider_and_missing_key(run_cli, fake, cli_env):
    result = run_cli("review", SAMPLE_PATH, "-p", "gemnai:flash")
    assert result.code == 2 and "anthropic" in result.stderr and "openai" in result.stderr
    env = {k: v for k, v in cli_env.items() if k != "ANTHROPIC_API_KEY"}
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, env=env)
    assert result.code == 2 and "ANTHROPIC_API_KEY" in result.stderr
    assert fake.requests == []


def test_malformed_answer_key(run_cli, fake, tmp_path):
    key = tmp_path / "bad.key.toml"
    key.write_text('[[issue]]\nid = "x"\nlines = [3, 4]\ncategory = "style"\nseverity = "low"\nkeywords = ["a"]\n')
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--key", str(key))
    assert result.code == 2 and "category 'style' is not one of" in result.stderr


def test_out_into_a_missing_directory(run_cli, fake):
    result = run_cli("review", SAMPLE_PATH, "-p", HAIKU, "--out", "no/such/dir/r.json", "--format", "json")
    assert result.code == 2 and "does not exist" in result.stderr and fake.requests == []


# --- awkward but reviewable input: read with care, and said so ---------------------------------


def test_non_utf8_is_decoded_with_a_note_and_a_check(fake, run_cli, tmp_path):
    path = tmp_path / "legacy.py"
    path.write_bytes("# Caf\u00e9 pricing\nPRICE = 3\n".encode("cp1252"))
    fake.script(Reply(text=json.dumps({"findings": [], "summary": "s", "score": 9})))
    result = run_cli("review", str(path), "-p", HAIKU, "--format", "json")
    assert result.code == 0
    assert "not valid UTF-8" in result.stderr and "decoded as cp1252" in result.stderr
    data = json.loads(result.stdout)
    assert data["input"]["encoding"] == "cp1252"
    assert "input_decoding" in [c["name"] for c in data["checks"]]
    assert "Café" in str(fake.requests[0].body["messages"])


def test_crlf_and_bom_keep_line_numbers_as_an_editor_shows_them(fake, run_cli, tmp_path):
    path = tmp_path / "win.py"
    body = "import os\r\n\r\ndef read(name):\r\n    return open(name).read()\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    fake.script(
        Reply(
            text=json.dumps(
                {
                    "findings": [
                        plain_finding(
                            4,
                            "return open(name).read()",
                            title="File handle never closed",
                            category="resource-management",
                        )
                    ],
                    "summary": "s",
                    "score": 6,
                }
            )
        )
    )
    result = run_cli("review", str(path), "-p", MINI, "--format", "json")
    assert result.code == 0 and "byte-order mark" in result.stderr
    [finding] = json.loads(result.stdout)["result"]["findings"]
    assert (finding["line_start"], finding["symbol"], finding["lines_valid"]) == (4, "read", True)
    assert json.loads(result.stdout)["checks"] == []


def test_an_unknown_language_is_reviewed_as_numbered_text(fake, run_cli, tmp_path):
    path = tmp_path / "deploy.cfg"
    path.write_text("[service]\nreplicas = 1\npassword = hunter2\n")
    fake.script(
        Reply(
            text=json.dumps(
                {
                    "findings": [
                        plain_finding(
                            3, "password = hunter2", category="security", severity="high", title="Plaintext password"
                        )
                    ],
                    "summary": "s",
                    "score": 3,
                }
            )
        )
    )
    result = run_cli("review", str(path), "-p", HAIKU, "--format", "json")
    assert result.code == 0
    data = json.loads(result.stdout)
    assert data["input"]["language"] is None
    assert "language_unknown" in [c["name"] for c in data["checks"]]
    assert data["result"]["findings"][0]["symbol"] is None
    assert "3 | password = hunter2" in str(fake.requests[0].body["messages"])


@pytest.mark.parametrize(
    ("sample", "line", "symbol"),
    [
        ("upload_service.js", 34, 'router.get("/attachments")'),
        ("quota_limiter.go", 33, "Limiter.Allow"),
        ("ReportExporter.java", 32, "ReportExporter.export"),
    ],
)
def test_every_keyed_sample_scores_fully_against_its_own_key(fake, run_cli, sample, line, symbol):
    fake.script(Reply(text=keyed_review_text(sample)))
    result = run_cli("review", f"sample_code/{sample}", "-p", MINI, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer_key"]["recall"] == 1.0 and data["answer_key"]["precision"] == 1.0, data["answer_key"]
    assert data["checks"] == [], data["checks"]
    # Findings are named after what a reader calls the code they sit in.
    assert symbol in {f["symbol"] for f in data["result"]["findings"] if f["line_start"] <= line <= f["line_end"]}
