"""The home screen's menu opens what it names (found by mypy: the action was never awaited)."""

from __future__ import annotations

import pytest

from app.tui.app import DriftcheckApp
from app.tui.history_screen import HistoryScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen


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
        for _ in range(100):
            if isinstance(app.screen, screen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, screen)
