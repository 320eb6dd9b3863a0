"""The TUI shows a provider's escape sequences, never sends them to the terminal.

Textual draws text as it is given, ESC and C1 included (checked: a Static, a Log, an
OptionList and a TextArea all pass `ESC ] 52` through to the screen). Here a provider's
reply, its error, a stored run and a reviewed file carry an OSC 52 clipboard write, a
clear-screen and colour codes, and the screen — as exported, character for character —
holds none of them.
"""

from __future__ import annotations

import json
import re

from textual.widgets import Log

from app.tui.app import DriftcheckApp
from app.tui.compare_screen import CompareScreen
from app.tui.history_screen import HistoryScreen
from app.tui.review_screen import ReviewScreen
from app.tui.triage_screen import TriageScreen
from app.tui.widgets import ResultPane
from tests.conftest import until
from tests.fake_reviews import plain_finding
from tests.fake_triage import active_answer
from tests.fakeserver import HttpError, Reply
from tests.test_tui import SIZE

EVIL = "\x1b]52;c;cm0gLXJmIH4vCg==\x1b\\\x1b[2J\x1b[31mFORGED\x1b[0m\x9b2J\x07"
OBEYED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"


def evil_source(tmp_path):
    path = tmp_path / "evil.py"
    path.write_text(f"import os  # {EVIL}\n\n\ndef handler(event):\n    return os.environ[event]\n")
    return path


def evil_review(path) -> str:
    first = path.read_text().splitlines()[0].strip()
    finding = plain_finding(1, first, title=f"Title {EVIL}", explanation=f"Because {EVIL}", suggestion=f"Do {EVIL}")
    return json.dumps({"findings": [finding], "summary": f"Summary {EVIL}", "score": 4})


def assert_screen_inert(app, where: str) -> None:
    screen_text = app.export_screenshot()
    found = OBEYED.search(screen_text.replace("\n", ""))
    assert found is None, f"{where}: {found.group()!r} is on the screen"
    for log in app.screen.query(Log):
        for line in log.lines:
            assert OBEYED.search(line) is None, f"{where}: the live text holds {line!r}"


async def test_review_screen_shows_findings_live_text_and_the_file_inertly(fake, tui_env, tmp_path):
    path = evil_source(tmp_path)
    fake.script(Reply(text=evil_review(path), chunk_size=7), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(str(path), A))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        await pilot.pause()
        pane = screen.query_one(ResultPane)
        assert "FORGED" in str(pane.query_one(".summary").render())
        assert_screen_inert(app, "review screen")


async def test_a_failed_side_and_the_drift_panel_show_it_inertly(fake, tui_env, tmp_path):
    path = evil_source(tmp_path)
    fake.script(Reply(text=evil_review(path)), model="claude-haiku-4-5")
    fake.script(HttpError(400, f"rejected {EVIL}"), model="gpt-5.4-mini")
    app = DriftcheckApp(lambda a: CompareScreen(str(path), A, B))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.report is not None)
        await pilot.pause()
        assert "rejected" in str(screen.pane("b").query_one(".checks").render())
        assert_screen_inert(app, "compare screen")


async def test_triage_actions_and_summary_show_it_inertly(fake, tui_env):
    answer = active_answer("kafka-lag.md")
    answer["actions"][0]["action"] = f"Restart {EVIL}"
    answer["root_cause"]["summary"] = f"Cause {EVIL}"
    fake.script(Reply(text=json.dumps(answer), chunk_size=9), model="claude-haiku-4-5")
    app = DriftcheckApp(
        lambda a: TriageScreen(text="Consumer lag is growing on orders.", spec_a=A, judges=[], start=True)
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(
            pilot, lambda: not screen.running and "Root cause" in str(screen.pane("a").query_one(".summary").render())
        )
        assert_screen_inert(app, "triage screen")


async def test_history_shows_a_stored_run_inertly(fake, tui_env, run_cli, tmp_path):
    path = evil_source(tmp_path)
    fake.script(Reply(text=evil_review(path)))
    assert run_cli("review", str(path), "-p", A, "--format", "json").code == 0
    fake.script(Reply(text=f"partial {EVIL} text, then", chunk_size=4, error_after=5, error_type="api_error"))
    assert run_cli("ask", "-p", A, "hi").code == 3
    app = DriftcheckApp(lambda a: HistoryScreen())
    async with app.run_test(size=SIZE) as pilot:
        history = app.screen
        assert_screen_inert(app, "history list")
        await pilot.press("enter")  # the interrupted ask: its partial text as a document
        await pilot.pause()
        assert "partial" in app.screen.markdown
        assert_screen_inert(app, "a stored ask")
        await pilot.press("escape")
        assert app.screen is history
        await pilot.press("down", "enter")  # the review, as it was
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert_screen_inert(app, "a stored review")
