"""The rich console every command line renderer prints with: colours and layout from
rich, and no control character from a provider or an input file obeyed.

rich strips a few control characters (BEL, backspace, CR) from text but passes ESC and
C1 through, so a model's `ESC ] 52 ; ...` would reach the terminal. This console
neutralises every text segment it renders (`app.render.terminal.neutralise`); rich's own
styling and cursor sequences are control segments and go out as they are. It writes to
the real stream under `terminal_streams`, which would otherwise neutralise those too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any, TextIO

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from app.render.terminal import neutralise, raw_stream


class SafeConsole(Console):
    @property
    def file(self) -> TextIO:
        current: TextIO = Console.file.fget(self)  # type: ignore[attr-defined]
        return raw_stream(current)

    @file.setter
    def file(self, new_file: IO[str]) -> None:
        Console.file.fset(self, new_file)  # type: ignore[attr-defined]

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # Before layout, so a shown `\x1b` takes its width in a table cell or a wrapped line.
        return super().render_str(neutralise(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        # After layout too, for text that never was a string here (Text, Syntax, tables of Text).
        for segment in super().render(renderable, options):
            if segment.control or neutralise(segment.text) is segment.text:
                yield segment
            else:
                yield Segment(neutralise(segment.text), segment.style, segment.control)
