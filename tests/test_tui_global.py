"""The TUI's behaviour on every screen, and its history and settings screens, driven with
Pilot: Escape goes back, letter keys never jump screens while the user types or sits on
a button, the footer and the palette follow what is running, every notification can be
read again, a screenshot is saved where it says, quitting asks about unsaved settings."""

from __future__ import annotations

import contextlib
import html
import json
import tomllib
from pathlib import Path

import pytest

from app.history.store import Store
from app.tui.app import DriftcheckApp, HomeScreen
from app.tui.dialogs import Confirm, DocumentScreen, NotificationsScreen
from app.tui.history_screen import HistoryScreen, RunTable
from app.tui.review_screen import ReviewScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen
from app.tui.widgets import ResultPane
from tests.conftest import provenance_shown, until, write_private
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply

SAMPLE = "sample_code/inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
SIZE = (120, 40)
SMALL = (80, 24)


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


async def test_escape_before_the_runs_worker_starts_cancels_it_and_nothing_is_sent(fake, tui_env):
    """A run shows it started at once, and its worker starts after the next frame: Escape in
    between found no worker to cancel, and the review ran to its end (seen as a 14 s test)."""
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A, stored=stored, record=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.start()  # a re-run, as `r` starts one
        assert screen.running and not screen.workers
        screen.action_cancel()  # Escape, in the same frame
        await until(pilot, lambda: not screen.running)
        await pilot.pause(0.3)  # time for a worker that would wrongly start to send
    assert fake.requests == []


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
        assert _footer_keys(app).get("f2") == "Log"


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x40"])
async def test_on_a_small_screen_a_message_goes_to_the_notes_strip_and_the_log_not_a_toast(tui_env, size):
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored), record=False)
    async with app.run_test(size=size) as pilot:
        app.notify("Saved to /tmp/out.md", title="Export", markup=False)
        await pilot.pause()
        strip = app.screen.query_one("#run-notes")
        toasts = list(app._notifications)  # what Textual shows as toasts
        if size == SMALL:
            assert strip.display and "Saved to /tmp/out.md" in str(strip.render()) and not toasts
            app.notify("The file went away", severity="error")
            await pilot.pause()
            assert "The file went away" in str(strip.render())
            assert [t.timeout for t in app._notifications] == [3.0]  # an error still toasts, briefly
        else:
            assert not strip.display and toasts
        assert app.notices[0].message == "Saved to /tmp/out.md"  # in the f2 log either way


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
        await pilot.pause(0.3)
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


async def test_settings_check_each_spec_as_it_is_typed_with_the_triage_forms_words(tui_env, tmp_path):
    from app.tui.provider_picker import spec_problem

    path = write_private(tmp_path / "config" / "config.toml", "[resilience]\nretries = 1\n")
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen
        fallback = screen.query_one("#set-resilience-fallback")
        fallback.focus()
        await pilot.press(*f"{A}, bogus:model")
        problem = screen.query_one("#set-resilience-fallback-problem")
        expected = spec_problem("bogus:model", {})
        assert problem.display and expected in str(problem.render())
        shown = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "unknown provider 'bogus:model'" in shown  # under the field, in the first screen
        screen.query_one("#set-default").value = f"{A} {B}"
        await pilot.pause()
        assert "more than one SPEC" in str(screen.query_one("#set-default-problem").render())
        # A SPEC naming the endpoint being added is valid before it is saved.
        screen.query_one("#set-endpoint-name").value = "ollama"
        screen.query_one("#set-endpoint-base_url").value = "http://localhost:11434/v1"
        fallback.value = "ollama:qwen2.5-coder:7b"
        await pilot.pause()
        assert not screen.query_one("#set-resilience-fallback-problem").display
        await pilot.press("ctrl+s")  # the default is still two SPECs: not saved, and it has the focus
        assert "Not saved: Default provider: " in str(screen.query_one("#settings-status").render())
        assert app.focused is screen.query_one("#set-default")
    assert path.read_text() == "[resilience]\nretries = 1\n"


# --- history ------------------------------------------------------------------------------


