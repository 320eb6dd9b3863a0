"""Every command against bad input: one specific line on stderr, the right exit code, no
traceback (run_cli fails on one), and nothing sent to a provider.

Each row: the command line ({tmp} is the test's directory), what to set up first, what
to pipe in, the exit code, and words the message must contain.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import write_private


def _setup(tmp: Path, kind: str) -> None:
    if kind == "empty":
        (tmp / "empty.py").write_bytes(b"")
    elif kind == "binary":
        (tmp / "blob.py").write_bytes(bytes(range(256)) * 4)
    elif kind == "huge":
        (tmp / "huge.py").write_bytes(b"x = 1\n" * 800_000)
    elif kind == "latin1":
        (tmp / "legacy.py").write_bytes("# r\xe9sum\xe9\nprint(1)\n".encode("latin-1"))
    elif kind == "fifo":
        os.mkfifo(tmp / "pipe.py")
    elif kind == "file":
        (tmp / "plain.txt").write_text("hello\n")
    elif kind == "bad-toml":
        write_private(tmp / "config" / "config.toml", "[endpoints.lab\nbase_url = 1\n")
    elif kind == "bad-value":
        write_private(tmp / "config" / "config.toml", "[resilience]\nretries = 99\n")
    elif kind == "bad-url":
        write_private(tmp / "config" / "config.toml", '[endpoints.lab]\nbase_url = "not a url"\n')
    elif kind == "file-url":
        write_private(tmp / "config" / "config.toml", '[endpoints.lab]\nbase_url = "file:///etc/passwd"\n')
    elif kind == "nan-timeout":
        write_private(tmp / "config" / "config.toml", "[resilience]\nfirst_token_timeout_s = nan\n")
    elif kind == "bad-key":
        (tmp / "k.toml").write_text("[[issue]]\nid = 1\n")


ROWS = [
    # review: the file
    (["review", "{tmp}/missing.py"], None, None, 2, ["missing.py: no such file"]),
    (["review", "--diff", "nosuchrev...HEAD"], None, None, 2, ["nosuchrev...HEAD: unknown revision or range"]),
    (["review", "{tmp}/empty.py"], "empty", None, 2, ["is empty"]),
    (["review", "{tmp}/blob.py"], "binary", None, 2, ["looks binary"]),
    (["review", "{tmp}/huge.py"], "huge", None, 2, ["more than the 4 MiB limit"]),
    (["review", "{tmp}/pipe.py"], "fifo", None, 2, ["is not a regular file"]),
    (["review", "/dev/zero"], None, None, 2, ["is not a regular file"]),
    (["review", "{tmp}/plain.txt/inside.py"], "file", None, 2, ["no such file"]),
    (
        ["review", "sample_code/inventory_service.py", "--key", "{tmp}/k.toml"],
        "bad-key",
        None,
        2,
        ["answer key", "missing or malformed"],
    ),
    (["review", "sample_code/inventory_service.py", "--out", "{tmp}"], None, None, 2, ["is a directory"]),
    # review: the options
    (
        ["review", "sample_code/inventory_service.py", "-p", "gemini:pro"],
        None,
        None,
        2,
        ["unknown provider 'gemini:pro'", "anthropic, openai, local"],
    ),
    (["review", "sample_code/inventory_service.py", "-p", ":"], None, None, 2, ["unknown provider"]),
    (["review", "sample_code/inventory_service.py", "-p", ""], None, None, 2, ["the SPEC is empty"]),
    (["review", "sample_code/inventory_service.py", "-p", "  "], None, None, 2, ["the SPEC is empty"]),
    (["review", "sample_code/inventory_service.py", "--max-tokens", "0"], None, None, 2, ["must be greater than 0"]),
    (["review", "sample_code/inventory_service.py", "--fail-on", "urgent"], None, None, 2, ["invalid choice"]),
    (
        ["review", "sample_code/inventory_service.py", "--chunk-tokens", "lots"],
        None,
        None,
        2,
        ["'lots' is not a whole number"],
    ),
    # ask: the prompt
    (["ask", "-p", "anthropic", ""], None, None, 2, ["the prompt is empty"]),
    (["ask", "-p", "anthropic", "-"], None, "   \n\n", 2, ["the prompt is empty"]),
    (["ask", "-p", "anthropic", "-"], None, "log line\x00\x01\x02", 2, ["NUL bytes"]),
    (["ask", "-p", "openai:", "hi", "--retries", "11"], None, None, 2, ["at most 10"]),
    # --max-tokens: an absurd number on every command that takes it, then a model's own limit
    *[
        (
            [*command, "--max-tokens", "99999999999"],
            None,
            None,
            2,
            ["--max-tokens", "99,999,999,999 is more than any model writes in one answer (at most 1,000,000)"],
        )
        for command in (
            ["ask", "-p", "anthropic", "hi"],
            ["review", "sample_code/inventory_service.py"],
            ["triage", "incidents/cert-expiry.md"],
            ["bench", "latency", "-p", "anthropic"],
            ["compare", "incidents/cert-expiry.md", "-a", "anthropic", "-b", "openai"],
            ["eval", "--models", "anthropic", "--judges", "none"],
        )
    ],
    (
        ["ask", "-p", "anthropic:claude-haiku-4-5", "--max-tokens", "100000", "hi"],
        None,
        None,
        2,
        [
            "--max-tokens 100,000 is more than it writes in one answer (at most 64,000 output tokens) for "
            "anthropic:claude-haiku-4-5; lower --max-tokens"
        ],
    ),
    (
        ["ask", "-p", "anthropic:claude-haiku-4-5", "--fallback", "openai:gpt-4o", "--max-tokens", "20000", "hi"],
        None,
        None,
        2,
        ["at most 16,384 output tokens) for openai:gpt-4o"],
    ),
    (
        ["review", "sample_code/inventory_service.py", "-p", "openai:gpt-4.1", "--max-tokens", "40000"],
        None,
        None,
        2,
        ["at most 32,768 output tokens) for openai:gpt-4.1"],
    ),
    (
        ["triage", "incidents/cert-expiry.md", "-p", "anthropic:claude-3-5-haiku-latest", "--max-tokens", "9000"],
        None,
        None,
        2,
        ["at most 8,192 output tokens) for anthropic:claude-3-5-haiku-latest"],
    ),
    (
        [
            "compare",
            "incidents/cert-expiry.md",
            "-a",
            "anthropic:claude-haiku-4-5",
            "-b",
            "openai:gpt-4o",
            "--max-tokens",
            "30000",
        ],
        None,
        None,
        2,
        ["for openai:gpt-4o"],
    ),
    (
        ["eval", "--models", "openai:gpt-5.4-mini,openai:gpt-4o", "--judges", "none", "--max-tokens", "30000"],
        None,
        None,
        2,
        ["for openai:gpt-4o"],
    ),
    (
        ["bench", "latency", "-p", "anthropic:claude-3-haiku-20240307", "--max-tokens", "5000"],
        None,
        None,
        2,
        ["at most 4,096 output tokens) for anthropic:claude-3-haiku-20240307"],
    ),
    # the config
    (["providers", "--no-check"], "bad-toml", None, 2, ["is not valid TOML", "line 1"]),
    (["ask", "hi"], "bad-value", None, 2, ["resilience.retries must be a whole number from 0 to 10"]),
    (["ask", "-p", "lab:m", "hi"], "bad-url", None, 2, ["line 2: endpoints.lab.base_url must be an http"]),
    (["ask", "-p", "lab:m", "hi"], "file-url", None, 2, ["(got 'file:///etc/passwd')"]),
    (
        ["ask", "-p", "anthropic", "hi"],
        "nan-timeout",
        None,
        2,
        ["line 2: resilience.first_token_timeout_s must be a positive number of seconds (got nan)"],
    ),
    (["ask", "-p", "", "hi"], None, None, 2, ["the SPEC is empty"]),
    (["triage", "-", "-p", ""], None, "disk full", 2, ["the SPEC is empty"]),
    (["compare", "sample_code/inventory_service.py", "-a", "", "-b", "openai"], None, None, 2, ["the SPEC is empty"]),
    # history
    (["history", "show", "rmissing"], None, None, 2, ["no run 'rmissing' in history"]),
    (["history", "export", "rmissing", "--format", "sarif"], None, None, 2, ["no run 'rmissing'"]),
    (["history", "prune"], None, None, 2, ["--older-than"]),
    (["history", "list", "--status", "weird"], None, None, 2, ["invalid choice"]),
]


@pytest.mark.parametrize(
    ("args", "setup", "stdin", "code", "words"), ROWS, ids=[f"{' '.join(r[0][:2])}-{n}" for n, r in enumerate(ROWS)]
)
def test_bad_input_gets_a_specific_message(run_cli, fake, tmp_path, args, setup, stdin, code, words):
    if setup:
        _setup(tmp_path, setup)
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], stdin=stdin)
    assert result.code == code, (result.stdout, result.stderr)
    message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    for word in words:
        assert word in result.stderr, message
    assert fake.requests == []


def test_non_utf8_input_is_reviewed_with_a_note_not_refused(run_cli, fake, tmp_path):
    from tests.fakeserver import Reply

    _setup(tmp_path, "latin1")
    fake.script(Reply(text='{"findings": [], "summary": "ok", "score": 9}'))
    result = run_cli("review", str(tmp_path / "legacy.py"), "-p", "anthropic")
    assert result.code == 0 and "not valid UTF-8" in result.stderr and "decoded as cp1252" in result.stderr
