"""The TUI's behaviour on every screen, and its history and settings screens, driven with
Pilot: Escape goes back, letter keys never jump screens while the user types or sits on
a button, the footer and the palette follow what is running, every notification can be
read again, a screenshot is saved where it says, quitting asks about unsaved settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tui.app import DriftcheckApp, HomeScreen
from app.tui.dialogs import Confirm, NotificationsScreen
from app.tui.history_screen import HistoryScreen
from app.tui.review_screen import ReviewScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen
from app.tui.widgets import ResultPane
from tests.conftest import write_private
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply

SAMPLE = "sample_code/inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
SIZE = (120, 40)
SMALL = (80, 24)


@pytest.fixture
def tui_env(monkeypatch, cli_env):
    for key in list(__import__("os").environ):
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


def _footer_keys(app) -> dict[str, str]:
    """What the footer offers: key → description, for the bindings shown and enabled."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


# --- everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize("open_key", ["h", "s"])
async def test_escape_leaves_history_and_settings(tui_env, open_key):
    app = DriftcheckApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(open_key)
        assert isinstance(app.screen, HistoryScreen if open_key == "h" else SettingsScreen)
        assert _footer_keys(app).get("escape") == "Back"
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_letter_keys_type_into_a_field_and_never_open_a_screen(tui_env):
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#set-default")
        field.focus()
        await pilot.press("t", "h", "s", "v", "c")
        assert isinstance(app.screen, SettingsScreen) and field.value == "thsvc"


async def test_a_letter_on_a_focused_button_does_not_open_another_screen(tui_env):
    app = DriftcheckApp(lambda a: TriageScreen(record=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#run").focus()
        await pilot.press("t", "h", "s")
        assert app.screen is screen


async def test_the_same_screen_is_not_opened_on_top_of_itself(tui_env):
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#runs").focus()
        await pilot.press("h")
        assert app.screen is screen and len(app.screen_stack) == 2


async def test_the_footer_and_the_palette_offer_cancel_only_while_a_run_runs(fake, tui_env):
    text = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=text, chunk_size=8, chunk_delay_s=0.03), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A, record=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.running)
        assert _footer_keys(app)["escape"] == "Cancel run"
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Cancel the running task" in titles
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        assert _footer_keys(app)["escape"] == "Back"
        assert "Cancel the running task" not in [c.title for c in app.get_system_commands(screen)]
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_every_notification_is_kept_and_can_be_read_again(tui_env):
    app = DriftcheckApp()
    async with app.run_test(size=SIZE) as pilot:
        app.notify("first [not markup", title="One", markup=False)
        app.notify("second", title="Two", severity="error")
        await pilot.press("f2")
        assert isinstance(app.screen, NotificationsScreen)
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "first [not markup" in shown and "second" in shown and "Notifications (2)" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        assert "Notifications" in [c.title for c in app.get_system_commands(app.screen)]
        assert _footer_keys(app).get("f2") == "Notifications"


async def test_a_run_that_cannot_start_says_why_on_the_screen(tui_env):
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, "nosuchprovider:model", record=False))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ResultPane)
        await until(pilot, lambda: "Nothing was sent" in str(pane.query_one(".summary").render()))
        summary = str(pane.query_one(".summary").render())
        assert "nosuchprovider" in summary  # the reason itself, not "see the notification"
        assert any("nosuchprovider" in n.message for n in app.notices)


async def test_a_screenshot_is_saved_in_the_current_directory_and_says_where(tui_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = DriftcheckApp()
    async with app.run_test(size=SIZE) as pilot:
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        command.callback()
        await pilot.pause()
        [svg] = list(tmp_path.glob("*.svg"))
        assert f"Screenshot saved to {svg.name}" in app.notices[-1].message or str(svg) in app.notices[-1].message


async def test_a_screenshot_falls_back_to_the_data_directory(tui_env, tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # the directory driftcheck was started in no longer exists
    app = DriftcheckApp()
    async with app.run_test(size=SIZE) as pilot:
        app.action_save_screenshot()
        await pilot.pause()
    data = Path(tui_env["DRIFTCHECK_DATA_DIR"])
    [svg] = list(data.glob("*.svg"))
    assert str(svg) in app.notices[-1].message and app.notices[-1].severity == "information"


async def test_quitting_with_unsaved_settings_asks_first(tui_env):
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        settings = app.screen
        settings.query_one("#set-resilience-retries").value = "4"
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # stay
        assert app.screen is settings and app.is_running
        await pilot.press("escape")  # leaving the screen asks too
        assert isinstance(app.screen, Confirm)
        await pilot.click("#yes")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_quitting_with_saved_settings_does_not_ask(tui_env):
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#set-resilience-retries").value = "4"
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not isinstance(app.screen, Confirm)


# --- settings -----------------------------------------------------------------------------


async def test_the_silence_timeout_placeholder_is_the_real_default(tui_env):
    from providers.base import Timeouts

    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE):
        field = app.screen.query_one("#set-resilience-timeout_s")
        assert field.placeholder == f"{Timeouts().stall_s:g}" == "30"


async def test_every_configured_endpoint_is_shown(tui_env, tmp_path):
    write_private(
        tmp_path / "config" / "config.toml",
        '[endpoints.ollama]\nbase_url = "http://localhost:11434/v1"\n\n'
        '[endpoints.vllm]\nbase_url = "http://gpu-box:8000/v1"\napi_key_env = "VLLM_KEY"\nmodels = ["qwen"]\n',
    )
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE):
        listed = str(app.screen.query_one("#settings-endpoints").render())
        assert "ollama" in listed and "http://localhost:11434/v1" in listed
        assert "vllm" in listed and "http://gpu-box:8000/v1" in listed and "VLLM_KEY" in listed
        assert "VLLM_KEY: not set" in str(app.screen.query_one("#settings-keys").render())


async def test_an_invalid_fallback_spec_is_refused_and_not_saved(tui_env, tmp_path):
    path = write_private(tmp_path / "config" / "config.toml", "[resilience]\nretries = 1\n")
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#set-resilience-fallback").value = "openai gpt-5.4-mini"
        await pilot.press("ctrl+s")
        status = str(app.screen.query_one("#settings-status").render())
        assert "Not saved" in status and "openai gpt-5.4-mini" in status
        assert app.screen.unsaved()
    assert path.read_text() == "[resilience]\nretries = 1\n"
