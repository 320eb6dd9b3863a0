"""Shared fixtures: one fake provider server per session, canary keys, a CLI runner.

No test reaches the internet or needs a real key: the real SDKs talk to the fake
server over a real socket on 127.0.0.1, and keys are canaries that tests search for.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from providers import RetryPolicy, Timeouts, build_provider
from providers.base import BaseProvider
from providers.spec import Endpoint
from tests.fakeserver import FakeServer

ROOT = Path(__file__).resolve().parent.parent

# As driftcheck's local provider sets it before llama.cpp loads (see providers/local.py), for
# the tests that load llama.cpp themselves and the llama.cpp server they start: with two
# workers on two cores, OpenMP threads spinning for work starve the other worker.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
CANARY_ANTHROPIC = "sk-ant-CANARY-7f3a9c1e-do-not-leak"
CANARY_OPENAI = "sk-CANARY-5b2d8e4f-do-not-leak"

# Fast but real: backoff is scaled down so retry tests take milliseconds.
FAST_RETRY = RetryPolicy(retries=2, backoff_s=0.01, max_backoff_s=0.05)
FAST_TIMEOUTS = Timeouts(connect_s=2, first_token_s=5, stall_s=2)


# Fixtures that use a fixed /tmp path (it is shown on screen, so it cannot vary per test):
# the tests using one run on one xdist worker, one after another (--dist loadgroup).
FIXED_PATH_FIXTURES = ("fixed_screens", "snapshot_env", "fixed_environment")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name in FIXED_PATH_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
    # The real model's tests first: each takes up to a minute, and one left for the end
    # keeps one worker busy while the other has nothing left to do.
    items.sort(key=lambda item: item.get_closest_marker("slow_model") is None)


@pytest.fixture(autouse=True)
def fixed_paths_held(request: pytest.FixtureRequest) -> Iterator[None]:
    """The same fixed paths are shared by another test run on this machine (a second
    checkout's suite): it waits for this test to finish with them instead of deleting them
    under it. Set up before the fixture that makes the paths, and torn down after it."""
    import fcntl

    names = [name for name in FIXED_PATH_FIXTURES if name in request.fixturenames]
    if not names:
        yield
        return
    with open(f"/tmp/driftcheck-tests-{names[0]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


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
    made: list[BaseProvider] = []

    def make(
        spec: str,
        *,
        retry: RetryPolicy = FAST_RETRY,
        timeouts: Timeouts = FAST_TIMEOUTS,
        endpoints: dict[str, Endpoint] | None = None,
    ) -> BaseProvider:
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
    keep = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH"}
    }
    config_dir = tmp_path / "config"
    config_dir.mkdir(mode=0o700)
    data_dir = tmp_path / "data"  # history goes here, never into the real user data directory
    return {
        **keep,
        **provider_env,
        "DRIFTCHECK_CONFIG_DIR": str(config_dir),
        "DRIFTCHECK_DATA_DIR": str(data_dir),
        "COLUMNS": "120",
        "PYTHONIOENCODING": "utf-8",
    }


def run_in_process(
    args: tuple[str, ...] | list[str],
    *,
    env: dict[str, str],
    stdin: str | bytes | None = None,
    cwd: Path = ROOT,
    timeout: float = 60,
) -> CliResult:
    """`driftcheck ARGS` through its entry point, `app.cli.main`, in this process, seeing what
    a fresh process would: exactly `env` as its environment, `cwd`, a piped stdin (empty, as
    /dev/null, when none is given), UTF-8 stdout and stderr that are not terminals, and none
    of the state an earlier command left behind. Whatever main() lets escape is what a user
    would see as a traceback: the test fails on it."""
    _import_sdks_outside_commands()
    out, err = _pipe("strict"), _pipe("backslashreplace")  # as PYTHONIOENCODING=utf-8 sets them
    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        patch.chdir(cwd)
        _fresh_process_state(patch)
        patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        # What Python itself prints on a process's stderr reaches this one too: an exception
        # ignored in __del__ ("Event loop is closed" from a client left open), and a log
        # record of WARNING and above with no handler (Python's last resort, which pytest's
        # handlers on the root logger would otherwise stand in for).
        patch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
        logging.getLogger().addHandler(logging.lastResort)
        try:
            code = _call_main(list(args), timeout)
            assert sys.stdout is out and sys.stderr is err, "main() left its stream wrappers in place"
        finally:
            logging.getLogger().removeHandler(logging.lastResort)
    return _checked(CliResult(code, _text(out), _text(err)))


def _checked(result: CliResult) -> CliResult:
    for canary in (CANARY_ANTHROPIC, CANARY_OPENAI):  # no key ever reaches the screen
        assert canary not in result.stdout and canary not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _pipe(errors: str) -> io.TextIOWrapper:
    """A stream like a pipe to a process: UTF-8 text over bytes, not a terminal."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def _import_sdks_outside_commands() -> None:
    """The SDKs read ANTHROPIC_LOG / OPENAI_LOG once, when first imported: imported here, in
    the test process's own environment, no command's environment decides the session's SDK
    logging. (Whether driftcheck silences that logging is checked with real processes.)"""
    import anthropic  # noqa: F401
    import openai  # noqa: F401


def _fresh_process_state(patch: pytest.MonkeyPatch) -> None:
    """What a new process starts without, for the length of one command: the providers'
    health (cooldowns, time-to-first-token samples, which a process seeds from history) and
    the keys registered for scrubbing. (The once-per-command local-model note is kept by
    the command's own ProviderResolver, so there is nothing to reset for it.)"""
    import providers.health
    import providers.scrub

    patch.setattr(providers.health, "REGISTRY", providers.health.HealthRegistry())
    patch.setattr(providers.scrub, "_keys", frozenset())


def _call_main(argv: list[str], timeout: float) -> int:
    """main(argv) on a thread of its own: it runs its own event loop (asyncio.run), so a test
    that already runs one (the TUI tests) can call it too, and a hang fails the test."""
    import gc
    import threading

    import app.cli

    outcome: list[BaseException | int] = []

    def run() -> None:
        gc.freeze()  # the collection after main() then looks only at what main() made
        try:
            outcome.append(app.cli.main(argv))
        except SystemExit as exc:  # argparse: exit 2 with the usage, or 0 after --version
            outcome.append(_exit_status(exc.code))
        except BaseException as exc:
            outcome.append(exc)
        finally:
            gc.collect()  # clients main() left open are finalised now, while stderr is this command's
            gc.unfreeze()

    thread = threading.Thread(target=run, name="driftcheck-main", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"driftcheck {' '.join(argv)} did not finish in {timeout:g} s")
    [result] = outcome
    if isinstance(result, BaseException):
        raise AssertionError(
            f"driftcheck {' '.join(argv)} let an exception escape main(): a user would see a traceback"
        ) from result
    return result


def _exit_status(code: object) -> int:
    """The status a process ends with after `SystemExit(code)`."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)  # sys.exit("message"): printed, status 1
    return 1


@pytest.fixture
def run_cli(cli_env: dict[str, str]):
    """Run `driftcheck` in this process (run_in_process): a test sees its exit code and output."""

    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str | bytes | None = None, timeout: float = 60
    ) -> CliResult:
        return run_in_process(args, env=env or cli_env, stdin=stdin, timeout=timeout)

    return run


@pytest.fixture
def run_cli_process(cli_env: dict[str, str]):
    """Run `driftcheck` as a separate process, for the few tests where a real process is the
    point; each says why it needs one. Slower: every process imports the SDKs again."""

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=env or cli_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return _checked(CliResult(proc.returncode, proc.stdout, proc.stderr))

    return run


# --- the TUI, driven in this process by Pilot ---------------------------------------------


@pytest.fixture
def tui_env(monkeypatch, cli_env):
    """The app runs in this process: the same environment the CLI tests get."""
    for key in list(os.environ):
        if key.endswith(("_API_KEY", "_BASE_URL")) or key.startswith("DRIFTCHECK_") or key == "LLM_PROVIDER":
            monkeypatch.delenv(key, raising=False)
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    return cli_env


async def until(pilot, condition, timeout=20.0):
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never got there")


async def provenance_shown(pilot) -> None:
    """Until the History screen's provenance panel shows the highlighted run. It follows the
    cursor through a message, which a loaded machine can deliver after a snapshot is taken."""
    screen = pilot.app.screen
    table = screen.query_one("#runs")

    def highlighted() -> str | None:
        return screen.runs[table.cursor_row]["id"] if screen.runs else None

    await until(pilot, lambda: screen.provenance_of == highlighted())
