"""What reaches a terminal: control characters from a provider or an input file made inert.

A model reply (or a prompt-injected one, or a file under review) can hold escape
sequences: `ESC ] 52 ; c ; ... ESC \\` writes to the user's clipboard, `ESC [ 2 J` clears
the screen, colour codes and a bare carriage return forge output. Every control
character except tab and newline — C0, DEL and C1, so every escape sequence — is shown
as a visible `\\xNN` instead of being obeyed. One function does it, applied at each way
out: the standard streams (`terminal_streams`, for every plain write), the rich console
(`app.render.console.SafeConsole`), the Markdown renderers, and the TUI's run messages.
JSON keeps the raw text, escaped (`json_text`); history keeps it as it was.

Imports nothing beyond the standard library, so the command line can use it at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TextIO, TypeVar

# C0 except tab and newline, DEL, C1; a CR directly before a newline is a Windows line end.
_CONTROL = re.compile(r"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What json.dumps(ensure_ascii=False) leaves raw: DEL and C1.
_JSON_RAW = re.compile(r"[\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return "\n" if char == "\r\n" else f"\\x{ord(char):02x}"


def neutralise(text: str) -> str:
    """`text` with every control character but tab and newline shown, not obeyed."""
    return _CONTROL.sub(_visible, text) if _CONTROL.search(text) else text


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """JSON that keeps non-ASCII text readable but escapes every control character:
    `ensure_ascii=False` escapes C0 itself, not DEL or C1 (a C1 CSI is an escape sequence)."""
    import json

    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


F = TypeVar("F", bound=Callable[..., str])


def inert_text(render: F) -> F:
    """For a renderer whose text goes to a terminal or a file someone will `cat`
    (Markdown): its output, neutralised."""

    @wraps(render)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        return neutralise(render(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


class NeutralisingStream:
    """A text stream that neutralises what is written to it; everything else is the
    wrapped stream's. `raw` is that stream, for a writer that neutralises for itself and
    has escape sequences of its own to send (the rich console's colours)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(neutralise(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stream(stream: TextIO) -> TextIO:
    """The stream under a NeutralisingStream, or the stream itself."""
    return stream.raw if isinstance(stream, NeutralisingStream) else stream


@contextmanager
def terminal_streams() -> Iterator[None]:
    """Within: every plain write to stdout and stderr is neutralised."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None:
        sys.stdout = NeutralisingStream(sys.stdout)
    if sys.stderr is not None:
        sys.stderr = NeutralisingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
