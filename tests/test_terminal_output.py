"""Nothing a provider says is obeyed by the terminal.

A reply carries an OSC 52 clipboard write, a clear-screen, colour codes, a C1 CSI and a
bare carriage return. Every command that shows it — text, Markdown (printed or written to
a file), `history show`, triage and compare — must show those characters, not send them;
JSON keeps the raw text, escaped; history keeps it as it was.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from app.render.terminal import json_text, neutralise
from tests.conftest import CANARY_ANTHROPIC, CANARY_OPENAI, ROOT
from tests.fake_reviews import keyed_review, plain_finding
from tests.fake_triage import active_answer
from tests.fakeserver import HttpError, Reply

OSC52 = "\x1b]52;c;cm0gLXJmIH4vCg==\x1b\\"
EVIL = f"{OSC52}\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J\x1b[31mFORGED\x1b[0m\x9b2J\x7f\rOVERWRITE"
# What no byte written to a terminal may contain: C0 but tab and newline, DEL, C1.
OBEYED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SAMPLE = "sample_code/inventory_service.py"


def evil_review() -> str:
    first = (ROOT / SAMPLE).read_text().splitlines()[0]
    finding = plain_finding(
        1, first.strip(), title=f"Title {EVIL}", explanation=f"Because {EVIL}", suggestion=f"Do {EVIL}"
    )
    return json.dumps(keyed_review("inventory_service.py", extra=(finding,), summary=f"Summary {EVIL}"))


def evil_triage() -> str:
    answer = active_answer("kafka-lag.md")
    answer["actions"][0]["action"] = f"Restart {EVIL}"
    answer["root_cause"]["summary"] = f"Cause {EVIL}"
    answer["cautions"].append(f"Careful {EVIL}")
    return json.dumps(answer)


@pytest.fixture
def run_raw(run_cli):
    """Run driftcheck and see stdout and stderr exactly as they were written: nothing between
    the command and the test turns a bare CR into a newline and hides it (reading a pipe as
    text would)."""

    def run(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args)
        return result.code, result.stdout, result.stderr

    return run


def assert_inert(text: str, where: str) -> None:
    found = OBEYED.search(text)
    assert found is None, (
        f"{where}: {found.group()!r} reached the terminal: {text[max(0, found.start() - 40) : found.end() + 40]!r}"
    )


def test_neutralise_shows_every_control_character_but_tab_and_newline():
    assert neutralise("a\tb\nc") == "a\tb\nc"
    assert neutralise("line\r\nnext") == "line\nnext"
    assert neutralise("\x1b[2J\x9b\x7f\x00\rX") == "\\x1b[2J\\x9b\\x7f\\x00\\x0dX"
    assert OBEYED.search(neutralise(EVIL)) is None


def test_json_escapes_del_and_c1_and_keeps_the_text():
    text = json_text({"t": EVIL + " café"})
    assert OBEYED.search(text.replace("\n", "")) is None and "café" in text
    assert json.loads(text) == {"t": EVIL + " café"}


def test_ask_streams_a_reply_with_escape_sequences_inertly(fake, run_raw):
    fake.script(Reply(text=f"Hello {EVIL} bye", chunk_size=3))
    code, out, err = run_raw("ask", "-p", "anthropic", "hi")
    assert code == 0
    assert_inert(out, "ask stdout")
    assert_inert(err, "ask stderr")
    assert "\\x1b]52;c;" in out and "FORGED" in out and "OVERWRITE" in out


def test_a_provider_error_with_escape_sequences_is_printed_inertly(fake, run_raw):
    fake.script(HttpError(400, f"rejected {EVIL}"))
    code, _out, err = run_raw("ask", "-p", "openai", "--retries", "0", "hi")
    assert code == 3
    assert_inert(err, "driftcheck: error: line")
    assert err.startswith("driftcheck: error: openai:gpt-5.4-mini: the request was rejected: rejected \\x1b]52")


def test_review_text_markdown_sarif_and_history_show_it_inertly(fake, run_raw, tmp_path, cli_env):
    fake.script(*[Reply(text=evil_review())] * 5)
    for args in ((), ("--format", "markdown"), ("--format", "sarif")):
        code, out, err = run_raw("review", SAMPLE, "-p", "anthropic", *args)
        assert code == 0, err
        assert_inert(out, f"review {args} stdout")
        assert_inert(err, f"review {args} stderr")
        assert "FORGED" in out
    code, _, err = run_raw("review", SAMPLE, "-p", "anthropic", "--format", "markdown", "--out", str(tmp_path / "r.md"))
    assert code == 0
    assert_inert((tmp_path / "r.md").read_text(), "review --out r.md")

    code, out, _ = run_raw("review", SAMPLE, "-p", "anthropic", "--format", "json")
    assert_inert(out.replace("\n", ""), "review json")
    titles = [f["title"] for f in json.loads(out)["result"]["findings"]]
    assert f"Title {EVIL}" in titles, "JSON keeps the raw text, escaped"

    # History keeps the raw text; `history show` and Markdown export show it inertly.
    with sqlite3.connect(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db") as db:
        stored = " ".join(str(row) for row in db.execute("SELECT result_json FROM runs"))
    assert "\\u001b]52" in stored or "\x1b]52" in stored
    run_id = json.loads(run_raw("history", "list", "--format", "json")[1])["runs"][0]["id"]
    for args in (
        ("history", "show", run_id),
        ("history", "export", run_id, "--format", "markdown"),
        ("history", "list"),
    ):
        code, out, err = run_raw(*args)
        assert code == 0, err
        assert_inert(out, " ".join(args))
    code, out, _ = run_raw("history", "show", run_id, "--format", "json")
    assert_inert(out.replace("\n", ""), "history show --format json")


def test_partial_text_of_a_failed_call_is_shown_inertly_by_history_show(fake, run_raw):
    fake.script(Reply(text=f"Partial {EVIL} text that goes on", chunk_size=4, error_after=6, error_type="api_error"))
    code, out, err = run_raw("ask", "-p", "anthropic", "hi")
    assert code == 3
    assert_inert(out + err, "ask interrupted")
    run_id = json.loads(run_raw("history", "list", "--format", "json")[1])["runs"][0]["id"]
    code, out, _ = run_raw("history", "show", run_id)
    assert "text received" in out and "\\x1b]52" in out
    assert_inert(out, "history show of an interrupted call")


def test_triage_text_and_markdown_show_it_inertly(fake, run_raw):
    fake.script(*[Reply(text=evil_triage())] * 2)
    for args in ((), ("--format", "markdown")):
        code, out, err = run_raw("triage", "incidents/kafka-lag.md", "-p", "anthropic", "--no-tui", *args)
        assert code == 0, err
        assert_inert(out, f"triage {args}")
        assert_inert(err, f"triage {args} stderr")
        assert "Restart" in out and "FORGED" in out


def test_compare_text_and_markdown_show_it_inertly(fake, run_raw):
    fake.script(*[Reply(text=evil_review())] * 4)
    for args in ((), ("--format", "markdown")):
        code, out, err = run_raw("compare", SAMPLE, "-a", "anthropic", "-b", "openai", *args)
        assert code == 0, err
        assert_inert(out, f"compare {args}")
        assert_inert(err, f"compare {args} stderr")
        assert "FORGED" in out + err


@pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5\nforged: all good", "anthropic:claude\x1b[2J"])
def test_a_spec_with_a_newline_or_an_escape_is_refused_and_shown_inertly(run_raw, spec):
    code, out, err = run_raw("ask", "-p", spec, "hi")
    assert code == 2 and out == ""
    assert err.count("\n") == 1, "one line: the newline in the SPEC is shown, not printed"
    assert_inert(err, "the notice")
    assert "contains a control character" in err and repr(spec) in err


def test_no_key_or_escape_in_output_when_the_provider_echoes_everything(fake, run_raw):
    """The canary keys are echoed inside escape sequences; neither survives."""
    from tests.fakeserver import ECHO_KEY

    fake.script(Reply(text=f"{EVIL} key={ECHO_KEY} {EVIL}", chunk_size=5))
    code, out, err = run_raw("ask", "-p", "openai", "hi")
    assert code == 0
    assert_inert(out + err, "ask")
    assert CANARY_OPENAI not in out + err and CANARY_ANTHROPIC not in out + err
    assert "key=[REDACTED:api-key]" in out


def test_every_rich_console_on_the_command_line_is_the_safe_one():
    """One mechanism: a plain rich Console would send a provider's ESC to the terminal
    (or, under the neutralised standard streams, garble its own colours)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"(?<![\w.])Console\(", line)
    ]
    assert offenders == []
