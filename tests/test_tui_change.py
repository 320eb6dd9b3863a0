"""The TUI's review of a change, driven with Pilot against the fake server: the changed
files listed with their finding counts, the selected file's changed parts marked beside
its findings, a finding bringing its line into view; and SVG snapshots at 80×24 and
120×40 once the review has finished (so nothing on them depends on timing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TextArea

from app.run.change import load_git_change
from app.source.git import ChangeSpec
from app.tui.app import DriftcheckApp
from app.tui.change_screen import ChangedFiles, ChangeScreen
from app.tui.widgets import FindingList
from tests.conftest import until
from tests.gitrepo import Repo
from tests.test_diff_review import CALC, UTIL_JS, finding, reply

MINI = "openai:gpt-5.4-mini"


@pytest.fixture
def change(fake, tmp_path: Path):
    repo = Repo(tmp_path / "repo")
    repo.write("calc.py", CALC)
    repo.write("web/util.js", UTIL_JS)
    repo.write("logo.png", b"\x89PNG\x00")
    repo.commit("base")
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    repo.write("logo.png", b"\x89PNG\x00\x01")
    model = MINI.split(":")[1]
    fake.reply_when(model, ["File: calc.py"], reply(finding(6, "return a / b  # may be zero")))
    fake.reply_when(
        model,
        ["File: web/util.js"],
        reply(
            finding(2, 'return "hi " + name;', title="Unescaped name", severity="medium"),
            finding(1, "function greet(name) {", title="No docs", severity="low"),
        ),
    )
    return load_git_change(ChangeSpec(), [], repo.path)


def _app(change) -> DriftcheckApp:
    return DriftcheckApp(lambda app: ChangeScreen(change, MINI, record=False), record=False)


async def test_files_with_counts_then_a_file_its_diff_and_findings(fake, tui_env, change):
    app = _app(change)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        files = screen.query_one(ChangedFiles)
        labels = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert "calc.py" in labels[0] and "  1" in labels[0]
        assert "web/util.js" in labels[1] and "  2" in labels[1]
        assert "M[/] calc.py" in labels[0] and "logo.png (binary)" in labels[2]
        diff = screen.query_one("#change-diff", TextArea)
        assert " 6 + |     return a / b  # may be zero" in diff.text
        assert len(screen.query_one(FindingList).findings) == 1
        files.focus()
        await pilot.press("down")  # web/util.js
        await until(pilot, lambda: "hi " in diff.text)
        assert '2 + |   return "hi " + name;' in diff.text
        findings = screen.query_one(FindingList)
        assert [f.title for f in findings.findings] == ["Unescaped name", "No docs"]
        findings.focus()
        findings.highlighted = 0
        await pilot.press("enter")
        assert diff.cursor_location[0] == 1  # line 2 of the file is the second row shown
        assert "3 finding(s)" in str(screen.query_one("#change-status").render())


async def test_escape_goes_back_once_the_review_is_done(fake, tui_env, change):
    # With --changed-only the screen shows what the headless review keeps: web/util.js's
    # "No docs" cites an unchanged line, so it is gone from the count, the list and the total.
    app = DriftcheckApp(lambda app: ChangeScreen(change, MINI, record=False, changed_only=True), record=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        files = screen.query_one(ChangedFiles)
        assert "  1" in str(files.get_option_at_index(1).prompt)
        files.focus()
        await pilot.press("down")
        await until(pilot, lambda: [f.title for f in screen.query_one(FindingList).findings] == ["Unescaped name"])
        assert "2 finding(s)" in str(screen.query_one("#change-status").render())
        assert [f["id"] for f in screen.result["result"]["findings"]] == ["F1", "F1"]  # one per file
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChangeScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_change_screen_snapshot(fake, tui_env, change, snap_compare, size):
    async def finished(pilot) -> None:
        await until(pilot, lambda: pilot.app.screen.result is not None)
        pilot.app.screen.query_one(ChangedFiles).focus()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(_app(change), terminal_size=size, run_before=finished)


async def test_at_80_columns_each_file_keeps_one_row_and_its_name(fake, tui_env, tmp_path):
    """A path longer than the list is shortened from the left: wrapped, it took a row of its
    own and left its count on a row that read as blank (seen at 80x24)."""
    from rich.text import Text

    names = ["app/calls/limits.py", "app/history/resume_runs.py", "x.py"]
    repo = Repo(tmp_path / "repo")
    for name in names:
        repo.write(name, "def f(a):\n    return a\n")
    repo.commit("base")
    for name in names:
        repo.write(name, "def f(a):\n    return a + 1\n")
    change = load_git_change(ChangeSpec(), [], repo.path)
    app = _app(change)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.result is not None)
        await pilot.pause()
        files = app.screen.query_one(ChangedFiles)
        width = files.scrollable_content_region.width
        rows = [Text.from_markup(str(files.get_option_at_index(i).prompt)).plain for i in range(len(names))]
        assert all(len(row) <= width for row in rows), (width, rows)
        assert rows[1].endswith("resume_runs.py") and "…" in rows[1]
        assert rows[2].endswith(" x.py") and "…" not in rows[2]
