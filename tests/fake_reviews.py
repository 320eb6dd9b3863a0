"""Review replies built from answer keys, for scripting the fake provider server.

A reply written from a key lets a test state exactly what a "model" found — all of
the planted issues, some of them, a few lines off, plus findings the key does not
list — and then check what driftcheck made of it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_code"


def key_issues(sample: str) -> list[dict[str, Any]]:
    return tomllib.loads((SAMPLES / f"{sample}.key.toml").read_text())["issue"]


def finding_for(issue: dict[str, Any], lines: list[str], *, shift: int = 0) -> dict[str, Any]:
    """A finding that reports `issue` the way a competent model would word it."""
    start, end = issue["lines"][0], issue["lines"][-1]
    words = issue["keywords"]
    return {
        "line_start": start + shift,
        "line_end": end + shift,
        "severity": issue["severity"],
        "category": issue["category"],
        "title": f"{words[0].capitalize()} {words[1]} problem",
        "explanation": f"This code has a {' '.join(words[:3])} issue that can hurt in production.",
        "suggestion": f"Address the {words[-1]} before shipping.",
        "evidence": lines[start - 1].strip(),  # the real line, so validation can confirm it
    }


def keyed_review(
    sample: str,
    *,
    drop: tuple[str, ...] = (),
    shift: int = 0,
    extra: tuple[dict[str, Any], ...] = (),
    score: int = 3,
    summary: str | None = None,
) -> dict[str, Any]:
    lines = (SAMPLES / sample).read_text().splitlines()
    findings = [finding_for(i, lines, shift=shift) for i in key_issues(sample) if i["id"] not in drop]
    return {
        "findings": [*findings, *extra],
        "summary": summary or "Several serious problems; not safe to ship as it stands.",
        "score": score,
    }


def keyed_review_text(sample: str, **kw: Any) -> str:
    return json.dumps(keyed_review(sample, **kw))


def plain_finding(
    line: int,
    evidence: str,
    *,
    title: str = "Unclear naming",
    category: str = "maintainability",
    severity: str = "low",
    explanation: str = "The name does not say what the value holds.",
    suggestion: str = "Rename it.",
) -> dict[str, Any]:
    return {
        "line_start": line,
        "line_end": line,
        "severity": severity,
        "category": category,
        "title": title,
        "explanation": explanation,
        "suggestion": suggestion,
        "evidence": evidence,
    }
