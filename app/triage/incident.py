"""What counts as an incident report, and how much of one is sent.

Text that is clearly not an incident (a handful of words, mostly symbols) is refused
before any provider is contacted; very long text is trimmed, head and tail kept, with a
check and a note that say so.
"""

from __future__ import annotations

import re

from app.errors import InputError
from app.source.inputs import TextInput
from providers import Check

MAX_INCIDENT_CHARS = 40_000


def check_incident_text(text_input: TextInput) -> Check | None:
    """Refuse what is clearly not an incident; trim what is too long to send, returning
    the `input_trimmed` check that says so (None when nothing was trimmed)."""
    text = text_input.text
    words = re.findall(r"[A-Za-z]{2,}", text)
    letters = sum(ch.isalpha() for ch in text)
    visible = sum(not ch.isspace() for ch in text) or 1
    if len(words) < 5 or letters / visible < 0.4:
        raise InputError(
            f"{text_input.path} does not look like an incident report ({len(text.strip())} characters, "
            f"{len(words)} words): paste the alert, the logs or a description of what is happening"
        )
    if len(text) > MAX_INCIDENT_CHARS:
        head, tail = MAX_INCIDENT_CHARS // 2, MAX_INCIDENT_CHARS // 2 - 200
        dropped = len(text) - head - tail
        text_input.text = f"{text[:head]}\n[... {dropped:,} characters trimmed by driftcheck ...]\n{text[-tail:]}"
        note = (
            f"the incident text is {len(text):,} characters; the first {head:,} and the last "
            f"{tail:,} were sent and {dropped:,} in between were left out"
        )
        text_input.notes.append(note)
        return Check("input_trimmed", "warning", note, "The middle of the text was not seen by the model.")
    return None
