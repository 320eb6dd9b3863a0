"""Reading the TOML config: the documented example, and clear messages for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_config
from tests.conftest import write_private

EXAMPLE = '''
default = "anthropic:claude-haiku-4-5"
compare = ["anthropic:claude-sonnet-4-6", "openai:gpt-5.4-mini"]
judges = ["anthropic:claude-sonnet-4-6", "openai:gpt-5.5"]

[endpoints.ollama]
base_url = "http://localhost:11434/v1"
api_key_env = "OLLAMA_API_KEY"

[routes]
review = "anthropic:claude-sonnet-4-6"
"triage.active" = "openai:gpt-5.4-mini"
"triage.postmortem" = { spec = "openai:gpt-5.5", fallback = ["anthropic:claude-sonnet-4-6"], hedge_after = "off" }

[resilience]
timeout_s = 60
first_token_timeout_s = 20
retries = 3
fallback = ["openai:gpt-5.4-mini"]
hedge_after = "p95"
hedge_budget = 0.05

[prices."qwen2.5-coder:7b"]
input_per_mtok = 0.1
output_per_mtok = 0.3
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    write_private(path, text)
    return path


def test_documented_example_loads(tmp_path):
    config = load_config(write(tmp_path, EXAMPLE))
    assert config.default == "anthropic:claude-haiku-4-5"
    assert config.compare == ["anthropic:claude-sonnet-4-6", "openai:gpt-5.4-mini"]
    assert config.endpoints["ollama"].base_url == "http://localhost:11434/v1"
    assert config.endpoints["ollama"].api_key_env == "OLLAMA_API_KEY"
    assert config.routes["triage.active"].spec == "openai:gpt-5.4-mini"
    postmortem = config.routes["triage.postmortem"]
    assert (postmortem.spec, postmortem.fallback, postmortem.hedge_after) == (
        "openai:gpt-5.5", ["anthropic:claude-sonnet-4-6"], "off")
    assert config.resilience.fallback == ["openai:gpt-5.4-mini"] and config.resilience.hedge_after == "p95"
    assert (config.timeouts.first_token_s, config.timeouts.stall_s) == (20, 60)
    assert config.retry.retries == 3
    assert config.prices["qwen2.5-coder:7b"].output_per_mtok == 0.3


def test_missing_file_is_an_empty_config(tmp_path):
    config = load_config(tmp_path / "absent.toml")
    assert config.default is None and config.endpoints == {}


def test_broken_toml_names_the_line(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, 'default = "a"\n[endpoints.x\nbase_url = 1\n'))
    assert "line 2" in str(raised.value) and "not valid TOML" in str(raised.value)


@pytest.mark.parametrize("text, where", [
    ('[endpoints.x]\napi_key_env = "K"\n', "endpoints.x.base_url"),
    ('[endpoints.x]\nbase_url = "http://h"\ntoken_param = "max_toks"\n', "endpoints.x.token_param"),
    ('[resilience]\nretries = -1\n', "resilience.retries"),
    ('[resilience]\nfirst_token_timeout_s = "soon"\n', "resilience.first_token_timeout_s"),
    ('compare = "a:b"\n', "compare"),
])
def test_wrong_values_name_the_key(tmp_path, text, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(("text", "words"), [
    ('[routes]\nreviews = "openai:gpt-5.4-mini"\n', "not a task with a route"),
    ('[resilience]\nhedge_after = "soon"\n', "must be off, p95"),
    ('[resilience]\nhedge_budget = 5\n', "from 0 to 1"),
    ('[resilience]\nfallback = "openai:gpt-5.4-mini"\n', "list of SPEC"),
])
def test_bad_resilience_settings_are_named(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, text))