def _seed_runs(cli_env, count: int) -> list[str]:
    """Runs recorded straight into the test's history database, newest last."""
    store = Store.open(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db").store
    ids = []
    try:
        for n in range(count):
            run_id = store.start_run(
                "review", input_ref=f"/src/service/file_{n}.py", input_sha256=None, providers=[A, B]
            )
            store.finish_run(run_id, status="ok", score=n % 10 + 1, summary=None, result=None)
            ids.append(run_id)
    finally:
        store.close()
    return ids


def _cell_text(app, row: int, column: str) -> str:
    table = app.screen.query_one("#runs")
    return str(table.get_cell_at((row, table.get_column_index(column))))


async def test_space_marks_a_run_at_once_and_leaves_the_cursor_where_it_was(tui_env):
    _seed_runs(tui_env, 3)
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#runs")
        await pilot.press("down", "space")
        assert table.cursor_row == 1
        rendered = app.export_screenshot().replace("&#160;", " ")
        assert "●" in rendered  # on screen now, not after f5
        assert app.screen.marked == [app.screen.runs[1]["id"]]
        await pilot.press("f5")
        assert table.cursor_row == 1 and "●" in app.export_screenshot()


async def test_home_and_end_go_to_the_first_and_last_run(tui_env):
    _seed_runs(tui_env, 30)
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SMALL) as pilot:
        table = app.screen.query_one("#runs")
        await pilot.press("end")
        assert table.cursor_row == 29
        await pilot.press("home")
        assert table.cursor_row == 0


@pytest.mark.parametrize("size", [SMALL, SIZE])
async def test_history_columns_are_chosen_by_width(tui_env, size):
    _seed_runs(tui_env, 2)
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#runs")
        names = [str(c.label) for c in table.ordered_columns]
        for name in ("id", "when", "task", "status", "score", "cost", "latency"):
            assert name in names, (size, names)
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= size[0]
        if size == SIZE:
            assert "input" in names
        run_id = app.screen.runs[0]["id"]
        assert run_id in app.export_screenshot()


async def test_an_empty_history_says_so(tui_env):
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SMALL):
        assert "No runs yet" in str(app.screen.query_one("#history-note").render())


def _triage(fake, run_cli, *args: str) -> str:
    from tests.fake_triage import answer_text

    fake.script(Reply(text=answer_text("cert-expiry.md", "active")), model="claude-haiku-4-5")
    result = run_cli(
        "triage", "incidents/cert-expiry.md", "-p", A, "--context", "users_affected=30%", "--format", "json", *args
    )
    assert result.code == 0, result.stderr
    return result.stderr.split("recorded as ")[1].split()[0]


async def test_a_triage_opens_in_the_triage_screen_as_recorded(fake, tui_env, run_cli):
    from tests.fake_triage import active_answer

    _triage(fake, run_cli)
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        pane = screen.pane("a")
        expected = [a["action"] for a in active_answer("cert-expiry.md")["actions"]]
        assert [f.action for f in pane.findings.findings] == expected
        assert "P2" in str(pane.query_one(".summary").render())
        assert screen.query_one("#ctx-users_affected").value == "30%"
        assert screen.query_one("#spec-a").value == A
        assert "certificate" in screen.query_one("#incident").text.lower()  # the file, unchanged since
        assert not screen.running
        assert app.focused is pane.findings  # keys like `e` (export) act, and are never typed into the box
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)


async def test_a_cancelled_triage_says_which_actions_were_recorded(tui_env):
    from tests.fake_triage import answer_text

    store = Store.open(Path(tui_env["DRIFTCHECK_DATA_DIR"]) / "history.db").store
    run_id = store.start_run("triage", input_ref="pasted", input_sha256=None, providers=[A])
    call = store.start_call(run_id, role="candidate", provider="anthropic", model="claude-haiku-4-5")
    text = answer_text("cert-expiry.md", "active")
    first_action_end = text.index("}", text.index('"actions"')) + 1
    store.checkpoint(call, text[:first_action_end])
    store.finish_run(run_id, status="cancelled", score=None, summary=None, result=None)
    store.close()
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, DocumentScreen)
        markdown = app.screen.markdown
        assert "No result was recorded" not in markdown
        assert "1 action(s) that had arrived were recorded" in markdown
        first = json.loads(text)["actions"][0]["action"]
        assert first in markdown


