"""The CLI tests run `driftcheck` in this process (`run_cli` in tests/conftest.py), and mean
what they would with a process of its own: each command gets exactly its environment,
standard streams that are UTF-8 pipes and not terminals, argparse's exit code, none of the
state an earlier command left behind, and the test fails on whatever a user would see as
a traceback."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

import app.cli.providers
from providers.local import bundled_model_path
from tests.fake_triage import active_answer
from tests.fakeserver import HttpError, Reply

HAIKU = "anthropic:claude-haiku-4-5"
MINI = "openai:gpt-5.4-mini"


def _prompts(fake) -> str:
    return json.dumps([r.body for r in fake.requests], ensure_ascii=False)


def test_a_command_sees_exactly_the_environment_it_is_given_and_the_test_keeps_its_own(run_cli, cli_env, monkeypatch):
    monkeypatch.setenv("LLM_PROVIDER", "openai:gpt-5.4-nano")
    monkeypatch.delenv("DRIFTCHECK_CONFIG_DIR", raising=False)
    cwd = os.getcwd()
    chosen = json.loads(run_cli("providers", "--no-check", "--format", "json").stdout)["default"]
    assert chosen != "openai:gpt-5.4-nano", "the test process's LLM_PROVIDER reached the command"
    given = run_cli(
        "providers", "--no-check", "--format", "json", env={**cli_env, "LLM_PROVIDER": "openai:gpt-5.4-nano"}
    )
    assert json.loads(given.stdout)["default"] == "openai:gpt-5.4-nano"
    assert os.environ["LLM_PROVIDER"] == "openai:gpt-5.4-nano" and "DRIFTCHECK_CONFIG_DIR" not in os.environ
    assert os.getcwd() == cwd


def test_standard_input_is_a_utf8_pipe_read_as_text_or_as_bytes(fake, run_cli):
    fake.script(Reply(text="noted"), Reply(text=json.dumps(active_answer("cert-expiry.md"))))
    asked = run_cli("ask", "-p", HAIKU, "-", stdin="disk at 97 % on café-db")  # sys.stdin.read()
    assert asked.code == 0, asked.stderr
    triaged = run_cli(
        "triage", "-", "-p", HAIKU, "--no-tui", "--format", "json", stdin="TLS certificate expired on café-api"
    )  # sys.stdin.buffer.read()
    assert triaged.code == 0, triaged.stderr
    assert "café-db" in _prompts(fake) and "café-api" in _prompts(fake)
    # No input at all is an empty pipe (as /dev/null), not a terminal waiting for a paste.
    nothing = run_cli("ask", "-p", HAIKU, "-")
    assert nothing.code == 2 and "the prompt is empty" in nothing.stderr


def test_argparse_exits_become_the_exit_code(run_cli):
    # (`review` with no input is driftcheck's own one-line error now that PATH is optional.)
    missing = run_cli("ask")
    assert missing.code == 2 and missing.stdout == ""
    assert "usage: driftcheck ask" in missing.stderr and "required: prompt" in missing.stderr
    version = run_cli("--version")
    assert version.code == 0 and version.stdout.startswith("driftcheck ")


def test_output_is_captured_through_the_neutralising_streams_which_are_then_undone(fake, run_cli):
    streams = sys.stdout, sys.stderr
    fake.script(Reply(text="first \x1b[2J answer"), Reply(text="second answer"))
    first = run_cli("ask", "-p", HAIKU, "hi")
    assert (sys.stdout, sys.stderr) == streams
    second = run_cli("ask", "-p", HAIKU, "hi")
    assert "first \\x1b[2J answer" in first.stdout and "second" not in first.stdout
    assert "second answer" in second.stdout and "first" not in second.stdout


def test_an_exception_that_escapes_main_fails_the_test(run_cli, monkeypatch):
    monkeypatch.setattr(app.cli.providers, "run", lambda args: 1 / 0)
    with pytest.raises(AssertionError, match="let an exception escape main"):
        run_cli("providers")


class _ClosesOnALoopThatIsGone:
    """Shaped like an SDK client left open: its finaliser fails once its loop is closed."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        raise RuntimeError("Event loop is closed")


def test_what_a_process_would_print_on_stderr_by_itself_is_in_stderr(run_cli, monkeypatch):
    """A failing finaliser and a log record with nowhere else to go are printed to stderr by
    Python itself; a client left open shows up so, and fails the test as a traceback."""

    def leaves_a_client_open(args) -> int:
        _ClosesOnALoopThatIsGone()
        logging.getLogger("tests.somewhere").warning("a warning nobody configured a handler for")
        return 0

    monkeypatch.setattr(app.cli.providers, "run", leaves_a_client_open)
    with pytest.raises(AssertionError, match=r"(?s)a warning nobody configured.*Exception ignored.*Traceback"):
        run_cli("providers")


# --- state a process starts without ---------------------------------------------------------


def test_a_cooldown_from_an_earlier_command_is_not_carried_into_the_next(fake, run_cli):
    """Without history (--no-history) a new process knows nothing of earlier failures."""
    ask = ("ask", "-p", HAIKU, "--fallback", MINI, "--retries", "0", "--no-history", "hi")
    for _ in range(3):  # three failures in a row: a cooldown, in the process that saw them
        fake.script(HttpError(500, "upstream down"), model="claude-haiku-4-5")
        fake.script(Reply(text="from the fallback"), model="gpt-5.4-mini")
        assert "from the fallback" in run_cli(*ask).stdout
    fake.reset()
    fake.script(Reply(text="haiku is back"), model="claude-haiku-4-5")
    result = run_cli(*ask)
    assert result.code == 0 and "haiku is back" in result.stdout, result.stderr
    assert "cooling down" not in result.stderr


def test_a_key_an_earlier_command_used_is_not_scrubbed_from_the_next(fake, run_cli, cli_env):
    """A new process scrubs the keys it uses, not words that were someone's key before."""
    fake.script(Reply(text="ok"))
    assert run_cli("ask", "-p", MINI, "hi", env={**cli_env, "OPENAI_API_KEY": "correct-horse-battery"}).code == 0
    fake.script(Reply(text="the passphrase correct-horse-battery is an ordinary phrase here"))
    assert "correct-horse-battery is an ordinary phrase" in run_cli("ask", "-p", MINI, "hi").stdout


@pytest.mark.skipif(bundled_model_path() is None, reason="driftcheck[local] is not installed")
def test_the_bundled_model_note_is_shown_by_every_command(run_cli):
    dry_run = ("eval", "--models", "local:smollm2", "--set", "incidents/cert-expiry.md", "--dry-run")
    for _ in range(2):
        result = run_cli(*dry_run)
        assert result.code == 0 and "demo-grade" in result.stderr, result.stderr
