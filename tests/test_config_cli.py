"""`driftcheck config`: the settings screen's headless twin writes the TOML that
driftcheck reads, private to its owner, and refuses what it could not read back."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import CANARY_ANTHROPIC


def _config(cli_env) -> Path:
    return Path(cli_env["DRIFTCHECK_CONFIG_DIR"]) / "config.toml"


def test_set_writes_dotted_settings_as_toml(run_cli, cli_env):
    for key, value in (
        ("default", "anthropic:claude-haiku-4-5"),
        ("compare", "anthropic:claude-sonnet-4-6, openai:gpt-5.4-mini"),
        ("judges", '["openai:gpt-5.5"]'),
        ("routes.triage.active", "openai:gpt-5.4-mini"),
        ("resilience.retries", "3"),
        ("resilience.hedge_after", "2.5s"),
        ("endpoints.ollama.base_url", "http://localhost:11434/v1"),
        ("prices.qwen2.5-coder:7b", "{input_per_mtok = 0.1, output_per_mtok = 0.3}"),
        ("prices.qwen2.5-coder:7b.output_per_mtok", "0.4"),
    ):
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
    for key, value, words in (
        ("resilience.retries", "99", "from 0 to 10"),
        ("colour", "blue", "unknown setting"),
        ("endpoints.x.token_param", "tokens", "token_param"),
        ("endpoints.x.api_key", CANARY_ANTHROPIC, "looks like a secret"),
    ):
        result = run_cli("config", "set", key, value)
        assert result.code == 2 and words in result.stderr, result.stderr
        assert CANARY_ANTHROPIC not in result.stderr
    assert _config(cli_env).read_text() == before


def test_concurrent_sets_all_survive(cli_env):
    """Ten real processes setting ten keys at once: each read-modify-write holds the lock,
    so none of them writes over another's change. (Real processes: the file lock is between
    processes, which is the point.)"""
    import subprocess
    import sys

    from tests.conftest import ROOT

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "config", "set", f"endpoints.e{n}.base_url", f"http://127.0.0.1:9/e{n}"],
            cwd=ROOT,
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(10)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    path = _config(cli_env)
    endpoints = tomllib.loads(path.read_text())["endpoints"]
    assert endpoints == {f"e{n}": {"base_url": f"http://127.0.0.1:9/e{n}"} for n in range(10)}
    assert oct(path.stat().st_mode & 0o777) == "0o600"


HAND_EDITED = """# my driftcheck settings
default = "anthropic:claude-haiku-4-5"   # the cheap one

