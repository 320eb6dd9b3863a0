"""A notification as it was shown, kept by the app so it can be read after its toast
fades (the notifications log, f2). Imports nothing: the app holds these from its start."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    at: float
    title: str
    message: str
    severity: str
    markup: bool
