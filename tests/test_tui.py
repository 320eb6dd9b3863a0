"""The TUI driven with Pilot against the fake server: each screen starts its task,
streams, and shows what a person would check — the findings, the metrics, the drift
panel — and the actions work: jump to a finding, cancel a run, re-run with another
provider, open and compare runs from history, save settings and read the TOML back."""

from __future__ import annotations

import json
import tomllib

import pytest

from app.tui.app import DriftcheckApp
from app.tui.code_view import CodeView
from app.tui.compare_screen import CompareScreen
from app.tui.dialogs import DocumentScreen, HelpScreen
from app.tui.history_screen import HistoryScreen
from app.tui.provider_picker import ProviderPicker
from app.tui.review_screen import ReviewScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen
from app.tui.widgets import ResultPane
from tests.conftest import CANARY_ANTHROPIC, CANARY_OPENAI, until, write_private
from tests.fake_reviews import keyed_review_text
from tests.fake_triage import answer_text, verdict
from tests.fakeserver import Reply

SAMPLE = "sample_code/inventory_service.py"
ROOT_INCIDENTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "incidents"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
SIZE = (120, 40)


async def test_review_streams_findings_then_jumps_to_one(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_delay_s=0.002), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        pane = screen.query_one(ResultPane)
        await until(pilot, lambda: len(pane.findings.findings) >= 3 and screen.running)
        assert screen.result is None  # findings are on screen before the review has finished
        await until(pilot, lambda: screen.result is not None)
        assert len(pane.findings.findings) == 9
        metrics = str(pane.metrics.render())
        assert A in metrics and "first token" in metrics and "$0.00" in metrics and "retries 0" in metrics
        assert "Score 3/10" in str(pane.query_one(".summary").render())
        assert "secrets_redacted" in str(pane.query_one(".checks").render())
        assert pane.live.received > 1000
        pane.findings.focus()
        pane.findings.highlighted = 1  # F2, the SQL injection on line 35
        await pilot.press("enter")
        code = screen.query_one(CodeView)
        assert code.selection.end == (34, 0) and code.selection.start[0] == 34


async def test_escape_cancels_a_run_and_history_says_so(fake, tui_env, run_cli):
    text = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=text, chunk_size=8, chunk_delay_s=0.03), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        pane = screen.query_one(ResultPane)
        await until(pilot, lambda: len(pane.findings.findings) >= 1)
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        assert "cancelled" in str(pane.metrics.render())
        kept = len(pane.findings.findings)
        assert 1 <= kept < 9
    runs = json.loads(run_cli("history", "--format", "json").stdout)["runs"]
    assert runs[0]["status"] == "cancelled"
    calls = json.loads(run_cli("history", "show", runs[0]["id"], "--format", "json").stdout)["calls"]
    assert calls[0]["status"] == "cancelled" and calls[0]["text"] and text.startswith(calls[0]["text"][:40])


async def test_rerun_with_another_provider_from_the_screen(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=6)), model="gpt-5.4-mini")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("p")
        assert isinstance(app.screen, ProviderPicker)
        prompt = app.screen.query_one("#spec-0")
        prompt.value = B
        await pilot.press("enter")
        await until(pilot, lambda: screen.result is not None and screen.result["provider"] == "openai")
        assert screen.result["result"]["score"] == 6
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5", "gpt-5.4-mini"]


async def test_bad_input_is_a_notification_and_nothing_is_sent(fake, tui_env, tmp_path):
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 4)
    app = DriftcheckApp(lambda a: ReviewScreen(str(tmp_path / "blob.py"), A))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app._notifications))
        assert "looks binary" in next(iter(app._notifications)).message
    assert fake.requests == []


