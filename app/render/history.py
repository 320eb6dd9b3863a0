"""How history's runs are shown in a table (the `history` command and the history screen):
a short input name, the time, and a cost that says when part of it is unknown."""

from __future__ import annotations

import time
from typing import Any

from app.render.listing import Column
from providers.pricing import format_cost


def short_ref(ref: str | None) -> str:
    """The file name and its folder: enough to recognise, short enough for a table."""
    if not ref:
        return ""
    parts = ref.replace("\\", "/").rstrip("/").split("/")
    return "/".join(parts[-2:])


def when_text(ts: float | None, *, short: bool = False) -> str:
    """The local time; `short` leaves out the year (for a screen at 80 columns)."""
    return "" if ts is None else time.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M", time.localtime(ts))


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


STATUS_STYLE = {
    "ok": "green",
    "failed": "red",
    "partial": "yellow",
    "stopped": "yellow",
    "interrupted": "yellow",
    "cancelled": "yellow",
}


def latency_text(ms: float | None) -> str:
    return "" if ms is None else f"{ms / 1000:.1f} s"


def _status_style(status: str) -> str:
    return STATUS_STYLE.get(status, "")


# One listing of runs for `history list` and the history screen: at 80 columns the id,
# time, task, status, score, cost and latency stay; the input, the providers and the call
# count go first (see app.render.listing).
RUN_COLUMNS = (
    Column("id"),
    Column("when"),
    Column("task"),
    Column("input", free=True, min_width=12, drop=3),
    Column("providers", free=True, min_width=14, drop=4),
    Column("status", style=_status_style),
    Column("score", justify="right", drop=1),
    Column("calls", justify="right", drop=5),
    Column("cost", justify="right", drop=2),
    Column("latency", justify="right", drop=2),
)


def run_cells(run: dict[str, Any], *, short_time: bool = False) -> list[str]:
    """A listed run (a row of `Store.list_runs`) as the cells of RUN_COLUMNS; a run that
    made no call has no cost to show."""
    return [
        run["id"],
        when_text(run["created_at"], short=short_time),
        run["task"],
        short_ref(run["input_ref"]),
        run["providers"] or "",
        run["status"],
        "" if run["score"] is None else str(run["score"]),
        str(run["calls"]),
        cost_text(run["cost_usd"], run["calls_without_cost"] or 0) if run["calls"] else "",
        latency_text(run["latency_ms"]),
    ]
