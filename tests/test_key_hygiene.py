"""Keys go to the provider and nowhere else.

Every command runs with canary keys in the environment (and the SDKs' own debug logging
switched on through ANTHROPIC_LOG / OPENAI_LOG); then everything printed and every file
written under the test's directories — config, history database and its WAL, exports —
is searched for the canaries. run_cli already fails on a canary in stdout or stderr.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.conftest import CANARY_ANTHROPIC, CANARY_OPENAI, write_private
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply, unauthorized

SAMPLE = "sample_code/inventory_service.py"
PROMPT = "zebra-marker prompt that must not be logged"


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_no_command_writes_or_prints_a_key(fake, run_cli, cli_env, tmp_path):
    env = {**cli_env, "ANTHROPIC_LOG": "debug", "OPENAI_LOG": "debug"}
    fake.script(Reply(text="ok"), Reply(text="ok"), unauthorized(), unauthorized(),
                *[Reply(text="ok")] * 4,  # bench: one warm-up and three timed
                Reply(text=keyed_review_text("inventory_service.py")),
                Reply(text=keyed_review_text("inventory_service.py")),
                Reply(text=keyed_review_text("inventory_service.py")),
                Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except",))))
    outputs = []
    for args in (("ask", "-p", "anthropic", PROMPT), ("ask", "-p", "openai", "--format", "json", PROMPT),
                 ("ask", "-p", "anthropic", "--retries", "0", PROMPT),
                 ("ask", "-p", "openai", "--retries", "0", PROMPT),
                 ("bench", "latency", "-p", "anthropic", "-n", "3", "--format", "json"),
                 ("compare", SAMPLE, "-a", "anthropic", "-b", "openai", "--format", "markdown"),
                 ("review", SAMPLE, "-p", "anthropic", "--format", "sarif", "--out", str(tmp_path / "r.sarif")),
                 ("review", SAMPLE, "-p", "openai", "--format", "markdown", "--out", str(tmp_path / "r.md")),
                 ("eval", "--models", "anthropic,openai", "--judges", "openai", "--set", "incidents/cert-expiry.md",
                  "--format", "html", "--out", str(tmp_path / "eval.html")),
                 ("providers", "--no-check"), ("providers", "--no-check", "--format", "json"),
                 ("config", "set", "default", "anthropic:claude-haiku-4-5"), ("config", "show"),
                 ("history", "list"), ("history", "list", "--format", "json")):
        result = run_cli(*args, env=env)
        outputs.append(result.stdout + result.stderr)
        assert PROMPT not in result.stderr, f"{args}: the SDK's debug log printed the prompt"
    runs = json.loads(outputs[-1])["runs"]
    for run in runs:
        for args in (("history", "show", run["id"], "--format", "json"), ("history", "export", run["id"])):
            result = run_cli(*args, env=env)
            outputs.append(result.stdout + result.stderr)
    outputs.append(run_cli("history", "diff", runs[0]["id"], runs[1]["id"], env=env).stdout)

    # The keys really were in play: the fake server received them.
    sent = " ".join(f"{r.headers.get('x-api-key', '')} {r.headers.get('authorization', '')}" for r in fake.requests)
    assert CANARY_ANTHROPIC in sent and CANARY_OPENAI in sent
    everything = "\n".join(outputs).encode() + _all_bytes(tmp_path)
    assert (tmp_path / "data" / "history.db").exists() and (tmp_path / "r.sarif").exists()
    for canary in (CANARY_ANTHROPIC, CANARY_OPENAI):
        assert canary.encode() not in everything
    # A 401 names the variable to fix, never its value.
    assert "ANTHROPIC_API_KEY" in outputs[2] and "OPENAI_API_KEY" in outputs[3]


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
    write_private(tmp_path / "config" / "config.toml",
                  f'[endpoints.lab]\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "{CANARY_OPENAI}"\n')
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