async def test_compare_streams_two_panes_then_the_drift_panel(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_delay_s=0.001), model="claude-haiku-4-5")
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py", drop=("sql-injection",), score=5), chunk_delay_s=0.001),
        model="gpt-5.4-mini",
    )
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, A, B))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.report is not None)
        assert len(screen.pane("a").findings.findings) == 9 and len(screen.pane("b").findings.findings) == 8
        assert "Score 5/10" in str(screen.pane("b").query_one(".summary").render())
        drift = str(screen.query_one("#drift-summary").render())
        assert "8 matched · 1 only in A · 0 only in B" in drift and "score 3 → 5" in drift
        pairs = screen.query_one("#pairs")
        pairs.focus()
        pairs.highlighted = 1  # A F3 ~ B F2 (A F2 has no pair): highlighted on both sides
        await pilot.press("enter")
        assert screen.pane("a").findings.highlighted == 2 and screen.pane("b").findings.highlighted == 1


async def test_a_failed_side_shows_its_error_while_the_other_completes(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="gpt-5.4-mini")
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py"), chunk_size=40, error_after=12), model="claude-haiku-4-5"
    )
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, B, A))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.report is not None)
        assert "failed" in str(screen.pane("b").query_one(".checks").render())
        assert "characters arrived before the failure" in str(screen.pane("b").query_one(".checks").render())
        assert "failed" in str(screen.pane("b").metrics.render())
        assert len(screen.pane("a").findings.findings) == 9 and "ok" in str(screen.pane("a").metrics.render())
        assert "B failed" in str(screen.query_one("#drift-summary").render())


async def test_triage_screen_loads_an_incident_streams_actions_and_judges(fake, tui_env):
    fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P1")), model="claude-haiku-4-5")
    fake.script(Reply(text=answer_text("pg-storage.md", "active", harmful=True)), model="gpt-5.4-mini")
    fake.script(Reply(text=verdict(5, 4)), Reply(text=verdict(4, 4)), model="claude-sonnet-4-6")
    app = DriftcheckApp(lambda a: TriageScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        from textual.widgets import Select

        select = screen.query_one("#incident-file", Select)
        select.value = next(value for label, value in select._options if label == "pg-storage.md")
        await pilot.pause()
        assert "db-primary-01 disk usage 87%" in screen.query_one("#incident").text
        screen.query_one("#spec-a").value = A
        screen.query_one("#spec-b").value = B
        screen.query_one("#judges").value = "anthropic:claude-sonnet-4-6"
        screen.query_one("#ctx-users_affected").value = "none yet"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: not screen.running and "Drift" in str(screen.query_one("#triage-drift").render()))
        a, b = screen.pane("a"), screen.pane("b")
        assert len(a.findings.findings) == 4 and len(b.findings.findings) == 5
        summary = str(a.query_one(".summary").render())
        assert "P1" in summary and "Root cause" in summary and "Escalation" in summary and "Judge" in summary
        assert "severity P1 → P2 (DIFFERENT)" in str(screen.query_one("#triage-drift").render())
    assert all("none yet" in str(r.body) for r in fake.requests if r.model != "claude-sonnet-4-6")


async def test_history_opens_a_run_and_compares_two(fake, tui_env, run_cli):
    for spec, drop in ((A, ()), (B, ("bare-except",))):
        fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=drop)))
        assert run_cli("review", SAMPLE, "-p", spec, "--format", "json").code == 0
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert len(screen.runs) == 2
        await pilot.press("enter")
        assert isinstance(app.screen, ReviewScreen) and app.screen.stored is not None
        await pilot.pause()
        assert len(app.screen.query_one(ResultPane).findings.findings) == 8  # the newest run, as it was
        await pilot.press("escape")  # nothing running: escape goes back
        assert app.screen is screen
        await pilot.press("space", "down", "space", "d")
        assert isinstance(app.screen, DocumentScreen)
        assert "8 matched · 0 only in A · 1 only in B" in app.screen.markdown


