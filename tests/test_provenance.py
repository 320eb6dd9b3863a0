"""Provenance on every call, and what it says about why two runs differ.

Each provider is called for real against the fake server (real SDK, real socket); the
fake server is scripted to report a served model, a fingerprint and a tier, and the
response, the public JSON and history must carry them. Attribution is checked through
`history diff` and `compare --baseline` on runs that differ in exactly one thing.
"""

from __future__ import annotations

import json
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest

from app.calls.provenance import FIELDS, sha256_json
from app.compare.attribution import attribute
from app.resources import bundled_dir
from providers import Request
from providers.spec import Endpoint
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply

SAMPLE = "sample_code/inventory_service.py"
HAIKU = "anthropic:claude-haiku-4-5"
MINI = "openai:gpt-5.4-mini"


# --- the provider layer reports what the wire says -------------------------------------------


async def test_an_anthropic_call_reports_the_served_model_tier_request_id_and_sdk(fake, make_provider):
    fake.script(Reply(text="ok", served_model="claude-haiku-4-5-20251001", service_tier="priority"))
    response = await make_provider(HAIKU).complete(Request.ask("hi", max_tokens=64))
    p = response.provenance
    assert (p.served_model, p.service_tier, p.system_fingerprint) == ("claude-haiku-4-5-20251001", "priority", None)
    assert (p.sdk, p.sdk_version) == ("anthropic", version("anthropic"))
    assert p.params == {"max_tokens": 64}
    assert response.request_id and response.request_id.startswith("req_")  # the request-id header
    assert response.model == "claude-haiku-4-5"  # what was asked for stays what was asked for


async def test_what_the_api_says_about_itself_is_scrubbed_and_kept_to_one_line(fake, make_provider):
    from tests.conftest import CANARY_ANTHROPIC

    fake.script(Reply(text="ok", served_model=CANARY_ANTHROPIC, service_tier="priority\x1b[2J\nnow"))
    p = (await make_provider(HAIKU).complete(Request.ask("hi"))).provenance
    assert CANARY_ANTHROPIC not in str(p) and "[REDACTED" in str(p.served_model)
    assert p.service_tier == "priority\x1b[2J now"  # one line; the terminal layer neutralises the rest


async def test_an_openai_call_reports_its_system_fingerprint(fake, make_provider):
    fake.script(Reply(text="ok", served_model="gpt-5.4-mini-2026-03-01", system_fingerprint="fp_3b9e1c"))
    response = await make_provider(MINI).complete(Request.ask("hi", max_tokens=32))
    p = response.provenance
    assert (p.served_model, p.system_fingerprint, p.service_tier) == ("gpt-5.4-mini-2026-03-01", "fp_3b9e1c", "default")
    assert (p.sdk, p.sdk_version) == ("openai", version("openai"))
    assert p.params == {"max_completion_tokens": 32}  # OpenAI's own API: never max_tokens
    assert response.request_id and response.request_id.startswith("req_")  # x-request-id


async def test_an_openai_compatible_call_reports_its_params_and_a_missing_fingerprint(fake, make_provider):
    fake.script(Reply(text="ok", system_fingerprint=None, served_model="qwen2.5-coder:7b-q4"))
    endpoint = Endpoint(name="lab", base_url=fake.openai_base_url, params={"temperature": 0.1, "seed": 7})
    response = await make_provider("lab:qwen2.5-coder:7b", endpoints={"lab": endpoint}).complete(
        Request.ask("hi", max_tokens=16)
    )
    p = response.provenance
    assert (p.served_model, p.system_fingerprint, p.sdk) == ("qwen2.5-coder:7b-q4", None, "openai")
    assert p.params == {"max_tokens": 16, "temperature": 0.1, "seed": 7}  # what the server was sent besides the prompt


async def test_labels_pass_through_a_call_untouched_and_are_never_sent(fake, make_provider):
    fake.script(Reply(text="ok"))
    request = Request.ask("hi", labels=(("input_sha256", "abc"),))
    response = await make_provider(MINI).complete(request)
    assert response.labels == (("input_sha256", "abc"),)
    assert "abc" not in json.dumps(fake.requests[-1].body)


