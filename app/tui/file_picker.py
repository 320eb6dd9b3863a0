"""Which file to review: a path typed with completion, and the matching entries listed
under it. The path is checked (exists, a regular file, text) before the dialog closes,
so a bad path is a message in the dialog, not a screen that fails a second later."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.tui.widgets import escape

# A directory with thousands of entries is cut: completion needs the first few matches.
MAX_LISTED = 200


def path_matches(typed: str, limit: int = MAX_LISTED) -> list[str]:
    """Entries of the typed path's directory that start with its last part, directories
    first (with a trailing /), hidden ones only when the part starts with a dot."""
    folder_text, _, stem = typed.rpartition("/")
    folder = Path(folder_text or ("/" if typed.startswith("/") else ".")).expanduser()
    prefix = f"{folder_text}/" if folder_text or typed.startswith("/") else ""
    try:
        entries = []
        for entry in folder.iterdir():
            if entry.name.startswith(stem) and (stem.startswith(".") or not entry.name.startswith(".")):
                entries.append(entry)
                if len(entries) >= limit:
                    break
    except OSError:
        return []

    def is_dir(entry: Path) -> bool:
        try:
            return entry.is_dir()
        except OSError:
            return False

    ranked = sorted(entries, key=lambda e: (not is_dir(e), e.name.lower()))
    return [f"{prefix}{e.name}/" if is_dir(e) else f"{prefix}{e.name}" for e in ranked]


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (read each time: the disk
    changes, so nothing is cached)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        matches = path_matches(value, limit=MAX_LISTED)
        return matches[0] if matches and matches[0] != value else None


def check_path(path: str) -> str | None:
    """What is wrong with reviewing `path` (one line), or None when it can be read as text."""
    from app.errors import DriftcheckError, error_line
    from app.source.inputs import read_text_file

    try:
        read_text_file(path)
    except DriftcheckError as exc:
        return error_line(exc)
    return None


class PathPrompt(ModalScreen[str | None]):
    """Ask for a file: Tab completes, the list shows what matches (Down to pick from it),
    Enter checks the path and closes only on a file that can be reviewed."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="path.close"),
        Binding("tab", "complete", "Complete", id="path.complete", priority=True),
        Binding("down", "to_list", "Matches", show=False, id="path.list"),
    ]

    DEFAULT_CSS = """
    PathPrompt #path-matches { height: auto; max-height: 10; border: none; }
    PathPrompt #path-error { color: $error; height: auto; }
    """

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            yield Input(self.value, placeholder="path/to/file.py", id="answer", suggester=PathSuggester())
            yield Static("", id="path-error")
            yield OptionList(id="path-matches")
            yield Label("[dim]Tab completes · Down lists matches · Enter reviews · Escape closes[/]")

    def on_mount(self) -> None:
        self.show_matches(self.value)

    @on(Input.Changed, "#answer")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#path-error", Static).update("")
        self.show_matches(event.value)

    def show_matches(self, typed: str) -> None:
        matches = self.query_one("#path-matches", OptionList)
        matches.clear_options()
        matches.add_options([Option(escape(m), id=m) for m in path_matches(typed)[:50]])

    def action_complete(self) -> None:
        """Tab: the longest common start of what matches (a shell's completion)."""
        answer = self.query_one("#answer", Input)
        if self.focused is not answer:
            answer.focus()
            return
        matches = path_matches(answer.value)
        if not matches:
            return
        import os.path

        common = os.path.commonprefix(matches)  # noqa: RUF071 -- a shell completes characters, not components
        if len(common) > len(answer.value):
            answer.value = common
            answer.cursor_position = len(common)

    def action_to_list(self) -> None:
        matches = self.query_one("#path-matches", OptionList)
        if matches.option_count:
            matches.focus()
            matches.highlighted = matches.highlighted or 0

    @on(OptionList.OptionSelected, "#path-matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        answer = self.query_one("#answer", Input)
        picked = event.option.id or ""
        answer.value = picked
        answer.cursor_position = len(picked)
        answer.focus()
        if not picked.endswith("/"):
            self.submit(picked)

    @on(Input.Submitted, "#answer")
    def _submitted(self, event: Input.Submitted) -> None:
        self.submit(event.value.strip())

    def submit(self, path: str) -> None:
        if not path:
            self.query_one("#path-error", Static).update("Type a path, or pick one from the list.")
            return
        problem = check_path(path)
        if problem is not None:
            self.query_one("#path-error", Static).update(escape(problem))
            return
        self.dismiss(path)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
