"""What the domain wants the user told, without saying how.

Domain code never prints. Something worth knowing before the result — a file decoded
with care, a secret redacted, a cost estimate, history that is off for this run — is a
`Note`, returned or passed to a `notify` callable. The command line prints each one on
stderr the moment it arrives (so the order is the order things happened); the TUI shows
them as notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# "info" is said plainly; the others are labelled ("driftcheck: warning: ...").
NoteLevel = Literal["info", "note", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Note:
    level: NoteLevel
    text: str


Notify = Callable[[Note], None]


def ignore(note: Note) -> None:
    """A `notify` for callers that have no one to tell."""


class Notes:
    """A `notify` that keeps what it is told, in order (the TUI reads them after preparing)."""

    def __init__(self) -> None:
        self.kept: list[Note] = []

    def __call__(self, note: Note) -> None:
        self.kept.append(note)