async def test_the_diff_dialog_lists_each_finding_on_its_own_line(fake, tui_env, run_cli):
    for spec, drop in ((A, ()), (B, ("bare-except",))):
        fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=drop)))
        assert run_cli("review", SAMPLE, "-p", spec, "--format", "json").code == 0
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "down", "space", "d")
        assert isinstance(app.screen, DocumentScreen)
        markdown = app.screen.markdown
        assert "<br>" not in markdown
        assert "### findings: B" in markdown
        a_findings = markdown.split("### findings: A", 1)[1].split("###", 1)[0]
        b_findings = markdown.split("### findings: B", 1)[1].split("###", 1)[0]
        # A is the first marked (the newest run, without the bare except), B the other
        assert len([line for line in a_findings.splitlines() if line.startswith("- ")]) == 8
        assert len([line for line in b_findings.splitlines() if line.startswith("- ")]) == 9


# --- keys: the help, the palette, the footer -------------------------------------------------


def _screens() -> dict:
    """A screen of each kind, showing a result where it has one."""
    from app.tui.compare_screen import CompareScreen

    return {
        "home": lambda a: HomeScreen(),
        "review": lambda a: ReviewScreen(SAMPLE, stored=json.loads(STORED_REVIEW.read_text())),
        "compare": lambda a: CompareScreen(
            SAMPLE, A, B, stored=json.loads((STORED_DIR / "compare_report.json").read_text())
        ),
        "triage": lambda a: TriageScreen(record=False),
        "history": lambda a: HistoryScreen(),
        "settings": lambda a: SettingsScreen(),
    }


def _declared(node) -> list:
    """The bindings written in the BINDINGS of `node`'s own classes (ours, not Textual's)."""
    return [
        binding
        for cls in type(node).__mro__
        if cls.__module__.startswith("app.")
        for binding in cls.__dict__.get("BINDINGS", [])
    ]


