"""Small screens over the others: a SPEC prompt, a yes/no question, the help, the
notifications log, and a stored run as it was."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static

if TYPE_CHECKING:
    from app.tui.notices import Notice


class AskPrompt(ModalScreen[str | None]):
    """Ask for one line (a SPEC, a path); Enter returns it, Escape returns None. `then`
    gets the answer too: for a prompt that replaces a dialog (see `Choose`), which has no
    result callback of its own."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="dialog.close")]

    def __init__(
        self,
        question: str,
        value: str = "",
        placeholder: str = "",
        *,
        then: Callable[[str | None], None] | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.then = then

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            answer = Input(self.value, placeholder=self.placeholder, id="answer")
            yield answer
            yield Label("[dim]Enter to go ahead · Escape to close[/]")
        # Focused now, not once mounted: a key typed the instant the dialog opens goes to
        # the line (and waits for it) rather than to a screen with nothing focused.
        self.set_focus(answer, scroll_visible=False)

    def on_key(self, event: events.Key) -> None:
        """A character that reached the dialog itself (typed before its line had focus)
        goes into the line."""
        if event.is_printable:
            event.stop()
            self.query_one("#answer", Input).post_message(events.Key(event.key, event.character))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.answer(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.answer(None)

    def answer(self, value: str | None) -> None:
        self.dismiss(value)
        if self.then is not None:
            self.then(value)


class Choose(ModalScreen[str | None]):
    """Pick one of a few choices (an export format); Enter picks, Escape closes. With
    `then`, the pick opens the dialog it returns in this one's place, at once: a key typed
    right after Enter goes to that dialog, not to the screen below (a dismiss callback runs
    only after this dialog has gone)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="choose.close")]

    def __init__(
        self,
        question: str,
        choices: Sequence[tuple[str, str]],
        *,
        then: Callable[[str], Screen[Any] | None] | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.choices = list(choices)  # (label, value)
        self.then = then

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="dialog"):
            yield Label(self.question)
            choices = OptionList(*(Option(label, id=value) for label, value in self.choices), id="choices")
            choices.highlighted = 0  # Enter picks the first at once
            yield choices
            yield Label("[dim]Enter to pick · Escape to close[/]")

    following: Screen[Any] | None = None
    typed_ahead: list[events.Key] | None = None  # after Enter: for the dialog that follows

    def on_key(self, event: events.Key) -> None:
        """Characters typed right after Enter arrive here before the pick is handled (a
        binding acts once the key has passed through the screen): they are kept, in
        order, for the dialog that follows rather than lost."""
        if event.key == "enter":
            self.typed_ahead = [] if self.typed_ahead is None else self.typed_ahead
        elif self.typed_ahead is not None and event.is_printable:
            event.stop()
            self.typed_ahead.append(event)
            self.hand_on()

    def on_option_list_option_selected(self, event: Any) -> None:
        if self.following is not None:  # a second Enter typed ahead: picked already
            return
        self.following = self.then(event.option.id) if self.then is not None else None
        if self.following is None:
            self.dismiss(event.option.id)
            return
        self.app.switch_screen(self.following)
        self.hand_on()

    def hand_on(self) -> None:
        if self.following is not None and self.typed_ahead:
            for key in self.typed_ahead:
                self.following.post_message(events.Key(key.key, key.character))
            self.typed_ahead = []

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes/no question; Escape is no."""

    BINDINGS = [Binding("escape", "no", "Stay", id="confirm.no")]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            with Horizontal(classes="buttons"):
                yield Button(self.no, id="no", variant="primary")
                yield Button(self.yes, id="yes", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_no(self) -> None:
        self.dismiss(False)


_SEVERITY_LABEL = {"information": "[green]info[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}


def notice_line(notice: Notice, *, with_time: bool = True) -> str:
    """One notification as a line of Textual markup: time, severity, title, message."""
    import time

    from app.tui.widgets import escape

    message = notice.message if notice.markup else escape(notice.message)
    title = f"[b]{escape(notice.title)}[/]: " if notice.title else ""
    when = time.strftime("%H:%M:%S", time.localtime(notice.at))
    said = f"{_SEVERITY_LABEL.get(notice.severity, notice.severity)} {title}{message}"
    return f"[dim]{when}[/] {said}" if with_time else said


class NotificationsScreen(ModalScreen[None]):
    """Every notification shown so far, newest last; Escape (or f2) closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="notifications.close"),
        Binding("f2", "dismiss", "Close", show=False, id="notifications.close2"),
    ]

    def __init__(self, notices: Sequence[Notice]) -> None:
        super().__init__()
        self.notices = list(notices)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="notifications") as scroll:
            scroll.border_title = f"Notifications ({len(self.notices)}) · escape closes"
            if not self.notices:
                yield Static("No notifications yet.", classes="notice")
            for notice in self.notices:
                yield Static(notice_line(notice), classes="notice")

    def on_mount(self) -> None:
        self.query_one("#notifications").scroll_end(animate=False)


HELP_INTRO = """\
# driftcheck

Review code and triage incidents with LLMs, and see the drift a provider switch would cause.
Every key below is also in the command palette (ctrl+p), by name. Letter keys act
outside text fields and buttons, so typing never jumps to another screen.
"""

HELP_OUTRO = """\
Every screen has a headless twin: `driftcheck review`, `compare`, `triage`, `history`,
`config set`. Keys are never shown or stored: set them in the environment
(`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`).
"""


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from (app.tui.keys reads them from the
    bindings), between a line on what driftcheck is and one on its headless commands."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="help.close")]

    def __init__(self, keys_markdown: str) -> None:
        super().__init__()
        self.text = "\n".join([HELP_INTRO, keys_markdown, HELP_OUTRO])

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is not needed for the first frame

        with VerticalScroll(classes="dialog wide"):
            yield Markdown(self.text)


class DocumentScreen(ModalScreen[None]):
    """A Markdown document (a stored run, a drift report), closed with Escape."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="document.close")]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown

        with VerticalScroll(classes="dialog wide"):
            yield Markdown(self.markdown)
