"""Small screens over the others: a SPEC prompt, the help, and a stored run as it was."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class AskPrompt(ModalScreen[str | None]):
    """Ask for one line (a SPEC, a path); Enter returns it, Escape returns None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="dialog.close")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            yield Input(self.value, placeholder=self.placeholder, id="answer")
            yield Label("[dim]Enter to go ahead · Escape to close[/]")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


HELP = """\
# driftcheck

Review code and triage incidents with LLMs, and see the drift a provider switch would cause.

| key | where | what |
|---|---|---|
| `ctrl+p` | everywhere | command palette: every action by name |
| `f1` / `?` | everywhere | this help |
| `v` `c` `t` `h` `s` | everywhere | review, compare, triage, history, settings |
| `escape` | a running task | cancel it (the calls so far are recorded as cancelled) |
| `enter` | a finding | select its lines in the code |
| `p` | review | re-run with another provider |
| `r` | review | re-run |
| `enter` | a matched pair (compare) | highlight it on both sides |
| `ctrl+r` | triage | run the triage |
| `enter` / `space` / `d` | history | open a run / mark it / compare the two marked |
| `ctrl+s` | settings | save to the config file |
| `ctrl+q` | everywhere | quit |

Every screen has a headless twin: `driftcheck review`, `compare`, `triage`, `history`,
`config set`. Keys are never shown or stored: set them in the environment
(`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`).
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is not needed for the first frame

        with VerticalScroll(classes="dialog wide"):
            yield Markdown(HELP)


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
