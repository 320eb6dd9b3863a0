"""How history's runs are shown in a table (the `history` command and the history screen):
a short input name, the time, and a cost that says when part of it is unknown."""

from __future__ import annotations

import time
from typing import Any

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


def provenance_text(provenance: dict[str, Any] | None) -> str | None:
    """One call's provenance on one line: who served it, with what, and short hashes of
    what was sent (enough to see two calls differ); None for a call recorded without it."""
    if not provenance:
        return None
    p = provenance
    parts = [f"served by {p['served_model']}" if p.get("served_model") else "served model not reported"]
    parts += [f"{label} {p[key]}" for key, label in _SHOWN if p.get(key)]
    if p.get("sdk"):
        parts.append(f"{p['sdk']} {p.get('sdk_version') or '?'}")
    hashes = [f"{label} {p[key][:8]}" for key, label in _HASHES if p.get(key)]
    if hashes:
        parts.append("sha256 " + ", ".join(hashes))
    return " · ".join(parts)


_SHOWN = (("system_fingerprint", "fingerprint"), ("service_tier", "tier"), ("request_id", "request"))
_HASHES = (
    ("prompt_sha256", "prompt"),
    ("schema_sha256", "schema"),
    ("params_sha256", "params"),
    ("input_sha256", "input"),
)
