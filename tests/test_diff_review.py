"""`driftcheck review` of a change and of several files: temporary git repositories, the
fake provider server behind the real SDK, and its request log to prove what was sent —
and that unchanged files never were."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_in_process
from tests.fakeserver import HttpError, Reply, _prompt_text
from tests.gitrepo import Repo

MINI = "openai:gpt-5.4-mini"

CALC = """\
def add(a, b):
    return a + b


def divide(a, b):
    return a / b


def scale(values, factor):
    out = []
    for v in values:
        out.append(v * factor)
    return out
"""

UTIL_JS = """\
function greet(name) {
  return "hello " + name;
}

module.exports = { greet };
"""


def sent_paths(fake) -> list[str]:
    """The file each request reviewed, from the prompt's `File:` line."""
    return [m.group(1) for r in fake.requests for m in [re.search(r"^File: (.+)$", _prompt_text(r.body), re.M)] if m]


def finding(line: int, evidence: str, *, title: str = "Division by zero", severity: str = "high") -> dict:
    return {
        "line_start": line,
        "line_end": line,
        "severity": severity,
        "category": "correctness",
        "title": title,
        "explanation": "It fails on some input.",
        "suggestion": "Check it first.",
        "evidence": evidence,
    }


def reply(*findings: dict, score: int = 6) -> Reply:
    return Reply(text=json.dumps({"findings": list(findings), "summary": "ok", "score": score}))


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.write("calc.py", CALC)
    repo.write("web/util.js", UTIL_JS)
    repo.write("notes.txt", "plain notes\n")
    repo.commit("base")
    return repo


@pytest.fixture
def review(cli_env):
    def run(repo: Repo | None, *args: str, stdin: str | None = None, cwd: Path | None = None):
        where = cwd or (repo.path if repo is not None else None)
        assert where is not None
        return run_in_process(("review", *args, "-p", MINI), env=cli_env, stdin=stdin, cwd=where)

    run.env = cli_env
    return run


# --- what is reviewed -------------------------------------------------------------------------


def test_the_working_tree_change_sends_only_the_changed_file(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    result = review(repo, "--diff", "--format", "json")
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["calc.py"]  # util.js and notes.txt are unchanged: never sent
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["files"]] == ["calc.py"]
    assert data["files"][0]["change"] == "modified" and data["files"][0]["status"] == "ok"
    assert data["input"]["kind"] == "change"
    assert all(f["path"] == "calc.py" and len(f["fingerprint"]) == 32 for f in data["result"]["findings"])


def test_staged_reviews_the_index_not_the_working_tree(fake, repo, review):
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    repo.git("add", "web/util.js")
    repo.write("calc.py", CALC + "\n\nx = 1\n")  # changed but not staged
    result = review(repo, "--staged", "--format", "json")
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["web/util.js"]
    assert [f["path"] for f in json.loads(result.stdout)["files"]] == ["web/util.js"]


def test_a_range_reviews_the_new_side_as_committed(fake, repo, review):
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("calc.py", CALC.replace("return a / b", "return a // b"))
    repo.commit("integer division")
    repo.write("calc.py", "overwritten in the working tree\n")  # not part of main...HEAD
    result = review(repo, "--diff", "main...HEAD", "--format", "json")
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["calc.py"]
    prompt = _prompt_text(fake.requests[0].body)
    assert "6 + |     return a // b" in prompt  # new-file numbering, the changed line marked
    assert "overwritten" not in prompt
    data = json.loads(result.stdout)
    assert data["input"]["range"] == "main...HEAD"


def test_a_single_revision_is_compared_with_the_working_tree(fake, repo, review):
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hey "))
    repo.commit("greeting")
    result = review(repo, "--diff", "HEAD~1", "--format", "json")
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["web/util.js"]


