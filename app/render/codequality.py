"""GitLab's code-quality report (a subset of the Code Climate issue format) for a review
of a change or of several files: one issue per finding, with the same stable fingerprint
SARIF carries, so GitLab keeps one issue across pushes and providers."""

from __future__ import annotations

from typing import Any

from app.review.change import ChangeOutcome

# GitLab's severities: info, minor, major, critical, blocker.
_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}


def change_codequality(outcome: ChangeOutcome) -> list[dict[str, Any]]:
    return [
        {
            "description": f"{finding.title}: {finding.explanation}",
            "check_name": f"driftcheck/{finding.category}",
            "fingerprint": finding.fingerprint,
            "severity": _SEVERITY[finding.severity],
            "categories": ["Security" if finding.category == "security" else "Bug Risk"],
            "location": {"path": finding.path, "lines": {"begin": finding.line_start, "end": finding.line_end}},
        }
        for finding in outcome.result.findings
    ]
