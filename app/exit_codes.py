"""Exit codes (DESIGN.md), and the one rule that turns finished tasks into one.

0 done, 1 findings at or above --fail-on, 2 bad usage or input, 3 provider failure after
retries and fallback, 130 cancelled. The rule reads the tasks' public JSON, so the
headless commands and the TUI exit alike. A judge that failed is a provider failure too:
a triage whose grade silently went missing would pass for a graded one. With
`--judge-optional` a failed judge is only a warning.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_PROVIDER, EXIT_CANCELLED = 0, 1, 2, 3, 130

# Error kinds of a provider that cannot be used as configured (a bad SPEC, no key): usage.
CONFIGURATION_KINDS = frozenset({"configuration", "unknown_provider", "missing_key"})


def failed_judges(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The judges of one task (a triage) that gave no grade."""
    return [j for j in record.get("judges") or [] if j["status"] != "ok"]


def outcome_exit(records: Iterable[dict[str, Any]], *, judge_optional: bool = False) -> int:
    """The exit code for finished tasks, given each one's public JSON (a review, a triage,
    or every side and run of a compare)."""
    code = EXIT_OK
    for record in records:
        if record["status"] != "ok":
            if (record.get("error") or {}).get("kind") in CONFIGURATION_KINDS:
                return EXIT_USAGE
            code = EXIT_PROVIDER
        elif failed_judges(record) and not judge_optional:
            code = EXIT_PROVIDER
    return code


def say_failed_judges(labelled: dict[str, dict[str, Any]], *, judge_optional: bool) -> None:
    """One line on stderr per judge that failed; `labelled` maps a label ("" for a lone
    task, "A", "B run 2" for a compare) to the task's public JSON."""
    for label, record in labelled.items():
        for judge in failed_judges(record):
            where = f"{label}: " if label else ""
            what = f"{where}judge {judge['judge']} failed: {(judge.get('error') or {}).get('message')}"
            if judge_optional:
                print(
                    f"driftcheck: warning: {what} (the answer stands without this grade: --judge-optional)",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                print(
                    f"driftcheck: error: {what} The answer itself is complete; pass --judge-optional to accept "
                    f"it without this grade",
                    file=sys.stderr,
                    flush=True,
                )
