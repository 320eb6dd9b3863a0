"""The driftcheck TUI: one App, a screen per task, navigation by key or command palette.

`driftcheck` with no arguments opens the home screen; `driftcheck review FILE`,
`compare FILE` and `triage FILE` on a terminal open their screen and start at once.
Nothing heavier than Textual is imported before the first frame: providers (and their
SDKs) are built inside the run's worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

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
        yield Footer()

    def on_mount(self) -> None:
        self.title = "driftcheck"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or ""
        app: DriftcheckApp = self.app  # type: ignore[assignment]
        if choice.startswith("review:"):
            app.open_review(choice.split(":", 1)[1])
        elif choice.startswith("compare:"):
            app.open_compare(choice.split(":", 1)[1])
        else:
            app.run_action(f"open_{choice}")


class DriftcheckApp(App[None]):
    CSS_PATH = "driftcheck.tcss"
    TITLE = "driftcheck"
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help2"),
        # Navigation keys are listed in the help and the palette, not in every footer: each
        # footer key is a widget to build before the first frame.
        Binding("v", "open_review_prompt", "Review", show=False, id="app.review"),
        Binding("c", "open_compare_prompt", "Compare", show=False, id="app.compare.events"),
        Binding("t", "open_triage", "Triage", show=False, id="app.triage"),
        Binding("h", "open_history", "History", show=False, id="app.history"),
        Binding("s", "open_settings", "Settings", show=False, id="app.settings"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
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

        self.push_screen(TriageScreen(record=self.record))

    def action_open_history(self) -> None:
        from app.tui.history_screen import HistoryScreen

        self.push_screen(HistoryScreen())

    def action_open_settings(self) -> None:
        from app.tui.settings_screen import SettingsScreen

        self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        from app.tui.dialogs import HelpScreen

        self.push_screen(HelpScreen())

    def action_cancel_run(self) -> None:
        screen = self.screen
        if hasattr(screen, "action_cancel"):
            screen.action_cancel()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
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