@pytest.mark.parametrize("name", ["home", "review", "compare", "triage", "history", "settings"])
async def test_the_help_lists_every_binding_of_the_screen_it_is_opened_from(tui_env, name):
    from app.tui.dialogs import HelpScreen
    from app.tui.widgets import FindingList

    app = DriftcheckApp(_screens()[name], record=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        bindings = _declared(app) + _declared(screen)
        for widget_type in (FindingList, RunTable):
            if screen.query(widget_type):
                bindings += _declared(screen.query(widget_type).first())
        app.set_focus(None)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        for binding in bindings:
            assert f"`{app.get_key_display(binding)}" in text or f"/ {app.get_key_display(binding)}`" in text, binding
            assert (binding.tooltip or binding.description) in text, binding
        await pilot.press("escape")
        assert app.screen is screen


async def test_the_newer_keys_are_in_the_help_and_the_palette(tui_env):
    from app.tui.compare_screen import CompareScreen

    app = DriftcheckApp(_screens()["compare"], record=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        text = app.screen.text
        for key in ("`a`", "`b`", "`d`", "`o`", "`e`", "`y`", "`f2`", "`f1 / ?`", "`pgdn`"):
            assert key in text
        await pilot.press("escape")
        assert isinstance(app.screen, CompareScreen)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Side A on the whole screen, or back" in commands
        assert "Export the result to a file: JSON, Markdown, SARIF" in commands
        assert "Cancel the running task (what arrived is kept)" not in commands  # nothing runs
        await commands["Side A on the whole screen, or back"].callback()
        assert app.screen.maximized is app.screen.query_one("#side-a")


# What must stay visible in an 80-column footer, by screen.
FOOTER_KEYS = {
    "review": {"Back", "Export", "Provider", "Re-run", "Full", "Help"},
    "compare": {"Back", "Export", "Providers", "A", "B", "Drift", "Code", "Help"},
    "triage": {"Back", "Run", "Form", "Help"},
    "history": {"Back", "Open", "Mark", "Diff", "Help"},
    "settings": {"Back", "Save", "Help"},
}


@pytest.mark.parametrize("name", sorted(FOOTER_KEYS))
async def test_an_80_column_footer_shows_the_screens_key_actions(tui_env, name):
    from textual.widgets import Footer

    app = DriftcheckApp(_screens()[name], record=False)
    async with app.run_test(size=SMALL) as pilot:

        def shown() -> set[str]:
            footer = app.screen.query_one(Footer)
            palettes = footer.query(".-command-palette")  # docked right, over the keys that run under it
            visible_to = palettes.first().region.x if palettes else footer.region.right
            return {
                key.description
                for key in footer.query("FooterKey")
                if key.region.width and key.region.right <= visible_to and not key.has_class("-command-palette")
            }

        # The footer is rebuilt as the screen's state settles (a loaded machine takes longer).
        with contextlib.suppress(AssertionError):
            await until(pilot, lambda: FOOTER_KEYS[name] <= shown(), timeout=10)
        assert FOOTER_KEYS[name] <= shown(), FOOTER_KEYS[name] - shown()
        rendered = app.export_screenshot().replace("&#160;", " ")
        assert all(description in rendered for description in FOOTER_KEYS[name])


# --- snapshots at 80×24 and 120×40 ----------------------------------------------------------

SNAPSHOT_CONFIG = "/tmp/driftcheck-global-snapshot-config"  # shown on screen, so fixed
SNAPSHOT_DATA = "/tmp/driftcheck-global-snapshot-data"


@pytest.fixture
def fixed_screens(monkeypatch):
    """A fixed config (two endpoints), an empty history, UTC, and a key that is set."""
    import os
    import shutil
    import time

    for key in list(os.environ):
        if key.endswith(("_API_KEY", "_BASE_URL")) or key.startswith("DRIFTCHECK_") or key == "LLM_PROVIDER":
            monkeypatch.delenv(key, raising=False)
    for folder in (SNAPSHOT_CONFIG, SNAPSHOT_DATA):
        shutil.rmtree(folder, ignore_errors=True)
    Path(SNAPSHOT_CONFIG).mkdir(mode=0o700)
    write_private(
        Path(SNAPSHOT_CONFIG) / "config.toml",
        'default = "anthropic:claude-haiku-4-5"\n\n[resilience]\nretries = 2\nfallback = ["openai:gpt-5.4-mini"]\n\n'
        '[endpoints.ollama]\nbase_url = "http://localhost:11434/v1"\nmodels = ["qwen2.5-coder:7b"]\n\n'
        '[endpoints.vllm]\nbase_url = "http://gpu-box:8000/v1"\napi_key_env = "VLLM_KEY"\n',
    )
    monkeypatch.setenv("DRIFTCHECK_CONFIG_DIR", SNAPSHOT_CONFIG)
    monkeypatch.setenv("DRIFTCHECK_DATA_DIR", SNAPSHOT_DATA)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-CANARY-snapshot")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    for folder in (SNAPSHOT_CONFIG, SNAPSHOT_DATA):
        shutil.rmtree(folder, ignore_errors=True)


def _fixed_runs(monkeypatch) -> None:
    """Five runs with fixed ids, times, costs and latencies, one of each kind of status."""
    import itertools

    import app.history.store as store_module

    clock = itertools.count(1_795_000_000, 7)
    monkeypatch.setattr(store_module.time, "time", lambda: float(next(clock)))
    ids = iter(f"rmwsd{n}run{n}" for n in range(5))
    monkeypatch.setattr(store_module, "new_run_id", lambda: next(ids))
    store = store_module.Store.open().store
    rows = (
        ("review", "ok", 4, [A]),
        ("review", "ok", 6, [B]),
        ("compare", "ok", None, [A, B]),
        ("triage", "cancelled", None, [A]),
        ("review", "failed", None, [B]),
    )
    for n, (task, status, score, specs) in enumerate(rows):
        run = store.start_run(task, input_ref=f"/work/{SAMPLE}", input_sha256=None, providers=specs)
        for spec in specs:
            provider, model = spec.split(":")
            call = store.start_call(run, role="candidate", provider=provider, model=model)
            store.finish_call(
                call, status=status, text="", metrics={"cost_usd": 0.0012 * (n + 1), "latency_ms": 900 + 350 * n}
            )
        store.finish_run(run, status=status, score=score, summary=None, result=None)
    store.close()


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x40"])
def test_snapshot_history_with_runs(snap_compare, fixed_screens, monkeypatch, size):
    _fixed_runs(monkeypatch)

    async def mark(pilot):
        await pilot.press("down", "space")
        await provenance_shown(pilot)

    assert snap_compare(DriftcheckApp(lambda a: HistoryScreen(), record=False), terminal_size=size, run_before=mark)


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x40"])
def test_snapshot_history_empty(snap_compare, fixed_screens, size):
    assert snap_compare(DriftcheckApp(lambda a: HistoryScreen(), record=False), terminal_size=size)


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x40"])
def test_snapshot_settings(snap_compare, fixed_screens, size):
    assert snap_compare(DriftcheckApp(lambda a: SettingsScreen(), record=False), terminal_size=size)


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x40"])
def test_snapshot_notifications_log(snap_compare, fixed_screens, monkeypatch, size):
    import app.tui.app as app_module

    monkeypatch.setattr(app_module.time, "time", lambda: 1_795_000_000.0)
    app = DriftcheckApp(record=False)

    async def notify_then_open(pilot):
        app.notify("Saved to /tmp/driftcheck-global-snapshot-config/config.toml", title="Settings", markup=False)
        app.notify("Mark two runs with space first.", severity="warning")
        app.notify("unknown provider 'nosuch'. A SPEC is provider:model", title="Nothing was sent", severity="error")
        await pilot.press("f2")
        app.clear_notifications()  # the toasts: the log is what is shown
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=notify_then_open)


# --- export and copy ------------------------------------------------------------------------

STORED_DIR = Path(__file__).parent / "data" / "tui"
STORED_REVIEW = STORED_DIR / "review.json"


def _command(app, title: str):
    [command] = [c for c in app.get_system_commands(app.screen) if c.title == title]
    return command


@pytest.mark.parametrize(
    ("title", "suffix", "check"),
    [
        ("Export the result as Markdown", ".md", lambda text: text.startswith("#") and "L35" in text),
        ("Export the result as SARIF", ".sarif", lambda text: json.loads(text)["version"] == "2.1.0"),
        ("Export the result as JSON", ".json", lambda text: json.loads(text)["task"] == "review"),
    ],
)
async def test_a_review_is_exported_to_a_file_and_the_path_is_said(
    tui_env, tmp_path, monkeypatch, title, suffix, check
):
    monkeypatch.chdir(tmp_path)
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored), record=False)
    async with app.run_test(size=SIZE) as pilot:
        _command(app, title).callback()
        await pilot.pause()
        await pilot.press("enter")  # the offered path: a new file in the current directory
        await pilot.pause()
    [written] = list(tmp_path.glob(f"driftcheck-review-*{suffix}"))
    assert check(written.read_text())
    assert app.notices[-1].message == f"Saved to {written}"


