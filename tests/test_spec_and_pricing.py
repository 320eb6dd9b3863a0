"""SPEC parsing and resolution, declared capabilities, and prices."""

from __future__ import annotations

import pytest

from providers import build_provider, default_spec, parse_spec
from providers import errors as E
from providers.pricing import Price, cost_usd, format_cost
from providers.spec import Endpoint
from providers.types import Usage

OLLAMA = {"ollama": Endpoint(name="ollama", base_url="http://localhost:11434/v1")}


def test_spec_splits_on_the_first_colon():
    spec = parse_spec("ollama:qwen2.5-coder:7b", OLLAMA)
    assert (spec.name, spec.model) == ("ollama", "qwen2.5-coder:7b")


def test_bare_kind_takes_its_default_model():
    assert str(parse_spec("anthropic")) == "anthropic:claude-haiku-4-5"
    assert str(parse_spec("OpenAI")) == "openai:gpt-5.4-mini"


@pytest.mark.parametrize("bad", ["bogus:model", "", "   ", ":gpt-5.5", "claude-haiku-4-5"])
def test_unknown_provider_lists_the_valid_kinds(bad):
    with pytest.raises(E.UnknownProviderError) as raised:
        parse_spec(bad, OLLAMA)
    line = raised.value.one_line()
    assert "valid providers are anthropic, openai, local, ollama" in line


def test_endpoint_without_model_asks_for_one():
    with pytest.raises(E.UnknownProviderError, match="needs a model"):
        parse_spec("ollama", OLLAMA)


def test_missing_key_names_the_variable():
    with pytest.raises(E.MissingKeyError) as raised:
        build_provider("openai:gpt-5.5", env={})
    assert "OPENAI_API_KEY is not set" in raised.value.one_line()


def test_capabilities_pick_the_token_parameter():
    env = {"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k"}
    assert build_provider("anthropic:claude-sonnet-4-6", env=env).caps.token_param == "max_tokens"
    gpt = build_provider("openai:gpt-5.5", env=env).caps
    assert gpt.token_param == "max_completion_tokens" and gpt.reasoning_tokens
    local = Endpoint(
        name="vllm", base_url="http://127.0.0.1:8000/v1", token_param="max_completion_tokens", structured_output=False
    )
    caps = build_provider("vllm:llama", env=env, endpoints={"vllm": local}).caps
    assert caps.token_param == "max_completion_tokens" and not caps.native_structured_output


def test_resolution_order():
    keys = {"OPENAI_API_KEY": "k"}
    assert (
        default_spec(config_default=None, env={**keys, "LLM_PROVIDER": "anthropic:claude-sonnet-4-6"})
        == "anthropic:claude-sonnet-4-6"
    )
    assert default_spec(config_default="ollama:qwen", env=keys) == "ollama:qwen"
    assert default_spec(config_default=None, env=keys) == "openai:gpt-5.4-mini"
    with pytest.raises(E.ConfigurationError) as raised:
        default_spec(config_default=None, env={}, allow_local=False)
    assert "LLM_PROVIDER" in raised.value.one_line() and "ANTHROPIC_API_KEY" in raised.value.one_line()


def test_cost_matches_genai_prices():
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    usage = Usage(input_tokens=1200, output_tokens=300)
    expected = float(
        calc_price(
            PriceUsage(input_tokens=1200, output_tokens=300), model_ref="claude-haiku-4-5", provider_id="anthropic"
        ).total_price
    )
    assert cost_usd("anthropic", "claude-haiku-4-5", usage) == pytest.approx(expected)
    assert expected > 0


def test_unknown_price_is_none_never_zero():
    usage = Usage(input_tokens=10, output_tokens=10)
    assert cost_usd("openai", "my-private-finetune", usage) is None
    assert cost_usd(None, "qwen2.5-coder:7b", usage) is None
    assert format_cost(None) == "cost unknown"


def test_price_override_wins():
    usage = Usage(input_tokens=2_000_000, output_tokens=1_000_000)
    overrides = {"qwen": Price(input_per_mtok=0.5, output_per_mtok=2.0)}
    assert cost_usd(None, "qwen", usage, overrides) == pytest.approx(3.0)
