"""Triage answers and judge verdicts built from incident references, for scripting the
fake server: a good answer makes every must-make point (in the reference's own keywords)
and warns against every must-not action; a bad one recommends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.triage.reference import find_reference

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = sorted(p.name for p in (ROOT / "incidents").glob("*.md") if p.name != "README.md")


def _reference(incident: str):
    return find_reference(ROOT / "incidents" / incident)


def active_answer(incident: str, *, harmful: bool = False, severity: str = "P2", note: str = "") -> dict[str, Any]:
    ref = _reference(incident)
    actions = [
        {
            "priority": n,
            "action": f"Check and act on: {p.text} ({p.keywords[0]})",
            "owner": "platform on-call",
            "timeline": "within 15 minutes",
        }
        for n, p in enumerate(ref.must_make, start=1)
    ]
    if harmful:
        actions.append(
            {
                "priority": len(actions) + 1,
                "action": f"Run {ref.must_not[0].keywords[0]} to recover",
                "owner": "on-call",
                "timeline": "now",
            }
        )
    return {
        "actions": actions,
        "severity": severity,
        "severity_reason": f"Customers are affected now.{note}",
        "root_cause": {"summary": ref.root_cause, "confidence": "medium", "evidence": list(ref.key_signals)},
        "escalation": {"decision": "escalate now", "reason": "Customer impact is growing."},
        "cautions": [f"Do not: {p.text}" for p in ref.must_not],
    }


def postmortem_answer(incident: str) -> dict[str, Any]:
    ref = _reference(incident)
    return {
        "follow_ups": [
            {"action": f"{p.text} ({p.keywords[0]})", "owner": "platform team", "timeline": "this sprint"}
            for p in ref.must_make
        ],
        "severity": "P2",
        "severity_reason": "Degraded service for customers.",
        "root_cause": {"summary": ref.root_cause, "confidence": "high", "evidence": list(ref.key_signals)},
        "contributing_factors": ["No alert on the growth rate."],
        "alternative_hypotheses": [{"hypothesis": "A traffic spike", "assessment": "Traffic was flat."}],
        "detection_gaps": ["Nothing alerted before users did."],
        "timeline_summary": "It started, it was noticed, it was mitigated.",
    }


def answer_text(incident: str, mode: str, **kw: Any) -> str:
    return json.dumps(active_answer(incident, **kw) if mode == "active" else postmortem_answer(incident))


def verdict(diagnosis: int, quality: int) -> str:
    return json.dumps(
        {
            "diagnosis_reason": f"Diagnosis earns {diagnosis}.",
            "diagnosis": diagnosis,
            "quality_reason": f"Actions earn {quality}.",
            "quality": quality,
        }
    )
