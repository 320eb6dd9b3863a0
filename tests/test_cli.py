"""`driftcheck ask` and `driftcheck providers` as a user runs them: a separate process
with real pipes, the fake server found through ANTHROPIC_BASE_URL / OPENAI_BASE_URL.

Every run is also checked for tracebacks and for the canary keys (see conftest).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_private
from tests.fakeserver import Reply, empty_billed, overloaded

BOTH = pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])


@BOTH
def test_ask_streams_text_and_prints_the_metrics_line(fake, run_cli, spec):
    fake.script(Reply(text="Restart the exporter, then watch the WAL.", input_tokens=120, output_tokens=11))
    result = run_cli("ask", "-p", spec, "what now?")
    assert result.code == 0, result.stderr
    assert result.stdout == "Restart the exporter, then watch the WAL.\n"
    metrics = result.stderr.strip().splitlines()[-1]
    assert metrics.startswith(f"{spec} · first token ")
    assert "tokens in 120 / out 11" in metrics
    assert re.search(r"· \$0\.\d{6} ·", metrics), metrics
    assert "req_" in metrics
    assert fake.requests[0].body["messages"][-1]["content"] == "what now?"


def test_ask_json_follows_the_output_contract(fake, run_cli):
    fake.script(Reply(text="ok", input_tokens=1000, output_tokens=1000))
    result = run_cli("ask", "-p", "openai:gpt-5.4-mini", "--format", "json", "hi")
    assert result.code == 0
    data = json.loads(result.stdout)
    assert {"task", "provider", "model", "status", "error", "result", "metrics", "checks"} <= data.keys()
    assert (data["task"], data["provider"], data["model"], data["status"]) == ("ask", "openai", "gpt-5.4-mini", "ok")
    assert data["error"] is None and data["result"]["text"] == "ok"
    metrics = data["metrics"]
    assert {
        "ttft_ms",
        "latency_ms",
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "retries",
        "hedged",
        "fallback_from",
    } <= metrics.keys()
    # gpt-5.4-mini: $0.75 in and $4.50 out per million tokens in the genai-prices table
    assert metrics["cost_usd"] == pytest.approx(1000 * 0.75e-6 + 1000 * 4.5e-6)


def test_cache_tokens_are_in_the_metrics_and_in_history(fake, run_cli):
    fake.script(Reply(text="ok", input_tokens=3000, output_tokens=5, cache_read_tokens=2048, cache_write_tokens=512))
    result = run_cli("ask", "-p", "anthropic:claude-haiku-4-5", "--format", "json", "hi")
    assert result.code == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert (metrics["input_tokens"], metrics["cache_read_tokens"], metrics["cache_write_tokens"]) == (3000, 2048, 512)
    [run] = json.loads(run_cli("history", "list", "--format", "json").stdout)["runs"]
    [call] = json.loads(run_cli("history", "show", run["id"], "--format", "json").stdout)["calls"]
    assert (call["input_tokens"], call["cache_read_tokens"], call["cache_write_tokens"]) == (3000, 2048, 512)


def test_ask_reads_the_prompt_from_stdin(fake, run_cli):
    result = run_cli("ask", "-p", "anthropic", "-", stdin="from a pipe\n")
    assert result.code == 0 and "from a pipe" in fake.requests[0].body["messages"][0]["content"]


def test_unreachable_endpoint_exits_3_with_one_line(run_cli, cli_env):
    env = {**cli_env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = run_cli("ask", "-p", "openai:gpt-5.4-mini", "--retries", "0", "hi", env=env)
    assert result.code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("driftcheck: error: openai:gpt-5.4-mini: cannot reach http://127.0.0.1:9/v1")


def test_unreachable_after_default_retries_still_names_the_endpoint(run_cli, cli_env):
    env = {**cli_env, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    result = run_cli("ask", "-p", "anthropic", "hi", env=env)
    assert result.code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("driftcheck: retry 1 in ") and lines[1].startswith("driftcheck: retry 2 in ")
    assert "cannot reach http://127.0.0.1:9 (connection refused) (after 2 retries)" in lines[-1]


def test_unknown_spec_exits_2_listing_the_kinds(run_cli):
    result = run_cli("ask", "-p", "gemini:pro", "hi")
    assert result.code == 2
    assert "unknown provider 'gemini:pro'" in result.stderr
    assert "valid providers are anthropic, openai" in result.stderr


def test_missing_key_exits_2_naming_the_variable(run_cli, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "OPENAI_API_KEY"}
    result = run_cli("ask", "-p", "openai:gpt-5.5", "hi", env=env)
    assert result.code == 2 and "OPENAI_API_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["ask", "-p", "anthropic", "   "], None, "the prompt is empty"),
        (["ask", "-p", "anthropic", "-"], "", "the prompt is empty"),
        (["ask", "-p", "anthropic", "-"], "abc\x00def", "binary"),
        (["ask", "-p", "anthropic", "--max-tokens", "0", "hi"], None, "must be greater than 0"),
        (["ask", "-p", "anthropic", "--max-tokens", "lots", "hi"], None, "is not a whole number"),
    ],
)
def test_bad_input_exits_2(run_cli, args, stdin, message):
    result = run_cli(*args, stdin=stdin)
    assert result.code == 2 and message in result.stderr


def test_empty_billed_reply_exits_3_with_the_fix(fake, run_cli):
    fake.script(empty_billed(reasoning_tokens=2000))
    result = run_cli("ask", "-p", "openai:gpt-5.5", "--max-tokens", "2000", "hi")
    assert result.code == 3
    assert "reasoning_exhausted" in result.stderr
    assert "Raise max_completion_tokens (now 2000)" in result.stderr
    assert "$0." in result.stderr.splitlines()[-1], "the billed cost is still shown"


def test_retry_is_announced_and_text_is_printed_once(fake, run_cli):
    fake.script(overloaded(retry_after_ms=10), Reply(text="only once"))
    result = run_cli("ask", "-p", "anthropic", "hi")
    assert result.code == 0 and result.stdout == "only once\n"
    assert "retry 1 in 0.0 s" in result.stderr and "overloaded" in result.stderr
    assert "1 retry" in result.stderr.splitlines()[-1]


def test_interrupted_stream_keeps_partial_text_and_exits_3(fake, run_cli):
    fake.script(Reply(text="first part, second part", chunk_size=5, drop_after=2))
    result = run_cli("ask", "-p", "openai", "hi")
    assert result.code == 3
    assert result.stdout.startswith("first par")
    assert "partial answer was kept" in result.stderr and len(fake.requests) == 1


def test_llm_provider_and_config_default_pick_the_provider(fake, run_cli, cli_env, tmp_path):
    run_cli("ask", "hi", env={**cli_env, "LLM_PROVIDER": "openai:gpt-5.4-nano"})
    assert fake.requests[-1].api == "openai" and fake.requests[-1].model == "gpt-5.4-nano"

    config = tmp_path / "config" / "config.toml"
    write_private(config, 'default = "anthropic:claude-sonnet-4-6"\n')
    run_cli("ask", "hi")
    assert fake.requests[-1].api == "anthropic" and fake.requests[-1].model == "claude-sonnet-4-6"


def test_configured_endpoint_is_used_as_name_model(fake, run_cli, tmp_path):
    config = tmp_path / "config" / "config.toml"
    write_private(config, f'[endpoints.lab]\nbase_url = "{fake.openai_base_url}"\n')
    result = run_cli("ask", "-p", "lab:qwen2.5-coder:7b", "hi")
    assert result.code == 0
    assert fake.requests[-1].model == "qwen2.5-coder:7b"
    assert "cost unknown" in result.stderr


def test_no_provider_at_all_explains_the_options(run_cli, cli_env, tmp_path):
    # The bundled model is installed here, so turn its fallback off to see the message.
    write_private(tmp_path / "config" / "config.toml", "[local]\nuse_when_unconfigured = false\n")
    env = {k: v for k, v in cli_env.items() if not k.endswith("_API_KEY")}
    result = run_cli("ask", "hi", env=env)
    assert result.code == 2
    assert "no provider is configured" in result.stderr and "LLM_PROVIDER" in result.stderr
    assert "driftcheck[local]" in result.stderr


def test_broken_config_exits_2_naming_the_line(run_cli, tmp_path):
    write_private(tmp_path / "config" / "config.toml", 'default = "x"\ndefault = "y"\n')
    result = run_cli("providers", "--no-check")
    assert result.code == 2 and "line 2" in result.stderr


def test_providers_json_reports_keys_as_present_and_reachability(fake, run_cli, cli_env, tmp_path):
    write_private(tmp_path / "config" / "config.toml", '[endpoints.ollama]\nbase_url = "http://127.0.0.1:9/v1"\n')
    env = {k: v for k, v in cli_env.items() if k != "OPENAI_API_KEY"}
    result = run_cli("providers", "--format", "json", env=env)
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)["providers"]}
    assert rows["anthropic"]["key_present"] and rows["anthropic"]["reachable"] and rows["anthropic"]["usable"]
    assert not rows["openai"]["key_present"] and rows["openai"]["usable"] is False
    assert rows["ollama"]["kind"] == "openai-compatible" and rows["ollama"]["key_env"] is None
    assert rows["ollama"]["reachable"] is False and "refused" in rows["ollama"]["reach_detail"]
    haiku = next(m for m in rows["anthropic"]["models"] if m["model"] == "claude-haiku-4-5")
    assert haiku["input_per_mtok"] == pytest.approx(1.0) and haiku["output_per_mtok"] == pytest.approx(5.0)


def test_providers_text_lists_models_and_prices(run_cli):
    result = run_cli("providers", "--no-check")
    assert result.code == 0
    assert "anthropic:claude-haiku-4-5" in result.stdout and "openai:gpt-5.5" in result.stdout
    assert "ANTHROPIC_API_KEY set" in result.stdout