async def test_settings_are_saved_to_toml_and_keys_shown_only_as_present(fake, tui_env, tmp_path):
    write_private(tmp_path / "config" / "config.toml", "[local]\ncontext_tokens = 4096\n")
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for key, value in (
            ("default", A),
            ("compare-0", A),
            ("compare-1", B),
            ("judges", "openai:gpt-5.5, " + A),
            ("resilience-retries", "3"),
            ("resilience-hedge_after", "p95"),
            ("endpoint-name", "ollama"),
            ("endpoint-base_url", "http://localhost:11434/v1"),
            ("endpoint-models", "qwen2.5-coder:7b"),
        ):
            screen.query_one(f"#set-{key}").value = value
        await pilot.press("ctrl+s")
        keys = str(screen.query_one("#settings-keys").render())
        assert "ANTHROPIC_API_KEY: set" in keys
        assert CANARY_ANTHROPIC not in app.export_screenshot() and CANARY_OPENAI not in app.export_screenshot()
    path = tmp_path / "config" / "config.toml"
    saved = tomllib.loads(path.read_text())
    assert saved["default"] == A and saved["compare"] == [A, B] and saved["judges"] == ["openai:gpt-5.5", A]
    assert saved["resilience"] == {"retries": 3, "hedge_after": "p95"}
    assert saved["endpoints"]["ollama"] == {"base_url": "http://localhost:11434/v1", "models": ["qwen2.5-coder:7b"]}
    assert saved["local"] == {"context_tokens": 4096}  # what the screen does not show is kept
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_settings_refuse_what_the_config_model_refuses_and_keep_the_file(fake, tui_env, tmp_path):
    path = write_private(tmp_path / "config" / "config.toml", "# mine\n[resilience]\nretries = 1\n")
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#set-resilience-first_token_timeout_s").value = "nan"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app._notifications))
        message = next(iter(app._notifications)).message
    assert "resilience.first_token_timeout_s must be a positive number of seconds (got nan)" in message
    assert path.read_text() == "# mine\n[resilience]\nretries = 1\n"


async def test_help_and_the_command_palette_list_every_action(tui_env):
    app = DriftcheckApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Review a file",
            "Compare two providers",
            "Triage an incident",
            "History",
            "Settings",
            "Help",
        ):
            assert title in titles
        ids = {b.id for b in app.BINDINGS}
        assert {"app.help", "app.triage", "app.history", "app.settings", "app.quit"} <= ids


async def test_the_review_screen_takes_the_command_lines_fallback(fake, tui_env, tmp_path):
    from app.run.options import RouteOptions
    from tests.fakeserver import overloaded

    write_private(tmp_path / "config" / "config.toml", "[resilience]\nretries = 0\n")
    fake.script(overloaded(), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="gpt-5.4-mini")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A, route=RouteOptions(fallback=[B])))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        assert screen.result["metrics"]["fallback_from"] == A and screen.result["provider"] == "openai"
        assert f"fell back from {A}" in str(screen.pane("a").metrics.render())


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(text=keyed_review_text("inventory_service.py"), chunk_size=40, error_after=12), 3),
        (Reply(text=keyed_review_text("inventory_service.py")), 0),
    ],
)
def test_quitting_the_tui_exits_as_the_headless_command_would(fake, tui_env, monkeypatch, reply, expected):
    """run_tui itself, headless: a review that failed mid-stream exits 3 once the user quits."""
    from app.tui.app import run_tui

    fake.script(reply, model="claude-haiku-4-5")
    run = DriftcheckApp.run

    async def quit_when_done(pilot):
        screen = pilot.app.screen
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("ctrl+q")

    monkeypatch.setattr(DriftcheckApp, "run", lambda app: run(app, headless=True, size=SIZE, auto_pilot=quit_when_done))
    assert run_tui(lambda app: ReviewScreen(SAMPLE, A)) == expected


async def test_a_failed_judge_in_the_tui_exits_3_unless_judges_are_optional(fake, tui_env):
    from tests.fakeserver import HttpError

    for optional, expected in ((False, 3), (True, 0)):
        fake.script(Reply(text=answer_text("pg-storage.md", "active")), model="claude-haiku-4-5")
        fake.script(HttpError(403, "this key may not use the judge"), model="gpt-5.4-mini")
        text = (ROOT_INCIDENTS / "pg-storage.md").read_text(encoding="utf-8")
        app = DriftcheckApp(
            lambda a, text=text: TriageScreen(text=text, spec_a=A, judges=[B], start=True), judge_optional=optional
        )
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await until(
                pilot,
                lambda screen=screen: (
                    screen.specs
                    and not screen.running
                    and "Judge" in str(screen.pane("a").query_one(".summary").render())
                ),
            )
            await pilot.pause()
        assert app.exit_code == expected
