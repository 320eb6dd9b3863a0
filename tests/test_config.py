"""Reading the TOML config: the documented example, and clear messages for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.load import load_config
from app.errors import ConfigError
from tests.conftest import write_private

EXAMPLE = """
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

[prices."claude-haiku-4-5"]
input_per_mtok = 1.0
output_per_mtok = 5.0
cache_read_per_mtok = 0.1
cache_write_per_mtok = 1.25
"""


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
        "openai:gpt-5.5",
        ["anthropic:claude-sonnet-4-6"],
        "off",
    )
    assert config.resilience.fallback == ["openai:gpt-5.4-mini"] and config.resilience.hedge_after == "p95"
    assert (config.timeouts.first_token_s, config.timeouts.stall_s) == (20, 60)
    assert config.retry.retries == 3
    assert config.prices["qwen2.5-coder:7b"].output_per_mtok == 0.3
    # An override prices cache reads and writes too (else at the input price), and halves at a batch API.
    from providers.pricing import cost_usd
    from providers.types import Usage

    usage = Usage(input_tokens=1_000_000, output_tokens=0, cache_read_tokens=600_000, cache_write_tokens=300_000)
    expected = 0.1 * 1.0 + 0.6 * 0.1 + 0.3 * 1.25
    assert cost_usd("anthropic", "claude-haiku-4-5", usage, config.prices) == pytest.approx(expected)
    assert cost_usd("anthropic", "claude-haiku-4-5", usage, config.prices, batch=True) == pytest.approx(expected / 2)
    assert cost_usd(None, "qwen2.5-coder:7b", usage, config.prices) == pytest.approx(0.1)  # no cache rates: input


def test_missing_file_is_an_empty_config(tmp_path):
    config = load_config(tmp_path / "absent.toml")
    assert config.default is None and config.endpoints == {}


def test_broken_toml_names_the_line(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, 'default = "a"\n[endpoints.x\nbase_url = 1\n'))
    assert "line 2" in str(raised.value) and "not valid TOML" in str(raised.value)


@pytest.mark.parametrize(
    "text, where",
    [
        ('[endpoints.x]\napi_key_env = "K"\n', "endpoints.x.base_url"),
        ('[endpoints.x]\nbase_url = "http://h"\ntoken_param = "max_toks"\n', "endpoints.x.token_param"),
        ("[resilience]\nretries = -1\n", "resilience.retries"),
        ('[resilience]\nfirst_token_timeout_s = "soon"\n', "resilience.first_token_timeout_s"),
        ('compare = "a:b"\n', "compare"),
    ],
)
def test_wrong_values_name_the_key(tmp_path, text, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[routes]\nreviews = "openai:gpt-5.4-mini"\n', "not a task with a route"),
        ('[resilience]\nhedge_after = "soon"\n', "must be off, p95"),
        ("[resilience]\nhedge_budget = 5\n", "from 0 to 1"),
        ('[resilience]\nfallback = "openai:gpt-5.4-mini"\n', "list of SPEC"),
    ],
)
def test_bad_resilience_settings_are_named(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, text))


# --- every value checked by the one model, with the file, the key and the line ----------------

REFUSED = [
    # (file text, line, the key as the message names it, words)
    (
        "# timeouts\n[resilience]\nfirst_token_timeout_s = nan\n",
        3,
        "resilience.first_token_timeout_s",
        "must be a positive number of seconds (got nan)",
    ),
    ("[resilience]\nconnect_timeout_s = nan\n", 2, "resilience.connect_timeout_s", "(got nan)"),
    ("[resilience]\nretries = 1\nstall_timeout_s = nan\n", 3, "resilience.stall_timeout_s", "(got nan)"),
    ("[resilience]\ntimeout_s = inf\n", 2, "resilience.timeout_s", "(got inf)"),
    ("[resilience]\nhedge_budget = nan\n", 2, "resilience.hedge_budget", "(got nan)"),
    ("[resilience]\ncooldown_s = -inf\n", 2, "resilience.cooldown_s", "(got -inf)"),
    ("[local]\nfirst_token_timeout_s = inf\n", 2, "local.first_token_timeout_s", "(got inf)"),
    ('[prices."m"]\ninput_per_mtok = 0.1\noutput_per_mtok = nan\n', 3, "prices.m.output_per_mtok", "(got nan)"),
    (
        '[endpoints.lab]\nbase_url = "http://h"\nparams = { temperature = nan }\n',
        3,
        "endpoints.lab.params",
        "finite numbers only",
    ),
    (
        'default = "anthropic"\n\n[resilience]\nretriez = 2\n',
        4,
        "resilience.retriez",
        "unknown setting: did you mean resilience.retries?",
    ),
    ('default = "anthropic"\ncolour = "blue"\n', 2, "colour", "is an unknown setting (the keys here are default"),
    (
        '[endpoints.lab]\nbase_url = "http://h"\nmodel = ["m"]\n',
        3,
        "endpoints.lab.model",
        "did you mean endpoints.lab.models?",
    ),
    (
        'compare = ["anthropic", "openai", "local"]\n',
        1,
        "compare",
        "exactly two SPECs, A and B (got a list of 3 items)",
    ),
    ('compare = [\n  "anthropic",\n]\n', 1, "compare", "exactly two SPECs"),
    ('judges = [\n  "openai",\n  "foo:bar",\n]\n', 3, "judges: item 2", "unknown provider 'foo:bar'"),
    ("[resilience]\nfallback = [99]\n", 2, "resilience.fallback: item 1", "must be a provider:model SPEC (got 99)"),
    ('default = "gemini:pro"\n', 1, "default", "is not a usable SPEC: unknown provider 'gemini:pro'"),
    ('default = ""\n', 1, "default", "must be a provider:model SPEC (got '')"),
    ('[routes]\nreview = "lab:m"\n', 2, "routes.review", "unknown provider 'lab:m'"),
    (
        '[routes]\n"triage.active" = { spec = "openai", fallback = [":x"] }\n',
        2,
        "routes.triage.active.fallback: item 1",
        "unknown provider ':x'",
    ),
    ('[endpoints.lab]\nbase_url = "not a url"\n', 2, "endpoints.lab.base_url", "must be an http:// or https:// URL"),
    ('[endpoints.lab]\nbase_url = "file:///etc/passwd"\n', 2, "endpoints.lab.base_url", "(got 'file:///etc/passwd')"),
    ('[endpoints.lab]\napi_key_env = "LAB_KEY"\n', 1, "endpoints.lab.base_url", "is required"),
    (
        '\n[endpoints.anthropic]\nbase_url = "http://h"\n',
        2,
        "endpoints.anthropic",
        "would shadow the built-in provider 'anthropic'",
    ),
    ('[endpoints.OpenAI]\nbase_url = "http://h"\n', 1, "endpoints.OpenAI", "OPENAI_BASE_URL"),
    ('[endpoints.local]\nbase_url = "http://h"\n', 1, "endpoints.local", "would shadow the built-in provider 'local'"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), REFUSED, ids=[r[2] for r in REFUSED])
def test_every_refusal_names_the_file_the_key_and_the_line(tmp_path, text, line, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"the config {path}: line {line}: {key} "), message
    assert words in message and "\n" not in message


def test_spec_names_an_endpoint_of_the_same_file(tmp_path):
    config = load_config(
        write(
            tmp_path,
            'default = "lab:m"\njudges = ["LAB:n"]\n[routes]\nreview = "lab:x"\n'
            '[endpoints.Lab]\nbase_url = "https://lab.example/v1"\n',
        )
    )
    assert config.default == "lab:m" and config.routes["review"].spec == "lab:x" and "lab" in config.endpoints


def test_defaults_and_documented_forms_still_load(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[resilience]\nhedge_after = 2.5\n\n[prices."free:model"]\ninput_per_mtok = 0.0\noutput_per_mtok = 0\n',
        )
    )
    assert config.resilience.hedge_after == "2.5" and config.prices["free:model"].input_per_mtok == 0
    assert (config.timeouts.connect_s, config.timeouts.first_token_s, config.timeouts.stall_s) == (10, 60, 30)
    assert config.retry.retries == 2 and config.local.context_tokens == 8192


def test_a_directory_others_can_use_is_refused_with_the_fix(tmp_path):
    path = write(tmp_path / "shared", 'default = "anthropic"\n')
    path.parent.chmod(0o777)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"the config directory {path.parent} can be read or written by other users "
        f"(mode 777); make it private with: chmod 700 {path.parent}"
    )
    path.parent.chmod(0o700)
    assert load_config(path).default == "anthropic"


def test_a_config_directory_that_is_a_file_is_named(tmp_path):
    (tmp_path / "config").write_text("not a directory\n")
    with pytest.raises(ConfigError, match="is not a directory"):
        load_config(tmp_path / "config" / "config.toml")


def test_the_model_gives_a_json_schema_with_defaults_and_limits():
    from app.config.model import ConfigFile

    schema = ConfigFile.model_json_schema()
    assert schema["additionalProperties"] is False
    resilience = schema["$defs"]["ResilienceTable"]["properties"]
    assert resilience["retries"] == {
        "default": 2,
        "description": resilience["retries"]["description"],
        "maximum": 10,
        "minimum": 0,
        "title": "Retries",
        "type": "integer",
    }
    assert resilience["first_token_timeout_s"]["exclusiveMinimum"] == 0
    assert "triage.active" in schema["$defs"]["RoutesTable"]["properties"]
