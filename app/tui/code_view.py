"""The reviewed file, read-only, numbered and highlighted (a Textual TextArea): in its
own module so that importing the TUI's other widgets does not import TextArea."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import TextArea
from textual.widgets.text_area import Selection

# TextArea's names for the grammars driftcheck's source module knows.
_TEXTAREA_LANGUAGE = {
    "python": "python",
    "javascript": "javascript",
    "go": "go",
    "java": "java",
    "rust": "rust",
    "bash": "bash",
}


class CodeView(TextArea):
    """The reviewed file, read-only, numbered and highlighted; `show_lines` selects a range."""

    def __init__(self, text: str = "", language: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            text,
            language=_TEXTAREA_LANGUAGE.get(language or ""),
            read_only=True,
            show_line_numbers=True,
            soft_wrap=False,
            **kwargs,
        )

    def show_source(self, text: str, language: str | None) -> None:
        from app.render.terminal import neutralise

        self.load_text(neutralise(text))  # a file's escape sequences are shown, not obeyed
        self.language = _TEXTAREA_LANGUAGE.get(language or "")

    def show_file(self, path: str, language: str | None) -> None:
        """The file as it is now (a stored review may be older than the file)."""
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = f"({path} cannot be read now; the findings are as recorded)"
        self.show_source(text, language)

    def show_lines(self, start: int, end: int) -> None:
        last = self.document.line_count
        start, end = max(1, min(start, last)), max(1, min(end, last))
        # The cursor is the selection's end: put it at the start of the range, so the view
        # scrolls to the first cited line and not sideways to the end of the last one.
        self.selection = Selection((end - 1, len(self.document.get_line(end - 1))), (start - 1, 0))
        self.scroll_cursor_visible(center=True)
