"""The home screen's menu opens what it names (found by mypy: the action was never awaited)."""

from __future__ import annotations

import pytest

from app.tui.app import DriftcheckApp
from app.tui.history_screen import HistoryScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen
from tests.conftest import until


@pytest.mark.parametrize(
    ("entry", "screen"), [("triage", TriageScreen), ("history", HistoryScreen), ("settings", SettingsScreen)]
)
async def test_each_home_menu_entry_opens_its_screen(tui_env, entry, screen):
    app = DriftcheckApp()
    async with app.run_test(size=(120, 40)) as pilot:
        menu = app.screen.query_one("#home-menu")
        menu.highlighted = menu.get_option_index(entry)
        menu.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, screen), timeout=5)