async def test_a_path_typed_the_instant_the_export_dialog_opens_is_kept(tui_env, tmp_path, monkeypatch):
    """e, then Enter on the format and the path typed at once (sent together, as a fast
    typist's or a lagging terminal's keys arrive): every character lands in the path, none
    is lost to the format list or the review screen below (where `r`, `p`, `m` act)."""
    from textual import events

    monkeypatch.chdir(tmp_path)
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=json.loads(STORED_REVIEW.read_text())), record=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        for key in ["enter", *"report.json"]:  # JSON, the first format, then the path
            app._driver.send_message(events.Key(key, None if key == "enter" else key))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert json.loads((tmp_path / "report.json").read_text())["task"] == "review"


async def test_a_triage_from_history_is_exported_as_markdown_by_the_commands_renderer(
    fake, tui_env, run_cli, tmp_path, monkeypatch
):
    from tests.fake_triage import active_answer

    run_id = _triage(fake, run_cli)
    headless = run_cli("history", "export", run_id, "--format", "markdown")
    assert headless.code == 0, headless.stderr
    monkeypatch.chdir(tmp_path)
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        _command(app, "Export the result as Markdown").callback()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    [written] = list(tmp_path.glob("driftcheck-triage-*.md"))
    text = written.read_text()
    assert text == headless.stdout  # one renderer, from the stored JSON
    first = active_answer("cert-expiry.md")["actions"][0]["action"]
    assert "**P2**" in text and first.split()[0] in text and "| # | Action | Owner | Timeline |" in text
    assert app.notices[-1].message == f"Saved to {written}"


