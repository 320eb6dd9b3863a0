"""`driftcheck config`: the settings screen's headless twin writes the TOML that
driftcheck reads, private to its owner, and refuses what it could not read back."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.conftest import CANARY_ANTHROPIC


def _config(cli_env) -> Path:
    return Path(cli_env["DRIFTCHECK_CONFIG_DIR"]) / "config.toml"


def test_set_writes_dotted_settings_as_toml(run_cli, cli_env):
    for key, value in (("default", "anthropic:claude-haiku-4-5"), ("compare", "anthropic:claude-sonnet-4-6, openai:gpt-5.4-mini"),
                       ("judges", '["openai:gpt-5.5"]'), ("routes.triage.active", "openai:gpt-5.4-mini"),
                       ("resilience.retries", "3"), ("resilience.hedge_after", "2.5s"),
                       ("endpoints.ollama.base_url", "http://localhost:11434/v1"),
                       ("prices.qwen2.5-coder:7b", "{input_per_mtok = 0.1, output_per_mtok = 0.3}"),
                       ("prices.qwen2.5-coder:7b.output_per_mtok", "0.4")):
        result = run_cli("config", "set", key, value)
        assert result.code == 0, result.stderr
    path = _config(cli_env)
    data = tomllib.loads(path.read_text())
    assert data["compare"] == ["anthropic:claude-sonnet-4-6", "openai:gpt-5.4-mini"]
    assert data["judges"] == ["openai:gpt-5.5"]
    assert data["routes"] == {"triage.active": "openai:gpt-5.4-mini"}
    assert data["resilience"] == {"retries": 3, "hedge_after": "2.5s"}
    assert data["prices"] == {"qwen2.5-coder:7b": {"input_per_mtok": 0.1, "output_per_mtok": 0.4}}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # driftcheck reads back what it wrote
    assert "ollama" in run_cli("providers", "--no-check").stdout
    assert run_cli("config", "unset", "routes.triage.active").code == 0
    assert "routes" not in tomllib.loads(path.read_text())
    shown = run_cli("config")
    assert shown.code == 0 and 'default = "anthropic:claude-haiku-4-5"' in shown.stdout


def test_bad_settings_are_refused_and_the_file_is_unchanged(run_cli, cli_env):
    assert run_cli("config", "set", "resilience.retries", "2").code == 0
    before = _config(cli_env).read_text()
    for key, value, words in (("resilience.retries", "99", "from 0 to 10"), ("colour", "blue", "unknown setting"),
                              ("endpoints.x.token_param", "tokens", "token_param"),
                              ("endpoints.x.api_key", CANARY_ANTHROPIC, "looks like a secret")):
        result = run_cli("config", "set", key, value)
        assert result.code == 2 and words in result.stderr, result.stderr
        assert CANARY_ANTHROPIC not in result.stderr
    assert _config(cli_env).read_text() == before