@pytest.mark.slow_model
async def test_a_local_call_reports_its_model_file_runtime_and_sampling():
    from providers import build_provider
    from providers.local import bundled_model_path

    if bundled_model_path() is None:
        pytest.skip("driftcheck[local] is not installed")
    local = build_provider("local:smollm2")
    try:
        response = await local.complete(Request.ask("Say yes.", max_tokens=4))
    finally:
        await local.aclose()
    p = response.provenance
    assert p.served_model and p.served_model.endswith(".gguf")
    assert (p.sdk, p.sdk_version) == ("llama-cpp-python", version("llama-cpp-python"))
    assert p.params == {"max_tokens": 4, "temperature": 0.2, "repeat_penalty": 1.1}
    assert response.request_id and response.request_id.startswith("local-")


# --- the public JSON and history carry it ------------------------------------------------------


def _run_id(stderr: str) -> str:
    return stderr.split("recorded as ", 1)[1].split()[0]


def _review(run_cli, path: str = SAMPLE, spec: str = HAIKU) -> tuple[dict, str]:
    result = run_cli("review", path, "-p", spec, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout), _run_id(result.stderr)


def test_a_review_json_and_its_history_carry_the_provenance(fake, run_cli):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), served_model="claude-haiku-4-5-20251001"))
    data, run_id = _review(run_cli)
    p = data["provenance"]
    assert list(p) == list(FIELDS)
    assert p["served_model"] == "claude-haiku-4-5-20251001" and p["service_tier"] == "standard"
    assert p["sdk"] == "anthropic" and p["request_id"].startswith("req_")
    assert all(len(p[k]) == 64 for k in ("prompt_sha256", "schema_sha256", "params_sha256", "input_sha256"))
    assert p["params_sha256"] == sha256_json({"max_tokens": fake.requests[-1].body["max_tokens"]})

    shown = json.loads(run_cli("history", "show", run_id, "--format", "json").stdout)
    assert shown["calls"][0]["provenance"] == p
    text = run_cli("history", "show", run_id).stdout
    assert "served by claude-haiku-4-5-20251001" in text and "tier standard" in text
    assert f"prompt {p['prompt_sha256'][:8]}" in text


def test_ask_json_after_a_fallback_names_who_answered(fake, run_cli):
    from tests.fakeserver import overloaded

    fake.script(overloaded(), model="claude-haiku-4-5")
    fake.script(Reply(text="fine"), model="gpt-5.4-mini")
    result = run_cli("ask", "-p", HAIKU, "--retries", "0", "--fallback", MINI, "--format", "json", "hi")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["provider"], data["model"]) == ("openai", "gpt-5.4-mini")
    assert data["metrics"]["fallback_from"] == HAIKU
    assert data["provenance"]["sdk"] == "openai" and data["provenance"]["system_fingerprint"] == "fp_fake"


# --- attribution ---------------------------------------------------------------------------------


def _diff(run_cli, a: str, b: str) -> dict:
    result = run_cli("history", "diff", a, b, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_changed_is_provider_behaviour_or_noise(fake, run_cli):
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py", score=3)),
        Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except",), score=5)),
    )
    _, first = _review(run_cli)
    _, second = _review(run_cli)
    why = _diff(run_cli, first, second)["attribution"]
    assert why["verdict"] == "same_everything" and why["changed"] == [] and why["unknown"] == []
    assert "provider's own behaviour or sampling noise" in why["text"]
    text = run_cli("history", "diff", first, second).stdout
    assert "why: same input, prompt, settings and served model" in text


def test_a_changed_input_is_named(fake, run_cli, tmp_path):
    changed = tmp_path / "inventory_service.py"
    changed.write_text(Path(SAMPLE).read_text() + "\n# one more line\n")
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py")), Reply(text=keyed_review_text("inventory_service.py"))
    )
    _, first = _review(run_cli)
    _, second = _review(run_cli, str(changed))
    why = _diff(run_cli, first, second)["attribution"]
    assert why["verdict"] == "input_changed" and why["changed"] == ["input_sha256"]
    assert why["text"].startswith("the input changed")


