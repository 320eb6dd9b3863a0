"""The rules that turn finished tasks into an exit code: findings at or above --fail-on,
and failures, read from the tasks' public JSON.

The headless commands and the TUI exit alike because both apply this rule to the same
JSON. A task that failed is a provider failure (3), or bad usage (2) when its provider
could not be used as configured. A judge that failed is a provider failure too: a triage
whose grade silently went missing would pass for a graded one. With `--judge-optional`
a failed judge is only a warning. What to tell the user is returned as notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.errors import ExitCode, exit_code_for_kind
from app.notes import Note
from app.review.model import ReviewResult, severity_rank


def findings_exit(result: ReviewResult | None, fail_on: str) -> ExitCode:
    """1 when a finding is at or above `fail_on` (a severity, or "none"), else 0."""
    if fail_on == "none" or result is None:
        return ExitCode.OK
    worst = result.worst()
    return ExitCode.FINDINGS if worst is not None and severity_rank(worst) <= severity_rank(fail_on) else ExitCode.OK


def failed_judges(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The judges of one task (a triage) that gave no grade."""
    return [j for j in record.get("judges") or [] if j["status"] != "ok"]


def outcome_exit(records: Iterable[dict[str, Any]], *, judge_optional: bool = False) -> ExitCode:
    """The exit code for finished tasks, given each one's public JSON (a review, a triage,
    or every side and run of a compare)."""
    code = ExitCode.OK
    for record in records:
        if record["status"] != "ok":
            code = exit_code_for_kind((record.get("error") or {}).get("kind"))
            if code == ExitCode.USAGE:
                return code
        elif failed_judges(record) and not judge_optional:
            code = ExitCode.PROVIDER
    return code


def failed_judge_notes(labelled: dict[str, dict[str, Any]], *, judge_optional: bool) -> list[Note]:
    """One note per judge that failed; `labelled` maps a label ("" for a lone task, "A",
    "B run 2" for a compare) to the task's public JSON."""
    notes = []
    for label, record in labelled.items():
        for judge in failed_judges(record):
            where = f"{label}: " if label else ""
            what = f"{where}judge {judge['judge']} failed: {(judge.get('error') or {}).get('message')}"
            if judge_optional:
                notes.append(Note("warning", f"{what} (the answer stands without this grade: --judge-optional)"))
            else:
                notes.append(
                    Note(
                        "error",
                        f"{what} The answer itself is complete; pass --judge-optional to accept it without this grade",
                    )
                )
    return notes


def gate_exit(
    gating: list[dict[str, Any]], candidates: int, fail_on: str, *, consensus: int, repeat: int, agree: bool = False
) -> tuple[ExitCode, list[Note]]:
    """The exit code of a `--fail-on` gate over findings clustered across runs, and what
    to say about it: `gating` are the clusters that pass the gate, `candidates` how many
    clusters reached `fail_on` in at least one run."""
    if fail_on == "none":
        return ExitCode.OK, []
    rule = f"at or above {fail_on}"
    if repeat > 1:
        rule += f" in at least {consensus} of {repeat} runs" if consensus > 1 else f" in any of the {repeat} runs"
    if agree:
        rule += ", reported by both providers"
    held_back = candidates - len(gating)
    notes = []
    if gating:
        named = ", ".join(f'"{c["item"]}"' + (f" (L{c['line']})" if c.get("line") else "") for c in gating[:5])
        more = f" and {len(gating) - 5} more" if len(gating) > 5 else ""
        notes.append(Note("info", f"{len(gating)} finding(s) {rule}: {named}{more}"))
    if held_back:
        notes.append(Note("info", f"{held_back} finding(s) reached {fail_on} but not {rule}: they do not gate"))
    return (ExitCode.FINDINGS if gating else ExitCode.OK), notes
