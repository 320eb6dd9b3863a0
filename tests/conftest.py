"""Shared fixtures: one fake provider server per session, canary keys, a CLI runner.

No test reaches the internet or needs a real key: the real SDKs talk to the fake
server over a real socket on 127.0.0.1, and keys are canaries that tests search for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from providers import RetryPolicy, Timeouts, build_provider
from providers.base import Provider
from providers.spec import Endpoint
from tests.fakeserver import FakeServer

ROOT = Path(__file__).resolve().parent.parent
CANARY_ANTHROPIC = "sk-ant-CANARY-7f3a9c1e-do-not-leak"
CANARY_OPENAI = "sk-CANARY-5b2d8e4f-do-not-leak"

# Fast but real: backoff is scaled down so retry tests take milliseconds.
FAST_RETRY = RetryPolicy(retries=2, backoff_s=0.01, max_backoff_s=0.05)
FAST_TIMEOUTS = Timeouts(connect_s=2, first_token_s=5, stall_s=2)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    fake_server.reset()
    return fake_server


@pytest.fixture
def provider_env(fake: FakeServer) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": CANARY_ANTHROPIC,
        "OPENAI_API_KEY": CANARY_OPENAI,
        "ANTHROPIC_BASE_URL": fake.anthropic_base_url,
        "OPENAI_BASE_URL": fake.openai_base_url,
    }


@pytest_asyncio.fixture
async def make_provider(fake: FakeServer, provider_env: dict[str, str]):
    """Build a real provider pointed at the fake server; closed after the test."""
    made: list[Provider] = []

    def make(spec: str, *, retry: RetryPolicy = FAST_RETRY, timeouts: Timeouts = FAST_TIMEOUTS,
             endpoints: dict[str, Endpoint] | None = None) -> Provider:
        provider = build_provider(spec, env=provider_env, retry=retry, timeouts=timeouts, endpoints=endpoints)
        made.append(provider)
        return provider

    yield make
    for provider in made:  # same event loop as the test, so the SDK clients close cleanly
        await provider.aclose()


def write_private(path: Path, text: str) -> Path:
    """Write a config the way driftcheck requires it: it and its directory are its owner's only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(text)
    path.chmod(0o600)
    return path


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(provider_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A clean environment for the CLI: canary keys, the fake server, a private config dir."""
    keep = {k: v for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH"}}
    config_dir = tmp_path / "config"
    config_dir.mkdir(mode=0o700)
    data_dir = tmp_path / "data"  # history goes here, never into the real user data directory
    return {**keep, **provider_env, "DRIFTCHECK_CONFIG_DIR": str(config_dir), "DRIFTCHECK_DATA_DIR": str(data_dir),
            "COLUMNS": "120",
            "PYTHONIOENCODING": "utf-8"}


@pytest.fixture
def run_cli(cli_env: dict[str, str]):
    """Run `driftcheck` as a user would: a separate process, real stdin/stdout/stderr."""

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 60) -> CliResult:
        proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env or cli_env,
                              input=stdin, capture_output=True, text=True, timeout=timeout)
        for canary in (CANARY_ANTHROPIC, CANARY_OPENAI):  # no key ever reaches the screen
            assert canary not in proc.stdout and canary not in proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run