def test_a_diff_on_stdin_uses_the_working_tree_file_when_it_agrees(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    diff = repo.git("diff")
    result = review(repo, "--diff", "-", "--format", "json", stdin=diff)
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["calc.py"]
    data = json.loads(result.stdout)
    assert data["files"][0]["hunks_only"] is False
    assert "hunks alone" not in result.stderr


def test_a_diff_on_stdin_without_the_files_reviews_the_hunks_alone(fake, repo, review, tmp_path):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    diff = repo.git("diff")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fake.script(reply(finding(6, "return a / b  # may be zero")))
    result = review(repo, "--diff", "-", "--format", "json", stdin=diff, cwd=elsewhere)
    assert result.code == 0, result.stderr
    assert "reviewing the hunks alone" in result.stderr
    data = json.loads(result.stdout)
    assert data["files"][0]["hunks_only"] is True
    [found] = data["result"]["findings"]
    assert found["line_start"] == 6 and found["lines_valid"] and found["outside_change"] is False
    prompt = _prompt_text(fake.requests[0].body)
    assert "def add" not in prompt  # line 1 is outside every hunk: not known, not sent


def test_changed_lines_are_sent_with_their_enclosing_symbol_not_the_whole_file(fake, tmp_path, review):
    repo = Repo(tmp_path / "big")
    body = "".join(f"def f{n}(x):\n    y = x + {n}\n    return y\n\n\n" for n in range(60))
    repo.write("big.py", body)
    repo.commit("base")
    repo.write("big.py", body.replace("y = x + 30\n", "y = x + 30\n    y = y / 0\n"))
    result = review(repo, "--diff", "--format", "json")
    assert result.code == 0, result.stderr
    prompt = _prompt_text(fake.requests[0].body)
    assert "def f30(x):" in prompt and "+ |     y = y / 0" in prompt
    assert "def f5(x):" not in prompt and "def f55(x):" not in prompt
    assert len(fake.requests) == 1


def test_a_large_files_parts_go_at_once_within_the_limit_and_keep_their_order(fake, tmp_path, review):
    repo = Repo(tmp_path / "big")
    body = "".join(f"def f{n}(x):\n    y = x + {n}\n    return y\n\n\n" for n in range(60))
    repo.write("big.py", body)
    repo.commit("base")
    for n in (10, 30, 50):
        body = body.replace(f"y = x + {n}\n", f"y = x + {n}\n    y = y / {n - n}\n")
    repo.write("big.py", body)
    lines = body.splitlines()
    model = MINI.split(":")[1]
    for n in (10, 30, 50):
        line = lines.index(f"def f{n}(x):") + 3
        slow = {"chunk_size": 8, "chunk_delay_s": 0.02} if n == 30 else {}  # the middle part ends last
        fake.reply_when(model, [f"def f{n}(x):"], Reply(text=reply(finding(line, "y = y / 0")).text, **slow))
    # The first request goes alone (the limit's probe); after it the server holds each
    # request until two are open together, which parts sent one after another never are.
    fake.hold_open, fake.hold_after = 2, 1
    result = review(repo, "--diff", "--chunk-tokens", "100", "--concurrency", "2", "--format", "json")
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 3 and fake.most_open == 2  # at once, and never past the limit
    data = json.loads(result.stdout)
    found = [(f["id"], f["line_start"]) for f in data["result"]["findings"]]
    assert found == [("F1", 53), ("F2", 154), ("F3", 255)]  # the parts' order, whichever ended first


def test_findings_outside_the_change_are_marked_and_changed_only_drops_them(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    both = reply(
        finding(99, "return total", title="Beyond the end", severity="medium"),  # cites no line of the file
        finding(5, "def divide(a, b):", title="No docstring", severity="low"),
        finding(6, "return a / b  # may be zero"),
    )
    fake.script(both)
    data = json.loads(review(repo, "--diff", "--format", "json").stdout)
    marks = {f["title"]: f["outside_change"] for f in data["result"]["findings"]}
    assert marks == {"Beyond the end": True, "Division by zero": False, "No docstring": True}
    assert any("beyond the end of the file" in c["message"] for c in data["checks"])
    # What --changed-only drops takes its warnings and counts with it, in every format.
    outputs = {}
    for fmt in ("json", "text", "sarif", "markdown"):
        fake.script(both)
        outputs[fmt] = review(repo, "--diff", "--changed-only", "--format", fmt).stdout
    kept = json.loads(outputs["json"])
    assert [(f["id"], f["title"]) for f in kept["result"]["findings"]] == [("F1", "Division by zero")]
    assert kept["result"]["counts"]["high"] == 1 and sum(kept["result"]["counts"].values()) == 1
    assert [c["name"] for c in kept["checks"]] == [] and kept["files"][0]["checks"] == []
    sarif = json.loads(outputs["sarif"])["runs"][0]
    assert [r["message"]["text"].split(".")[0] for r in sarif["results"]] == ["Division by zero"]
    assert "beyond the end" not in outputs["sarif"].lower()
    for fmt in ("text", "markdown"):
        assert "1 finding(s)" in outputs[fmt] and "beyond the end" not in outputs[fmt].lower(), outputs[fmt]


def test_text_groups_findings_by_file(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    fake.reply_when(MINI.split(":")[1], ["File: calc.py"], reply(finding(6, "return a / b  # may be zero")))
    fake.reply_when(MINI.split(":")[1], ["File: web/util.js"], reply(score=9))
    result = review(repo, "--diff")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "── calc.py (modified): 1 finding(s), score 6/10" in out
    assert "── web/util.js (modified): 0 finding(s), score 9/10" in out
    assert "Score 6/10 (the weakest file's)" in out
    assert "[1/2]" in result.stderr and "[2/2]" in result.stderr  # one line per file in a pipe


def test_one_file_failing_keeps_the_others(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    model = MINI.split(":")[1]
    fake.reply_when(model, ["File: calc.py"], reply(finding(6, "return a / b  # may be zero")))
    fake.reply_when(model, ["File: web/util.js"], HttpError(500, "boom"))
    result = review(repo, "--diff", "--format", "json", "--retries", "0")
    assert result.code == 3
    data = json.loads(result.stdout)
    status = {f["path"]: f["status"] for f in data["files"]}
    assert status == {"calc.py": "ok", "web/util.js": "failed"}
    assert [f["path"] for f in data["result"]["findings"]] == ["calc.py"]
    assert "1 of 2 file(s) not reviewed in full" in result.stderr


def test_fail_on_applies_over_all_files(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    model = MINI.split(":")[1]
    fake.reply_when(model, ["File: calc.py"], reply())
    fake.reply_when(model, ["File: web/util.js"], reply(finding(2, 'return "hi " + name;', severity="critical")))
    assert review(repo, "--diff", "--format", "json", "--fail-on", "high").code == 1


def test_markdown_groups_by_file_for_a_pr_comment(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    fake.script(reply(finding(6, "return a / b  # may be zero")))
    md = review(repo, "--diff", "--format", "markdown").stdout
    assert md.startswith("## driftcheck review: the working tree's change")
    assert "| `calc.py` | 🟧 high | L6 | correctness | Division by zero |" in md
    assert "### `calc.py`" in md


# --- several files and directories -------------------------------------------------------------


def test_directories_are_walked_with_gitignore_and_skips_are_said(fake, tmp_path, review):
    repo = Repo(tmp_path / "walk")
    repo.write(".gitignore", "ignored/\n*.log\n")
    repo.write("src/a.py", "def a():\n    return 1\n")
    repo.write("src/b.js", "function b() { return 2; }\n")
    repo.write("src/ignored/c.py", "def c():\n    return 3\n")
    repo.write("src/debug.log", "log line\n")
    repo.write("src/node_modules/lib/index.js", "module.exports = 1;\n")
    repo.write("src/logo.bin", b"\x89PNG\x00\x00\x00")
    repo.write("src/app.min.js", "var a=1;\n")
    repo.write("src/gen.py", "# Code generated by protoc. DO NOT EDIT.\nx = 1\n")
    result = review(repo, "src", "--format", "json")
    assert result.code == 0, result.stderr
    assert sorted(sent_paths(fake)) == ["src/a.py", "src/b.js"]
    data = json.loads(result.stdout)
    assert data["input"]["kind"] == "files"
    left = {f["path"]: f["reason"] for f in data["files"] if f["status"] == "left_out"}
    assert left == {
        "src/node_modules/": "vendored",
        "src/logo.bin": "binary",
        "src/app.min.js": "generated",
        "src/gen.py": "generated",
    }
    assert "src/logo.bin: not reviewed (binary)" in result.stderr


def test_several_named_files_are_each_reviewed(fake, repo, review):
    result = review(repo, "calc.py", "web/util.js", "--format", "json")
    assert result.code == 0, result.stderr
    assert sorted(sent_paths(fake)) == ["calc.py", "web/util.js"]
    data = json.loads(result.stdout)
    assert all("outside_change" not in f for f in data["result"]["findings"])  # not a change


def test_a_single_file_keeps_todays_json_shape(fake, repo, review):
    data = json.loads(review(repo, "calc.py", "--format", "json").stdout)
    assert "files" not in data
    assert all({"path", "fingerprint", "outside_change"}.isdisjoint(f) for f in data["result"]["findings"])


# --- bad input: one line, exit 2, nothing sent ---------------------------------------------------


def _refused(result, fake, *words: str, code: int = 2) -> None:
    assert result.code == code, (result.stdout, result.stderr)
    line = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in line, line
    assert fake.requests == []


def test_not_a_git_repository(fake, tmp_path, review):
    plain = tmp_path / "plain"
    plain.mkdir()
    _refused(review(None, "--diff", cwd=plain), fake, "not inside a git repository")


def test_an_unknown_revision(fake, repo, review):
    _refused(review(repo, "--diff", "nosuchbranch...HEAD"), fake, "nosuchbranch...HEAD", "unknown revision")


def test_an_empty_change_says_nothing_to_review(fake, repo, review):
    result = review(repo, "--diff")
    _refused(result, fake, "nothing to review", code=0)


def test_a_diff_that_does_not_parse(fake, repo, review):
    _refused(review(repo, "--diff", "-", stdin="this is not a diff\n"), fake, "not a unified diff")
    broken = "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n only one line\n"
    _refused(review(repo, "--diff", "-", stdin=broken), fake, "not a unified diff")


def test_a_binary_only_change(fake, repo, review):
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    repo.git("add", "logo.png")
    _refused(review(repo, "--staged"), fake, "only binary files")


def test_a_path_outside_the_repository(fake, repo, review, tmp_path):
    _refused(review(repo, "--diff", "HEAD", str(tmp_path)), fake, "outside the repository")
    evil = "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n"
    _refused(review(repo, "--diff", "-", stdin=evil), fake, "outside the repository")


def test_a_change_larger_than_the_request_guard(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a // b"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    # Each file is too large to share a request with the other: packing cannot help.
    too_many = review(repo, "--diff", "--max-requests", "1", "--chunk-tokens", "80")
    _refused(too_many, fake, "needs 2 requests", "--max-requests 2")


def test_a_change_of_many_small_files_packs_them_into_a_few_requests(fake, tmp_path, review):
    repo = Repo(tmp_path / "many")
    for n in range(40):
        repo.write(f"pkg/mod{n:02d}.py", f"def f{n}(x):\n    return x + {n}\n")
    repo.commit("base")
    for n in range(40):
        repo.write(f"pkg/mod{n:02d}.py", f"def f{n}(x):\n    y = x * {n}\n    return y + {n}\n")
    model = MINI.split(":")[1]
    packed = {
        "findings": [
            {**finding(2, "y = x * 3"), "path": "pkg/mod03.py"},
            {**finding(99, "y = x * 4", title="Out of range"), "path": "pkg/mod04.py"},
            {**finding(1, "import os", title="Somewhere else"), "path": "lib/other.py"},
        ],
        "summary": "Small helpers.",
        "score": 7,
    }
    fake.reply_when(model, ["File: pkg/mod03.py"], Reply(text=json.dumps(packed)))
    fake.reply_when(model, ["File: "], Reply(text=json.dumps({"findings": [], "summary": "ok", "score": 8})))
    result = review(repo, "--diff", "--format", "json")  # 40 files, and no --max-requests
    assert result.code == 0, result.stderr
    assert "in 4 request(s) (40 small file(s) packed together)" in result.stderr  # the estimate
    per_request = [re.findall(r"^File: (.+)$", _prompt_text(r.body), re.M) for r in fake.requests]
    assert [len(paths) for paths in per_request] == [10, 10, 10, 10]
    assert sorted(p for paths in per_request for p in paths) == [f"pkg/mod{n:02d}.py" for n in range(40)]
    data = json.loads(result.stdout)
    assert len(data["files"]) == 40 and {f["status"] for f in data["files"]} == {"ok"}
    found = {f["path"]: f for f in data["result"]["findings"]}
    assert set(found) == {"pkg/mod03.py", "pkg/mod04.py"}  # the finding in no file of the pack is left out
    assert found["pkg/mod03.py"]["lines_valid"] and not found["pkg/mod04.py"]["lines_valid"]
    checks = {f["path"]: [c["name"] for c in f["checks"]] for f in data["files"]}
    assert checks["pkg/mod04.py"] == ["line_out_of_range"] and checks["pkg/mod03.py"] == []
    assert checks["pkg/mod00.py"] == ["finding_path_unknown"]  # said once, with the pack's first file
    # A pack's call is counted once, not once per file in it.
    assert data["metrics"]["input_tokens"] == sum(u["input_tokens"] for u in fake.usage_log)
    by_path = {f["path"]: f for f in data["files"]}
    assert by_path["pkg/mod03.py"]["score"] == by_path["pkg/mod12.py"]["score"] - 1 == 7


def test_options_that_do_not_fit_together(fake, repo, review):
    _refused(review(repo, "--staged", "--diff", "HEAD"), fake, "--staged")
    _refused(review(repo, "calc.py", "--changed-only"), fake, "--changed-only")
    _refused(review(repo), fake, "--diff")


# --- new findings only ---------------------------------------------------------------------------


def _run_id(stderr: str) -> str:
    match = re.search(r"recorded as (\w+)", stderr)
    assert match, stderr
    return match.group(1)


def test_baseline_says_what_is_new_unchanged_and_fixed(fake, repo, review):
    fake.script(
        reply(finding(6, "return a / b"), finding(2, "return a + b", title="Overflow", severity="low")),
    )
    base = review(repo, "calc.py", "notes.txt", "--format", "json")
    assert base.code == 0, base.stderr
    base_id = _run_id(base.stderr)

    repo.write("calc.py", CALC.replace("return a + b", "return a - b").replace("out = []", "out = [] * 2"))
    division = finding(6, "return a / b", title="Zero division, worded otherwise")
    fake.script(reply(division, finding(11, "out = [] * 2", title="Odd list")))
    result = review(repo, "--diff", "--baseline", base_id, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    report = data["baseline"]
    assert (report["run_id"], report["new"], report["unchanged"], report["fixed"]) == (base_id, 1, 1, 1)
    assert [f["title"] for f in report["fixed_findings"]] == ["Overflow"]
    assert {f["title"]: f["baseline"] for f in data["result"]["findings"]} == {
        "Zero division, worded otherwise": "unchanged",
        "Odd list": "new",
    }

    fake.script(reply(division, finding(11, "out = [] * 2", title="Odd list")))
    new_only = review(repo, "--diff", "--baseline", base_id, "--new-only")
    assert new_only.code == 0, new_only.stderr
    assert "Odd list" in new_only.stdout and "worded otherwise" not in new_only.stdout
    assert "1 new, 1 unchanged, 1 fixed (only the new findings are shown)" in new_only.stdout


def test_new_only_gates_ci_on_new_findings_alone(fake, repo, review):
    fake.script(reply(finding(6, "return a / b", severity="critical")))
    base_id = _run_id(review(repo, "calc.py", "notes.txt", "--format", "json").stderr)
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # still"))
    fake.script(reply(finding(6, "return a / b  # still", severity="critical")))
    # The critical finding is the base's own problem (same code? no: the line changed, so it is new).
    assert review(repo, "--diff", "--baseline", base_id, "--new-only", "--fail-on", "high").code == 1
    repo.write("calc.py", CALC.replace("return a + b", "return b + a"))
    fake.script(reply(finding(6, "return a / b", severity="critical")))
    assert review(repo, "--diff", "--baseline", base_id, "--new-only", "--fail-on", "high").code == 0


def test_a_baseline_must_be_a_stored_review_with_fingerprints(fake, repo, review):
    single = review(repo, "calc.py", "--format", "json")
    run_id = _run_id(single.stderr)
    fake.reset()
    repo.write("calc.py", CALC + "\nx = 1\n")
    _refused(review(repo, "--diff", "--baseline", run_id), fake, "no fingerprints")
    _refused(review(repo, "--diff", "--baseline", "nosuchrun"), fake, "no run 'nosuchrun' in history")
    _refused(review(repo, "--diff", "--new-only"), fake, "--new-only needs --baseline")


def test_a_base_finding_in_code_the_change_left_alone_is_not_fixed(fake, repo, review):
    fake.script(reply(finding(12, "out.append(v * factor)", title="Slow loop", severity="low")))
    base_id = _run_id(review(repo, "calc.py", "notes.txt", "--format", "json").stderr)
    repo.write("calc.py", CALC.replace("return a + b", "return b + a"))  # add() only: scale() is not sent
    fake.script(reply())
    data = json.loads(review(repo, "--diff", "--baseline", base_id, "--format", "json").stdout)
    assert data["baseline"]["fixed"] == 0  # scale() was not looked at again: only its first lines, as context


# --- the keyed change ----------------------------------------------------------------------------


def _keyed_reply(keyed, file: str, *, drop: tuple[str, ...] = (), extra: tuple[dict, ...] = ()) -> Reply:
    lines = (keyed.repo.path / file).read_text().splitlines()
    found = [
        {
            **finding(i["lines"][0], lines[i["lines"][0] - 1].strip(), severity=i["severity"]),
            "category": i["category"],
            "title": f"{i['keywords'][0].capitalize()} {i['keywords'][1]} problem",
            "explanation": f"A {' '.join(i['keywords'])} issue.",
        }
        for i in keyed.issues
        if i["file"] == file and i["id"] not in drop
    ]
    return reply(*found, *extra)


def test_the_keyed_change_reports_recall_and_precision(fake, tmp_path, review):
    from tests.change_fixture import build_keyed_change

    keyed = build_keyed_change(tmp_path / "shop")
    model = MINI.split(":")[1]
    noise = finding(2, "import sqlite3", title="Unused import", severity="low")
    fake.reply_when(model, ["File: shop/orders.py"], _keyed_reply(keyed, "shop/orders.py", extra=(noise,)))
    fake.reply_when(model, ["File: shop/export.py"], _keyed_reply(keyed, "shop/export.py"))
    fake.reply_when(model, ["File: web/session.js"], _keyed_reply(keyed, "web/session.js", drop=("weak-token",)))
    result = review(keyed.repo, "--diff", keyed.range, "--format", "json")
    assert result.code == 0, result.stderr
    assert sorted(sent_paths(fake)) == ["shop/export.py", "shop/orders.py", "web/session.js"]
    data = json.loads(result.stdout)
    key = data["answer_key"]
    assert (key["expected"], key["matched"]) == (5, 4)
    assert key["recall"] == 0.8 and key["precision"] == 0.8  # 4 of 5 findings were planted issues
    assert key["missed"] == ["web/session.js:weak-token"]
    languages = {f["path"]: f["language"] for f in data["files"] if f["status"] == "ok"}
    assert set(languages.values()) == {"python", "javascript"}

    # The same change as an eval item: its diff, reviewed as `review --diff -` reviews it,
    # scored over the change, run twice, and resumable (the diff and its files unchanged).
    fake.requests.clear()
    for file in ("shop/orders.py", "shop/export.py", "web/session.js"):  # a second model finds all of it
        fake.reply_when("gpt-5.5", [f"File: {file}"], _keyed_reply(keyed, file))
    models = f"{MINI},openai:gpt-5.5"
    run_eval = ("eval", "--models", models, "--judges", "none", "--repeat", "2", "--format", "json")
    evaluated = run_in_process((*run_eval, "--set", str(keyed.patch)), env=review.env, cwd=tmp_path)
    assert evaluated.code == 0, evaluated.stderr
    assert sorted(sent_paths(fake)) == sorted(["shop/export.py", "shop/orders.py", "web/session.js"] * 4)
    report = json.loads(evaluated.stdout)
    [task] = report["tasks"]
    assert task["task"] == "review" and task["measure"] == "answer_key"
    assert task["items"] == [str(keyed.patch)]
    rows = {r["model"]: r for r in task["models"]}
    assert rows[MINI]["answer_key"] == {"recall": 0.8, "precision": 0.8} and rows[MINI]["quality"]["n"] == 2
    assert rows["openai:gpt-5.5"]["answer_key"] == {"recall": 1.0, "precision": 1.0}
    [split] = task["splits"]  # where the two split, each answer's issues named by file
    assert split["answers"][MINI]["missed"] == ["web/session.js:weak-token"]
    assert "web/session.js:weak-token" in split["answers"]["openai:gpt-5.5"]["found"]
    assert len(split["answers"][MINI]["found"]) == 4
    fake.requests.clear()
    resumed = run_in_process(("eval", "--resume", _run_id(evaluated.stderr), "--format", "json"), env=review.env)
    assert resumed.code == 0, resumed.stderr
    assert not fake.requests and json.loads(resumed.stdout)["tasks"] == report["tasks"]


# --- the CI recipes ------------------------------------------------------------------------------


def test_the_pre_commit_hook_reviews_the_staged_change_and_stops_on_high(fake, repo, cli_env):
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^\s*entry: (.+)$", hooks, re.M).group(1).split()
    assert entry[:2] == ["driftcheck", "review"]
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.git("add", "calc.py")
    fake.script(reply(finding(6, "return a / b  # may be zero", severity="high")))
    result = run_in_process((*entry[1:], "-p", MINI), env=cli_env, cwd=repo.path)
    assert result.code == 1, result.stderr
    assert sent_paths(fake) == ["calc.py"]


# --- compare on a change -------------------------------------------------------------------------


def test_compare_on_a_change_gives_the_drift_per_file_and_in_total(fake, repo, cli_env):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    zero = finding(6, "return a / b  # may be zero")
    greet = finding(2, 'return "hi " + name;', title="Unescaped name", severity="medium")
    for model, calc, util in (
        ("claude-haiku-4-5", reply(zero), reply(greet)),
        ("gpt-5.4-mini", reply({**zero, "severity": "critical"}), reply()),
    ):
        fake.reply_when(model, ["File: calc.py"], calc)
        fake.reply_when(model, ["File: web/util.js"], util)
    args = ("compare", "--diff", "-a", "anthropic:claude-haiku-4-5", "-b", MINI)
    result = run_in_process((*args, "--format", "json"), env=cli_env, cwd=repo.path)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    drift = report["drift"]
    per_file = {f["path"]: (f["matched"], f["only_a"], f["only_b"]) for f in drift["files"]}
    assert per_file == {"calc.py": (1, 0, 0), "web/util.js": (0, 1, 0)}
    assert len(drift["matched"]) == 1 and drift["matched"][0]["path"] == "calc.py"
    assert drift["severity_disagreements"][0]["severity"] == ["high", "critical"]
    assert drift["agreement"] == 0.5
    assert sorted(sent_paths(fake)) == ["calc.py", "calc.py", "web/util.js", "web/util.js"]
    text = run_in_process(args, env=cli_env, cwd=repo.path)
    assert text.code == 0, text.stderr
    assert "calc.py" in text.stdout and "web/util.js" in text.stdout


def test_compare_on_a_change_with_repeat_clusters_the_intervals_by_file(fake, repo, cli_env):
    """Each changed file is an input: the per-file differences get the clustered interval
    eval uses (checked against app.compare.significance.clustered_se), and findings are
    clustered across runs within their file only."""
    from app.compare.significance import clustered_interval, clustered_se, t_quantile

    repo.write("calc.py", CALC.replace("return a + b", "return a + b  # sum"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    repo.write("notes.txt", "changed notes\n")
    # The same finding (title, line, wording) in calc.py on A and in web/util.js on B.
    calc_a = finding(2, "return a + b  # sum", title="Unchecked input")
    util_b = finding(2, 'return "hi " + name;', title="Unchecked input")
    scores = {"calc.py": (6, 8), "web/util.js": (6, 5), "notes.txt": (6, 7)}
    for side, model in enumerate(("claude-haiku-4-5", "gpt-5.4-mini")):
        for path, score in scores.items():
            found = (
                (calc_a,) if (side, path) == (0, "calc.py") else (util_b,) if (side, path) == (1, "web/util.js") else ()
            )
            fake.reply_when(model, [f"File: {path}"], reply(*found, score=score[side]))
    args = ("compare", "--diff", "-a", "anthropic:claude-haiku-4-5", "-b", MINI, "--repeat", "2")
    result = run_in_process((*args, "--format", "json"), env=cli_env, cwd=repo.path)
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 12  # three files, two runs, two sides
    # Runs 2 to N resend each file's prompt: its stable prefix is marked for Anthropic's cache.
    assert all(r.body["system"][-1].get("cache_control") for r in fake.requests if r.model == "claude-haiku-4-5")
    noise = json.loads(result.stdout)["noise"]
    measures = {m["measure"]: m for m in noise["measures"]}
    # Per file B − A, each file's two runs one cluster: score (+2, −1, +1), findings (−1, +1, 0).
    for name, per_file in (("score", [2, -1, 1]), ("findings", [-1, 1, 0])):
        clusters = [[d, d] for d in per_file]
        expected = clustered_interval(clusters)
        assert expected is not None
        assert measures[name]["by_file"] == expected.as_dict()
        half = t_quantile(0.975, 2) * clustered_se(clusters) * (3 / 2) ** 0.5  # CR1 on C − 1 = 2 df
        assert measures[name]["by_file"]["half_width"] == round(half, 3)
    # The run totals keep their Welch interval: A's weakest file 6 in both runs, B's 5.
    assert measures["score"]["a"] == [6, 6] and measures["score"]["b"] == [5, 5]
    # Alike findings in two files are two clusters, one per file, each on one side only.
    clusters = {c["item"]: (c["found_a"], c["found_b"]) for c in noise["clusters"]}
    assert clusters == {"calc.py: Unchecked input": (2, 0), "web/util.js: Unchecked input": (0, 2)}
    text = run_in_process(args, env=cli_env, cwd=repo.path)
    assert text.code == 0, text.stderr
    assert (
        "per file B − A +0.67 (95% interval -3.13 to +4.46, clustered by file, includes 0)" in text.stdout
        and "clustered by file" in text.stdout
    )


def test_a_wrong_key_is_found_out_by_one_request_not_one_per_file(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a // b"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    repo.write("notes.txt", "changed notes\n")
    fake.script(HttpError(401, "invalid x-api-key", type="authentication_error"))
    result = review(repo, "--diff", "--format", "json")
    assert result.code in (2, 3), result.stderr
    assert len(fake.requests) == 1  # the limiter sends a provider's first request alone
    data = json.loads(result.stdout)
    assert sorted(f["status"] for f in data["files"]) == ["failed", "not_sent", "not_sent"]


def test_escape_sequences_in_a_diffs_paths_never_reach_the_terminal(fake, repo, review):
    evil = "ev\x1b]52;c;aGk=\x07il.py"
    diff = f"--- a/{evil}\n+++ b/{evil}\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    result = review(repo, "--diff", "-", stdin=diff)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "il.py" in result.stdout


def test_a_diff_on_stdin_never_reads_through_a_symlink_out_of_the_tree(fake, repo, review, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("x = 2\nTOP SECRET\n")
    (repo.path / "link.py").symlink_to(outside)
    diff = "--- a/link.py\n+++ b/link.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    result = review(repo, "--diff", "-", stdin=diff)
    assert result.code == 0, result.stderr
    assert "TOP SECRET" not in json.dumps([r.body for r in fake.requests])
    assert "reviewing the hunks alone" in result.stderr


def test_codequality_is_gitlabs_report_with_the_stable_fingerprint(fake, repo, review):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    fake.script(reply(finding(6, "return a / b  # may be zero")))
    result = review(repo, "--diff", "--format", "codequality")
    assert result.code == 0, result.stderr
    [issue] = json.loads(result.stdout)
    assert issue["location"] == {"path": "calc.py", "lines": {"begin": 6, "end": 6}}
    assert issue["severity"] == "critical" and issue["check_name"] == "driftcheck/correctness"
    assert len(issue["fingerprint"]) == 32
    fake.reset()
    _refused(review(repo, "calc.py", "--format", "codequality"), fake, "codequality")


def test_a_stored_change_review_exports_as_it_was(fake, repo, review, cli_env):
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    model = MINI.split(":")[1]
    fake.reply_when(model, ["File: calc.py"], reply(finding(6, "return a / b  # may be zero")))
    fake.reply_when(model, ["File: web/util.js"], reply(finding(2, 'return "hi " + name;', severity="low")))
    live = review(repo, "--diff", "--format", "sarif")
    run_id = _run_id(live.stderr)
    exported = run_in_process(("history", "export", run_id, "--format", "sarif"), env=cli_env, cwd=repo.path)
    assert exported.code == 0, exported.stderr
    assert json.loads(exported.stdout)["runs"][0]["results"] == json.loads(live.stdout)["runs"][0]["results"]
    assert json.loads(exported.stdout)["runs"][0]["artifacts"][1]["location"]["uri"] == "web/util.js"
    md = run_in_process(("history", "export", run_id, "--format", "markdown"), env=cli_env, cwd=repo.path)
    assert "### `calc.py`" in md.stdout and "### `web/util.js`" in md.stdout


def test_deleted_and_renamed_files(fake, repo, review):
    repo.git("mv", "web/util.js", "web/greet.js")  # a pure rename: nothing new to review
    repo.git("rm", "-q", "notes.txt")  # deleted
    repo.git("mv", "calc.py", "maths.py")
    repo.write("maths.py", CALC.replace("return a / b", "return a / b  # may be zero"))  # renamed and changed
    repo.git("add", "-A")
    result = review(repo, "--staged", "--format", "json")
    assert result.code == 0, result.stderr
    assert sent_paths(fake) == ["maths.py"]
    files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert files["maths.py"]["change"] == "renamed" and files["maths.py"]["old_path"] == "calc.py"
    assert (files["web/greet.js"]["status"], files["web/greet.js"]["reason"]) == ("left_out", "renamed only")
    assert (files["notes.txt"]["status"], files["notes.txt"]["reason"]) == ("left_out", "deleted")


def test_a_change_that_only_removes_code_is_looked_at_where_it_was(fake, repo, review):
    repo.write("calc.py", CALC.replace("def divide(a, b):\n    return a / b\n\n\n", ""))
    result = review(repo, "--diff", "--format", "json")
    assert result.code == 0, result.stderr
    prompt = _prompt_text(fake.requests[0].body)
    assert "5 + | def scale(values, factor):" in prompt  # the line that now stands where divide was


def test_repeat_and_gates_are_refused_on_a_change_rather_than_ignored(fake, repo, review, cli_env):
    """--repeat (issue 21) and the change review (issue 20) met at merge: a review of a
    change is run once, so asking for N runs or a gate on a compared change is one line
    and exit 2 (compare --diff --repeat N runs each side N times: see above)."""
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    result = review(repo, "--diff", "--repeat", "3")
    assert result.code == 2 and "--repeat (and --batch) review one file N times" in result.stderr
    compared = run_in_process(
        ("compare", "--diff", "-a", MINI, "-b", MINI, "--fail-on", "high"), env=cli_env, cwd=repo.path
    )
    assert compared.code == 2 and "--fail-on gates a compare of one FILE" in compared.stderr
    assert not fake.requests


def test_a_file_under_a_folder_named_a_or_b_keeps_its_folder():
    """unidiff's path has git's a/ and b/ taken off already: taking them off again dropped a
    real top-level folder named `a` or `b` (b/x.py was reviewed as x.py)."""
    from app.source.diff import parse_diff

    diff = "diff --git a/b/x.py b/b/x.py\n--- a/b/x.py\n+++ b/b/x.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    [change] = parse_diff(diff, "the diff")
    assert change.path == "b/x.py"
    renamed = "diff --git a/a/old.py b/a/new.py\nsimilarity index 100%\nrename from a/old.py\nrename to a/new.py\n"
    [moved] = parse_diff(renamed, "the diff")
    assert (moved.path, moved.old_path) == ("a/new.py", "a/old.py")
