"""The score and one-line summary history keeps for a run, read from its public JSON, so
a run recorded by the command line and one recorded by the TUI read alike in
`driftcheck history`."""

from __future__ import annotations

from typing import Any

from app.compare.report import report_summary


def run_summary(record: dict[str, Any]) -> tuple[int | None, str | None]:
    """(score, summary) of a review, a triage or a compare report; (None, None) for a task
    that has no result."""
    if record.get("task") == "compare":
        return None, report_summary(record)
    result = record.get("result")
    if result is None:
        return None, None
    if record.get("task") == "review":
        return result.get("score"), result.get("summary")
    if record.get("task") == "triage":
        return None, f"{result['severity']} ({record.get('mode')}): {result['root_cause']['summary']}"
    return None, None
