"""How history's runs are shown in a table (the `history` command and the history screen):
a short input name, the time, and a cost that says when part of it is unknown."""

from __future__ import annotations

import time

from providers.pricing import format_cost


def short_ref(ref: str | None) -> str:
    """The file name and its folder: enough to recognise, short enough for a table."""
    if not ref:
        return ""
    parts = ref.replace("\\", "/").rstrip("/").split("/")
    return "/".join(parts[-2:])


def when_text(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def cost_text(value: float | None, unknown: int = 0) -> str:
    """A cost; "unknown" when no call had a price, "+?" when some had none."""
    text = format_cost(value) if value is not None or not unknown else "unknown"
    return text + ("+?" if unknown and value is not None else "")