def test_a_changed_prompt_template_is_named(fake, run_cli, tmp_path, monkeypatch):
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py")), Reply(text=keyed_review_text("inventory_service.py"))
    )
    _, first = _review(run_cli)
    edited = tmp_path / "prompts"
    shutil.copytree(bundled_dir("prompts"), edited)
    system = edited / "review_system.md"
    system.write_text(system.read_text() + "\nPrefer fewer, surer findings.\n")
    original = bundled_dir
    monkeypatch.setattr("app.resources.bundled_dir", lambda name: edited if name == "prompts" else original(name))
    _, second = _review(run_cli)
    assert "Prefer fewer, surer findings." in fake.requests[-1].body["system"]  # the edit was really sent
    why = _diff(run_cli, first, second)["attribution"]
    assert why["verdict"] == "prompt_or_settings_changed" and why["changed"] == ["prompt_sha256"]
    assert why["text"].startswith("the prompt template changed")


def test_a_changed_served_model_is_named_and_a_baseline_compare_says_so(fake, run_cli):
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py"), served_model="claude-haiku-4-5-20251001"),
        Reply(text=keyed_review_text("inventory_service.py", score=6), served_model="claude-haiku-4-5-20260115"),
        Reply(text=keyed_review_text("inventory_service.py", score=6), served_model="claude-haiku-4-5-20260115"),
    )
    _, first = _review(run_cli)
    _, second = _review(run_cli)
    why = _diff(run_cli, first, second)["attribution"]
    assert why["verdict"] == "served_model_changed" and why["changed"] == ["served_model"]
    assert "claude-haiku-4-5-20251001 → claude-haiku-4-5-20260115" in why["text"]
    assert "the model accounts for the difference" in why["text"]

    result = run_cli("compare", SAMPLE, "--baseline", first, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["attribution"]["verdict"] == "served_model_changed"


def test_attribution_names_what_it_cannot_compare_and_every_cause():
    full = {k: "x" for k in FIELDS}
    old_run = attribute(None, full)
    assert old_run["verdict"] == "unknown" and "input_sha256" in old_run["unknown"]
    assert old_run["text"].startswith("cannot tell why")
    both = attribute(full, {**full, "input_sha256": "y", "params_sha256": "z", "sdk_version": "2"})
    assert both["verdict"] == "input_changed"
    assert both["causes"] == ["input_changed", "prompt_or_settings_changed"]
    assert "cannot be put on one of them alone" in both["text"] and both["also_changed"] == ["sdk_version"]


# --- the history screen shows it -----------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_history_screen_shows_the_highlighted_runs_provenance(fake, tui_env, run_cli, size):
    from app.tui.app import DriftcheckApp
    from app.tui.history_screen import HistoryScreen

    fake.script(
        Reply(text="first", served_model="claude-haiku-4-5-20251001"),
        Reply(text="second", system_fingerprint="fp_\x1b[31mred"),  # what the API says is shown inertly
    )
    assert run_cli("ask", "-p", HAIKU, "hello").code == 0
    assert run_cli("ask", "-p", MINI, "hello").code == 0
    app = DriftcheckApp(lambda a: HistoryScreen(), record=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        panel = app.screen.query_one("#history-provenance")
        newest = str(panel.render())
        assert "call 1 · candidate · openai:gpt-5.4-mini" in newest and "fingerprint fp_" in newest
        assert "\x1b" not in newest
        await pilot.press("down")
        await pilot.pause()
        older = str(panel.render())
        assert "served by claude-haiku-4-5-20251001" in older and "tier standard" in older
        assert f"anthropic {version('anthropic')}" in older


def test_a_history_from_before_provenance_is_migrated_and_read_as_unknown(fake, run_cli, cli_env):
    import sqlite3

    fake.script(
        Reply(text=keyed_review_text("inventory_service.py")), Reply(text=keyed_review_text("inventory_service.py"))
    )
    _, first = _review(run_cli)
    _, second = _review(run_cli)
    # Make it the database an older driftcheck left: schema 3, no provenance anywhere.
    db = Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("ALTER TABLE calls DROP COLUMN provenance_json")
        for run_id, result in conn.execute("SELECT id, result_json FROM runs").fetchall():
            record = json.loads(result)
            del record["provenance"]
            conn.execute("UPDATE runs SET result_json = ? WHERE id = ?", (json.dumps(record), run_id))
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    shown = json.loads(run_cli("history", "show", first, "--format", "json").stdout)  # migrated on opening
    assert shown["calls"][0]["provenance"] is None
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 4
    why = _diff(run_cli, first, second)["attribution"]
    assert why["verdict"] == "unknown" and why["text"].startswith("cannot tell why the runs differ")
