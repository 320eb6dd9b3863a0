"""A real peer: llama-cpp-python's own OpenAI-compatible server, which this project did
not write, serving the bundled model on 127.0.0.1. driftcheck's `openai` provider talks
to it as a configured endpoint, through the real openai SDK, as it would to Ollama or
vLLM. This proves the OpenAI-compatible path against someone else's reading of the API.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import Completed, Request, TextDelta, build_provider
from providers.local import bundled_model_path
from providers.spec import Endpoint
from tests.conftest import write_private

ROOT = Path(__file__).resolve().parent.parent
MODEL = bundled_model_path()
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="driftcheck[local] is not installed"),
    pytest.mark.slow_model,
    pytest.mark.xdist_group("llama-server"),  # one server (a module fixture) on one worker
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.llama_server",
            "--model",
            str(MODEL),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as reply:
                assert json.load(reply)["data"][0]["id"] == "smollm2"
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llama.cpp server did not start: see {log.name}")
            time.sleep(0.5)
    yield base_url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _endpoint(base_url: str) -> Endpoint:
    # What a user writes under [endpoints.llamacpp]: this server sends no usage chunk and
    # takes structured output as json_object + schema.
    return Endpoint(
        name="llamacpp",
        base_url=base_url,
        structured_output="json_object",
        streaming_usage=False,
        models=("smollm2",),
        params={"temperature": 0.2},
    )


async def test_the_openai_provider_streams_from_a_real_llama_cpp_server(llama_server):
    provider = build_provider("llamacpp:smollm2", endpoints={"llamacpp": _endpoint(llama_server)})
    deltas, response = [], None
    try:
        async for event in provider.stream(Request.ask("Name one Linux command.", max_tokens=20)):
            if type(event) is TextDelta:
                deltas.append(event.text)
            elif isinstance(event, Completed):
                response = event.response
    finally:
        await provider.aclose()
    assert len(deltas) > 2 and response is not None and response.text == "".join(deltas)
    assert response.finish_reason in ("stop", "length") and response.request_id
    assert response.ttft_s is not None and response.ttft_s < response.total_s
    # The server sends no usage: driftcheck says so rather than inventing zeros.
    assert response.usage.output_tokens is None and response.cost_usd is None
    assert "usage_missing" in [c.name for c in response.checks]


def test_a_schema_constrained_review_from_the_server(llama_server, run_cli, cli_env, tmp_path):
    (tmp_path / "config").mkdir(exist_ok=True)
    write_private(
        tmp_path / "config" / "config.toml",
        f'[endpoints.llamacpp]\nbase_url = "{llama_server}"\nstructured_output = "json_object"\n'
        'streaming_usage = false\nmodels = ["smollm2"]\n\n[endpoints.llamacpp.params]\ntemperature = 0.2\n',
    )
    source = tmp_path / "archive.py"
    source.write_text(
        "import subprocess\n\n\ndef archive(name):\n"
        '    return subprocess.call("tar czf /tmp/out.tgz " + name, shell=True)\n'
    )
    env = {**cli_env, "DRIFTCHECK_CONFIG_DIR": str(tmp_path / "config")}
    result = run_cli("review", str(source), "-p", "llamacpp:smollm2", "--format", "json", env=env, timeout=600)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["provider"], data["model"], data["status"]) == ("llamacpp", "smollm2", "ok")
    assert 1 <= data["result"]["score"] <= 10  # the range is a grammar rule
    for finding in data["result"]["findings"]:
        assert finding["severity"] in {"critical", "high", "medium", "low", "info"}
        assert finding["lines_valid"] == (finding["line_start"] <= 5)
    names = [c["name"] for c in data["checks"]]
    assert "usage_missing" in names and "schema_invalid" not in names
    assert data["metrics"]["cost_usd"] is None  # unknown, never a silent zero