async def test_an_export_that_cannot_be_written_never_says_saved(tui_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored), record=False)
    async with app.run_test(size=SIZE) as pilot:
        _command(app, "Export the result as JSON").callback()
        await pilot.pause()
        app.screen.query_one("#answer").value = str(tmp_path / "missing-folder" / "out.json")
        await pilot.press("enter")
        await pilot.pause()
    assert not any(n.message.startswith("Saved") for n in app.notices)
    assert "missing-folder" in app.notices[-1].message and app.notices[-1].severity == "error"


async def test_no_export_is_offered_while_a_run_runs_or_before_a_result(tui_env):
    app = DriftcheckApp(lambda a: TriageScreen(record=False))
    async with app.run_test(size=SIZE):
        assert not [c for c in app.get_system_commands(app.screen) if c.title.startswith("Export")]


async def test_y_copies_the_highlighted_finding_to_the_clipboard(tui_env):
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored), record=False)
    async with app.run_test(size=SIZE) as pilot:
        findings = app.screen.query_one(ResultPane).findings
        findings.focus()
        findings.highlighted = 1
        await pilot.press("y")
        finding = findings.findings[1]
        assert app.clipboard.startswith(f"{finding.severity.upper()} {finding.id} L{finding.line_start}")
        assert finding.suggestion in app.clipboard
        assert "Copy the highlighted finding or action" in [c.title for c in app.get_system_commands(app.screen)]


async def test_the_pane_with_focus_is_marked(tui_env):
    stored = json.loads(STORED_REVIEW.read_text())
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored), record=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ResultPane)
        pane.findings.focus()
        await pilot.pause()
        focused = pane.styles.border_top
        app.screen.query_one("#code").focus()
        await pilot.pause()
        assert pane.styles.border_top != focused
        assert app.screen.query_one("#code").styles.border_top != pane.styles.border_top


async def test_journey_diff_two_runs_then_change_a_setting_leave_and_quit(fake, tui_env, run_cli, tmp_path):
    """From the home screen, by keys only: history, mark two reviews, their drift; back
    home; settings, change the retries, try to leave, save, leave with Escape, quit."""
    for spec, drop in ((A, ()), (B, ("bare-except",))):
        fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=drop)))
        assert run_cli("review", SAMPLE, "-p", spec, "--format", "json").code == 0
    app = DriftcheckApp()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("space", "down", "space", "d")
        assert isinstance(app.screen, DocumentScreen) and "### findings: B" in app.screen.markdown
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("s")
        retries = app.screen.query_one("#set-resilience-retries")
        retries.focus()
        await pilot.press("ctrl+a", "backspace", "5")
        await pilot.press("escape")
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # stay
        await pilot.press("ctrl+s")
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("ctrl+q")
    assert tomllib.loads((tmp_path / "config" / "config.toml").read_text())["resilience"]["retries"] == 5
    assert app.return_code == 0


async def test_typing_an_endpoints_name_brings_its_settings_to_edit(tui_env, tmp_path):
    write_private(
        tmp_path / "config" / "config.toml",
        '[endpoints.ollama]\nbase_url = "http://localhost:11434/v1"\n\n'
        '[endpoints.vllm]\nbase_url = "http://gpu-box:8000/v1"\napi_key_env = "VLLM_KEY"\nmodels = ["qwen"]\n',
    )
    app = DriftcheckApp(lambda a: SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert screen.query_one("#set-endpoint-name").value == "ollama"
        screen.query_one("#set-endpoint-name").value = "vllm"
        await pilot.pause()
        assert screen.query_one("#set-endpoint-base_url").value == "http://gpu-box:8000/v1"
        assert screen.query_one("#set-endpoint-models").value == "qwen"
        screen.query_one("#set-endpoint-models").value = "qwen, llama"
        await pilot.press("ctrl+s")
    saved = tomllib.loads((tmp_path / "config" / "config.toml").read_text())["endpoints"]
    assert saved["vllm"]["models"] == ["qwen", "llama"] and saved["ollama"]["base_url"] == "http://localhost:11434/v1"
