"""The driftcheck TUI: one App, a screen per task, navigation by key or command palette.

`driftcheck` with no arguments opens the home screen; `driftcheck review FILE`,
`compare FILE` and `triage FILE` on a terminal open their screen and start at once.
Nothing heavier than Textual is imported before the first frame: providers (and their
SDKs) are built inside the run's worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from app.tui.notices import Notice

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import Widget

HOME_TEXT = """\
[b]driftcheck[/] — review code and triage incidents with LLMs, and see the drift a provider \
switch would cause before you make it.

Pick a task below, or press [b]ctrl+p[/] for every action by name, [b]f1[/] for help."""


class HomeScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        from app.resources import bundled_dir

        yield Header()
        yield Static(HOME_TEXT, id="home-text")
        options = [
            Option("Triage an incident (t)", id="triage"),
            Option("History (h)", id="history"),
            Option("Settings (s)", id="settings"),
            None,
        ]
        samples = sorted(p for p in bundled_dir("sample_code").iterdir() if p.suffix in (".py", ".js", ".go", ".java"))
        options += [Option(f"Review sample_code/{p.name}", id=f"review:{p}") for p in samples]
        options += [Option(f"Compare two providers on sample_code/{p.name}", id=f"compare:{p}") for p in samples]
        yield OptionList(*options, id="home-menu")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = "driftcheck"

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or ""
        app: DriftcheckApp = self.app  # type: ignore[assignment]
        if choice.startswith("review:"):
            app.open_review(choice.split(":", 1)[1])
        elif choice.startswith("compare:"):
            app.open_compare(choice.split(":", 1)[1])
        else:
            await app.run_action(f"open_{choice}")  # a coroutine: not awaited, nothing opens


SMALL_SCREEN_TOAST_S = 3.0  # an error's toast on a small screen: long enough to notice

# Keys that open a screen; they act only where typing or pressing is not what a key means.
NAVIGATION_ACTIONS = {"open_review_prompt", "open_compare_prompt", "open_triage", "open_history", "open_settings"}


def takes_keys(widget: Widget | None) -> bool:
    """True for a widget that a letter key types into or presses (an input, an editable
    text area, a button, a select): a navigation key there must not open a screen."""
    # Imported on a key press, not before the first frame (TextArea brings tree-sitter).
    from textual.widgets import Button, Input, Select, TextArea

    if isinstance(widget, TextArea):
        return not widget.read_only
    return isinstance(widget, Input | Button | Select) or (widget is not None and isinstance(widget.parent, Select))


class DriftcheckApp(App[None]):
    CSS_PATH = "driftcheck.tcss"
    TITLE = "driftcheck"
    BINDINGS = [
        Binding("f1", "help", "Help", tooltip="The keys of this screen, and what they do", id="app.help"),
        Binding(
            "question_mark",
            "help",
            "Help",
            show=False,
            tooltip="The keys of this screen, and what they do",
            id="app.help2",
        ),
        # Navigation keys are listed in the help and the palette, not in every footer: each
        # footer key is a widget to build before the first frame.
        Binding("v", "open_review_prompt", "Review", show=False, tooltip="Review a file", id="app.review"),
        Binding(
            "c",
            "open_compare_prompt",
            "Compare",
            show=False,
            tooltip="Compare two providers on a file",
            id="app.compare.events",
        ),
        Binding("t", "open_triage", "Triage", show=False, tooltip="Triage an incident", id="app.triage"),
        Binding("h", "open_history", "History", show=False, tooltip="Past runs", id="app.history"),
        Binding(
            "s",
            "open_settings",
            "Settings",
            show=False,
            tooltip="Providers, judges, endpoints, timeouts",
            id="app.settings",
        ),
        # Escape on a screen with nothing to cancel goes back; a running task's screen binds
        # escape to cancel, and hides that binding while idle (TaskScreen.check_action).
        Binding("escape", "leave", "Back", tooltip="Back to the screen before", id="app.back"),
        Binding(
            "f2",
            "notifications",
            "Log",
            tooltip="The notifications log: every message so far, errors included",
            id="app.notifications",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            tooltip="Quit (asks first when settings are not saved)",
            id="app.quit",
            priority=True,
        ),
    ]

    def __init__(
        self,
        start: Callable[[DriftcheckApp], Screen[Any]] | None = None,
        *,
        record: bool = True,
        judge_optional: bool = False,
    ) -> None:
        super().__init__()
        self._start = start
        self.record = record
        self.judge_optional = judge_optional
        # What the headless command would have exited with, for the last run that ended.
        self.exit_code = 0
        self.notices: list[Notice] = []  # every notification, oldest first

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast, and a line in the notifications log (f2), so nothing said is lost when
        the toast fades. On a small screen a toast would cover the panes: a screen with a
        notes strip shows the message there instead, and only an error still toasts, briefly."""
        notice = Notice(time.time(), title, message, severity, markup)
        self.notices.append(notice)
        if self.small_screen():
            shown_on_screen = self.screen_stack and hasattr(self.screen, "show_notice")
            if shown_on_screen:
                self.screen.show_notice(notice)  # type: ignore[attr-defined]
                if severity != "error":
                    return
            timeout = min(timeout or SMALL_SCREEN_TOAST_S, SMALL_SCREEN_TOAST_S)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def small_screen(self) -> bool:
        """Below 100×30 a toast covers a good part of a pane."""
        return self.size.width < 100 or self.size.height < 30

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NAVIGATION_ACTIONS and takes_keys(self.focused):
            return False  # the letter is typed or ignored, never a jump to another screen
        if action == "leave":
            return not isinstance(self.screen, HomeScreen)
        return True

    def on_mount(self) -> None:
        # A command's screen comes up alone (one screen to build before the first frame);
        # leaving it goes to the home screen.
        self.push_screen(self._start(self) if self._start is not None else HomeScreen())

    def on_run_note(self, message: Any) -> None:
        """Notes from any screen's run (RunNote bubbles up from the screen)."""
        self.notify(message.text, title="Note", timeout=8)

    def on_run_ended(self, message: Any) -> None:
        """Every screen's run end (RunEnded bubbles up): the exit code follows the last one."""
        from app.errors import ExitCode
        from app.task_exit import outcome_exit

        self.exit_code = (
            ExitCode.CANCELLED
            if message.status == "cancelled"
            else outcome_exit(message.sides.values(), judge_optional=self.judge_optional)
        )

    def on_run_failed_to_start(self, message: Any) -> None:
        self.exit_code = message.exit_code

    def go_back(self) -> None:
        """Escape on an idle screen: the screen below, or home when there is none."""
        if len(self.screen_stack) > 2:
            self.pop_screen()
        elif not isinstance(self.screen, HomeScreen):
            self.switch_screen(HomeScreen())

    def action_leave(self) -> None:
        """Escape: leave this screen (asking first when it holds unsaved changes)."""
        self.leave_screen_then(self.go_back)

    def unsaved_screen(self) -> Screen[Any] | None:
        """The first screen on the stack that says it holds changes not yet saved."""
        screens: list[Screen[Any]] = list(reversed(self.screen_stack))
        return next((screen for screen in screens if getattr(screen, "unsaved", lambda: False)()), None)

    def leave_screen_then(self, then: Callable[[], None], *, whole_app: bool = False) -> None:
        """`then`, after asking when what would be left (this screen, or every screen when
        quitting) holds unsaved changes."""
        from app.tui.dialogs import Confirm

        screen = self.unsaved_screen() if whole_app else self.screen
        if screen is None or not getattr(screen, "unsaved", lambda: False)():
            then()
            return
        self.push_screen(
            Confirm(
                f"The {screen.title or 'current'} screen has changes that are not saved.",
                yes="Leave without saving",
                no="Stay",
            ),
            lambda leave: then() if leave else None,
        )

    async def action_quit(self) -> None:
        self.leave_screen_then(self.exit, whole_app=True)

    def action_notifications(self) -> None:
        from app.tui.dialogs import NotificationsScreen

        if not isinstance(self.screen, NotificationsScreen):
            self.push_screen(NotificationsScreen(self.notices))

    def action_save_screenshot(self) -> None:
        """An SVG of the screen in the current directory, else in the data directory; the
        notification says where, or why it could not be saved."""
        from app.locations import data_dir

        errors = []
        for where in (Path.cwd, data_dir):
            try:
                folder = where()  # the current directory may have been deleted
                folder.mkdir(parents=True, exist_ok=True)
                saved = self.save_screenshot(path=str(folder))
            except OSError as exc:
                errors.append(f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else ""))
                continue
            self.notify(f"Screenshot saved to {saved}", title="Screenshot", markup=False)
            return
        self.notify("The screenshot was not saved: " + "; ".join(errors), severity="error", markup=False)

    # --- export -----------------------------------------------------------------------------
    def _export_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Export and copy, offered only where there is something to export or copy."""
        from app.tui.export import formats_for, shown_result

        record = None if getattr(screen, "running", False) else shown_result(screen)
        if record is not None:
            for fmt in formats_for(record):
                yield SystemCommand(
                    f"Export the result as {fmt.upper() if fmt != 'markdown' else 'Markdown'}",
                    f"Write the {record.get('task')} shown here to a file",
                    lambda fmt=fmt: self.action_export(fmt),
                )
        from app.tui.widgets import FindingList

        lists = [w for w in screen.query(FindingList) if w.current() is not None]
        if lists:
            yield SystemCommand(
                "Copy the highlighted finding or action", "Its text, to the clipboard (y)", lists[0].action_copy_item
            )

    def _key_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Each key of the screen and its widgets that acts now, by name (the help's list)."""
        from app.tui.keys import palette_keys

        for key in palette_keys(self, screen):
            yield SystemCommand(
                key.long,
                f"{key.keys} · {key.where}",
                lambda key=key: self.run_action(key.action, key.target),
            )

    def action_export(self, fmt: str) -> None:
        """Ask where, write, and say where only once the file is there."""
        prompt = self.export_prompt(fmt)
        if prompt is not None:
            self.push_screen(prompt)

    def export_prompt(self, fmt: str, screen: Screen[Any] | None = None) -> Screen[str | None] | None:
        """The dialog asking where to write what `screen` (else the current one) shows as
        `fmt` (it writes on Enter); None, and a notification, when it shows nothing to export."""
        from app.tui.dialogs import AskPrompt
        from app.tui.export import default_path, shown_result

        record = shown_result(screen or self.screen)
        if record is None:
            self.notify("Nothing to export on this screen yet.", severity="warning")
            return None
        try:
            folder = Path.cwd()
        except OSError:
            from app.locations import data_dir

            folder = data_dir()

        def write(target: str | None) -> None:
            from app.errors import DriftcheckError
            from app.tui.export import write_export

            if not target:
                return
            try:
                path = write_export(record, fmt, target)
            except DriftcheckError as exc:
                self.notify(str(exc), title="Not exported", severity="error", timeout=10, markup=False)
                return
            self.notify(f"Saved to {path}", title="Export", markup=False)

        question = f"Write the {record.get('task')} as {fmt} to"
        return AskPrompt(question, str(default_path(record, fmt, folder)), then=write)

    # --- navigation -----------------------------------------------------------------------
    def open_review(self, path: str, spec: str | None = None) -> None:
        from app.tui.review_screen import ReviewScreen

        self.push_screen(ReviewScreen(path, spec, record=self.record))

    def open_compare(self, path: str, spec_a: str | None = None, spec_b: str | None = None) -> None:
        from app.config.load import load_config
        from app.errors import DriftcheckError
        from app.run.compare import pick_sides
        from app.tui.compare_screen import CompareScreen

        try:
            a, b = pick_sides(spec_a, spec_b, load_config())
        except DriftcheckError as exc:
            self.notify(str(exc), title="Compare", severity="error", timeout=10)
            return
        self.push_screen(CompareScreen(path, a, b, record=self.record))

    def _prompt_path(self, question: str, then: Callable[[str], None]) -> None:
        from app.tui.file_picker import PathPrompt

        self.push_screen(PathPrompt(question), lambda path: then(path) if path else None)

    def action_open_review_prompt(self) -> None:
        self._prompt_path("Review which file?", self.open_review)

    def action_open_compare_prompt(self) -> None:
        self._prompt_path("Compare two providers on which file?", self.open_compare)

    def action_open_triage(self) -> None:
        from app.tui.triage_screen import TriageScreen

        if not isinstance(self.screen, TriageScreen):  # a second, empty form would look like a wiped one
            self.push_screen(TriageScreen(record=self.record))

    def action_open_history(self) -> None:
        from app.tui.history_screen import HistoryScreen

        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def action_open_settings(self) -> None:
        from app.tui.settings_screen import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        from app.tui.dialogs import HelpScreen
        from app.tui.keys import help_markdown

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_markdown(self, self.screen)))

    def action_cancel_run(self) -> None:
        screen = self.screen
        if hasattr(screen, "action_cancel"):
            screen.action_cancel()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own screenshot goes to ~/Downloads and fails when that does not exist.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Screenshot")
        yield SystemCommand(
            "Screenshot",
            "Save an SVG of this screen in the current directory",
            lambda: self.set_timer(0.1, self.action_save_screenshot),  # once the palette has closed
        )
        yield SystemCommand(
            "Notifications", "Every message shown so far, errors included (f2)", self.action_notifications
        )
        yield SystemCommand("Review a file", "Review one source file with a provider", self.action_open_review_prompt)
        yield SystemCommand(
            "Compare two providers", "The same review on two providers, and the drift", self.action_open_compare_prompt
        )
        yield SystemCommand(
            "Triage an incident", "Paste an incident: severity, cause, actions", self.action_open_triage
        )
        yield SystemCommand("History", "Past runs: open one, compare two", self.action_open_history)
        yield SystemCommand(
            "Settings",
            "Default provider, compare pair, judges, endpoints, timeouts, hedging",
            self.action_open_settings,
        )
        yield from self._export_commands(screen)
        yield from self._key_commands(screen)
        if getattr(screen, "running", False):
            yield SystemCommand(
                "Cancel the running task", "Stop the calls in flight (recorded as cancelled)", self.action_cancel_run
            )
        yield SystemCommand("Help", "Keys and screens", self.action_help)


def run_tui(
    start: Callable[[DriftcheckApp], Screen[Any]] | None = None, *, record: bool = True, judge_optional: bool = False
) -> int:
    """Run the app; exit as the headless command would have after the last run (3 when its
    provider failed; --fail-on does not apply here), or with Textual's code if the app failed."""
    app = DriftcheckApp(start, record=record, judge_optional=judge_optional)
    app.run()
    return app.return_code or app.exit_code
