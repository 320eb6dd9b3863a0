"""Keys go to the provider and nowhere else.

Every command runs with canary keys in the environment (and the SDKs' own debug logging
switched on through ANTHROPIC_LOG / OPENAI_LOG, which real processes check) against a
provider that echoes the key it was sent; then everything printed and every file written
under the test's directories — config, history database and its WAL, exports — is
searched for the canaries. run_cli already fails on a canary in stdout or stderr.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.conftest import CANARY_ANTHROPIC, CANARY_OPENAI, ROOT, write_private
from tests.fake_reviews import keyed_review, keyed_review_text, plain_finding
from tests.fake_triage import active_answer
from tests.fakeserver import ECHO_KEY, HttpError, Reply

SAMPLE = "sample_code/inventory_service.py"
PROMPT = "zebra-marker prompt that must not be logged"


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def echoing_review() -> str:
    """A keyed review whose last finding quotes the key the request carried."""
    first = (ROOT / SAMPLE).read_text().splitlines()[0].strip()
    return json.dumps(
        keyed_review(
            "inventory_service.py",
            extra=(plain_finding(1, first, explanation=f"The client was built with {ECHO_KEY} as its key."),),
        )
    )


def echoing_triage() -> str:
    answer = active_answer("cert-expiry.md")
    answer["actions"][0]["action"] += f" (authenticated as {ECHO_KEY})"
    return json.dumps(answer)


ECHOED_401 = HttpError(401, f"bad credentials: Bearer {ECHO_KEY}")


ECHO = f"Your key is {ECHO_KEY}; keep it safe."
# Every way an `ask` ends, on both SDKs: a streamed answer, 401, 400, 500, a mid-stream error.
ASK_STEPS = [
    (("ask", "-p", "anthropic", PROMPT), [Reply(text=ECHO, chunk_size=3)]),
    (("ask", "-p", "openai", "--format", "json", PROMPT), [Reply(text=ECHO, chunk_size=5)]),
    (("ask", "-p", "anthropic", "--retries", "0", PROMPT), [ECHOED_401]),
    (("ask", "-p", "openai", "--retries", "0", PROMPT), [ECHOED_401]),
    (
        ("ask", "-p", "openai", "--retries", "0", "--format", "json", PROMPT),
        [HttpError(400, f"invalid header value {ECHO_KEY}")],
    ),
    (("ask", "-p", "anthropic", "--retries", "0", PROMPT), [HttpError(500, f"upstream got {ECHO_KEY}")]),
    (
        ("ask", "-p", "openai", PROMPT),
        [
            Reply(
                text=ECHO,
                chunk_size=4,
                error_after=6,
                error_type="api_error",
                error_message=f"stream aborted for {ECHO_KEY}",
            )
        ],
    ),
]
SDK_DEBUG_LOGGING = {"ANTHROPIC_LOG": "debug", "OPENAI_LOG": "debug"}


def test_no_command_writes_or_prints_a_key_even_when_the_provider_echoes_it(fake, run_cli, cli_env, tmp_path):
    """Every command, against a provider that quotes the key it was sent in error bodies
    (401, 400, 500), streamed text, mid-stream error events and structured answers."""
    env = {**cli_env, **SDK_DEBUG_LOGGING}
    steps = [
        *ASK_STEPS,
        (("bench", "latency", "-p", "anthropic", "-n", "3", "--format", "json"), [Reply(text=ECHO)] * 4),
        (
            ("compare", SAMPLE, "-a", "anthropic", "-b", "openai", "--format", "markdown"),
            [Reply(text=echoing_review())] * 2,
        ),
        (
            ("review", SAMPLE, "-p", "anthropic", "--format", "sarif", "--out", str(tmp_path / "r.sarif")),
            [Reply(text=echoing_review())],
        ),
        (
            ("review", SAMPLE, "-p", "openai", "--format", "markdown", "--out", str(tmp_path / "r.md")),
            [Reply(text=echoing_review())],
        ),
        (("review", SAMPLE, "-p", "openai", "--retries", "0"), [ECHOED_401]),
        (
            ("triage", "incidents/cert-expiry.md", "-p", "anthropic", "--judge", "openai", "--format", "markdown"),
            [Reply(text=echoing_triage()), Reply(text=ECHO)],
        ),
        (
            (
                "eval",
                "--models",
                "anthropic,openai",
                "--judges",
                "openai",
                "--set",
                "incidents/cert-expiry.md",
                "--retries",
                "0",
                "--format",
                "html",
                "--out",
                str(tmp_path / "eval.html"),
            ),
            [Reply(text=echoing_triage()), ECHOED_401, Reply(text=ECHO)],
        ),
        (("providers", "--no-check"), []),
        (("providers", "--no-check", "--format", "json"), []),
        (("config", "set", "default", "anthropic:claude-haiku-4-5"), []),
        (("config", "show"), []),
        (("history", "list"), []),
        (("history", "list", "--format", "json"), []),
    ]
    outputs, sent = [], []
    for args, script in steps:
        fake.script(*script)
        result = run_cli(*args, env=env)
        outputs.append(result.stdout + result.stderr)
        sent += [f"{r.headers.get('x-api-key', '')} {r.headers.get('authorization', '')}" for r in fake.requests]
        fake.reset()  # what one command did not use must not answer the next
    runs = json.loads(outputs[-1])["runs"]
    for run in runs:
        for args in (
            ("history", "show", run["id"]),
            ("history", "show", run["id"], "--format", "json"),
            ("history", "export", run["id"]),
        ):
            result = run_cli(*args, env=env)
            outputs.append(result.stdout + result.stderr)
    reviews = [r["id"] for r in runs if r["task"] == "review" and r["status"] == "ok"]
    outputs.append(run_cli("history", "diff", reviews[0], reviews[1], env=env).stdout)

    # The keys really were in play: the fake server received them, and echoed them back.
    assert CANARY_ANTHROPIC in " ".join(sent) and CANARY_OPENAI in " ".join(sent)
    everything = "\n".join(outputs)
    assert everything.count("[REDACTED:api-key]") >= 10
    for path in ("data/history.db", "r.sarif", "r.md", "eval.html"):
        assert (tmp_path / path).exists(), path
    for canary in (CANARY_ANTHROPIC, CANARY_OPENAI):
        assert canary not in everything
        assert canary.encode() not in _all_bytes(tmp_path)
        assert canary[:16].encode() not in _all_bytes(tmp_path), "not even the start of a key"
    # A 401 names the variable to fix, never its value.
    assert "ANTHROPIC_API_KEY" in outputs[2] and "OPENAI_API_KEY" in outputs[3]


def test_the_sdks_debug_logging_prints_neither_the_prompt_nor_a_key(fake, run_cli_process, cli_env):
    """ANTHROPIC_LOG / OPENAI_LOG turn on the SDKs' DEBUG logging of whole requests. Real
    processes: the SDKs read those variables once, when a process first imports them."""
    env = {**cli_env, **SDK_DEBUG_LOGGING}
    for args, script in ASK_STEPS:
        fake.script(*script)
        result = run_cli_process(*args, env=env)  # which also fails on a key in the output
        assert PROMPT not in result.stderr, f"{args}: the SDK's debug log printed the prompt"
        assert fake.requests, f"{args}: nothing reached the provider"
        fake.reset()


def test_providers_shows_keys_only_as_set_or_not(run_cli):
    result = run_cli("providers", "--no-check")
    assert "ANTHROPIC_API_KEY set" in result.stdout and "OPENAI_API_KEY set" in result.stdout


def test_a_config_others_can_read_is_refused_with_the_fix(run_cli, tmp_path):
    config = write_private(tmp_path / "config" / "config.toml", 'default = "anthropic"\n')
    config.chmod(0o644)
    result = run_cli("providers", "--no-check")
    assert result.code == 2
    assert "can be read or written by other users (mode 644)" in result.stderr
    assert f"chmod 600 {config}" in result.stderr


def test_a_key_in_the_config_is_refused_without_printing_it(run_cli, tmp_path):
    write_private(
        tmp_path / "config" / "config.toml",
        f'[endpoints.lab]\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "{CANARY_OPENAI}"\n',
    )
    result = run_cli("providers", "--no-check")  # run_cli also asserts the canary is not printed
    assert result.code == 2
    assert "line 3 holds what looks like a secret" in result.stderr and "api_key_env" in result.stderr


def test_history_database_is_private(fake, run_cli, cli_env):
    fake.script(Reply(text="ok"))
    assert run_cli("ask", "-p", "anthropic", "hi").code == 0
    fake.script(Reply(text=keyed_review_text("inventory_service.py")))
    assert run_cli("review", SAMPLE, "-p", "anthropic").code == 0
    data = Path(cli_env["DRIFTCHECK_DATA_DIR"])
    for path in data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