[resilience]
# the lab network is slow
connect_timeout_s = 20
retries = 1
"""


def test_set_and_unset_keep_a_hand_edited_files_comments_and_layout(run_cli, cli_env):
    path = _config(cli_env)
    path.write_text(HAND_EDITED)
    path.chmod(0o600)
    assert run_cli("config", "set", "resilience.retries", "3").code == 0
    assert path.read_text() == HAND_EDITED.replace("retries = 1", "retries = 3")
    assert run_cli("config", "set", "routes.review", "openai:gpt-5.4-mini").code == 0
    assert run_cli("config", "unset", "routes.review").code == 0
    # (tomlkit leaves the blank line it put before [routes])
    assert path.read_text().rstrip("\n") + "\n" == HAND_EDITED.replace("retries = 1", "retries = 3")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_symlinked_config_is_written_through_the_link(run_cli, cli_env, tmp_path):
    target = tmp_path / "dotfiles" / "driftcheck.toml"
    target.parent.mkdir(mode=0o700)
    target.write_text('default = "anthropic"\n')
    target.chmod(0o600)
    link = _config(cli_env)
    link.symlink_to(target)
    result = run_cli("config", "set", "resilience.retries", "3")
    assert result.code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target
    assert tomllib.loads(target.read_text()) == {"default": "anthropic", "resilience": {"retries": 3}}
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_config_directory_that_is_a_file_is_one_line_and_exit_2(run_cli, cli_env, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("a file\n")
    env = {**cli_env, "DRIFTCHECK_CONFIG_DIR": str(plain)}
    for args in (
        ("config", "set", "default", "anthropic"),
        ("config", "unset", "default"),
        ("config",),
        ("providers", "--no-check"),
    ):
        result = run_cli(*args, env=env)
        assert result.code == 2, (args, result.stderr)
        assert result.stderr == (
            f"driftcheck: error: the config directory {plain} is not a directory (it, or a "
            "folder above it, is a file): move that file away, or set DRIFTCHECK_CONFIG_DIR "
            "to a directory\n"
        )
    assert plain.read_text() == "a file\n"


def test_a_config_directory_others_can_write_is_refused_on_write(run_cli, cli_env):
    directory = _config(cli_env).parent
    directory.chmod(0o777)
    result = run_cli("config", "set", "default", "anthropic")
    assert result.code == 2 and f"chmod 700 {directory}" in result.stderr
    assert not _config(cli_env).exists()


SET_REFUSED = [
    (
        "resilience.first_token_timeout_s",
        "nan",
        "resilience.first_token_timeout_s must be a positive number of seconds (got nan)",
    ),
    ("resilience.connect_timeout_s", "inf", "(got inf)"),
    ("resilience.stall_timeout_s", "nan", "(got nan)"),
    ("resilience.hedge_budget", "nan", "(got nan)"),
    ("judges", "foo:bar, :x", "judges: item 1 is not a usable SPEC: unknown provider 'foo:bar'"),
    ("resilience.fallback", "99", "resilience.fallback: item 1 is not a usable SPEC: unknown provider '99'"),
    ("compare", "anthropic, openai, local", "compare must be a list of exactly two SPECs"),
    ("endpoints.lab.base_url", "not a url", "endpoints.lab.base_url must be an http:// or https:// URL"),
    ("endpoints.lab.base_url", "file:///etc/passwd", "must be an http:// or https:// URL"),
    ("endpoints.anthropic.base_url", "http://127.0.0.1:9", "would shadow the built-in provider"),
    ("resilience.retriez", "2", "did you mean resilience.retries?"),
]


@pytest.mark.parametrize(("key", "value", "words"), SET_REFUSED, ids=[f"{r[0]}={r[1]}" for r in SET_REFUSED])
def test_set_refuses_what_a_read_would_and_names_the_key(tmp_path, key, value, words):
    """The same model on write as on read; the refused value is not in the file, so the
    message has no line to point at, and the file is left as it was."""
    from app.config.writer import parse_value, update_config
    from app.errors import ConfigError
    from tests.conftest import write_private

    path = write_private(tmp_path / "config" / "config.toml", 'default = "anthropic"\n')
    with pytest.raises(ConfigError) as raised:
        update_config({key: parse_value(key, value)}, path)
    assert str(raised.value).startswith(f"the config {path}: {key.split('.', 1)[0]}") and words in str(raised.value)
    assert path.read_text() == 'default = "anthropic"\n'


def test_set_refuses_nan_and_empty_values_at_the_command_line(run_cli, cli_env):
    assert run_cli("config", "set", "default", "anthropic").code == 0
    before = _config(cli_env).read_text()
    for key, value, words in (
        (
            "resilience.first_token_timeout_s",
            "nan",
            "resilience.first_token_timeout_s must be a positive number of seconds (got nan)",
        ),
        ("default", "", "default cannot be set to nothing; to remove it, run: driftcheck config unset default"),
        ("judges", " , ", "to remove it, run: driftcheck config unset judges"),
    ):
        result = run_cli("config", "set", key, value)
        assert result.code == 2, (key, result.stderr)
        assert words in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert _config(cli_env).read_text() == before


def test_a_problem_already_in_the_file_is_named_with_its_line_on_set(run_cli, cli_env):
    path = _config(cli_env)
    path.write_text('default = "anthropic"\n[resilience]\nretriez = 2\n')
    path.chmod(0o600)
    result = run_cli("config", "set", "judges", "openai")
    assert result.code == 2 and f"the config {path}: line 3: resilience.retriez is an unknown setting" in result.stderr
    assert run_cli("config", "unset", "resilience.retriez").code == 0
    assert run_cli("config", "set", "judges", "openai").code == 0
