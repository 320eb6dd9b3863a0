"""What a triage answer is, in each mode.

`active` is for the person fighting the incident now: a severity with its reason, the
likely cause with a confidence, ordered actions each with an owner and a timeline, an
escalation decision, and cautions — the things that would make it worse. `postmortem`
is for afterwards: contributing factors, the hypotheses that were ruled out and why,
detection gaps and follow-ups. Actions come first in `active` so they stream first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["P1", "P2", "P3", "P4"]
Escalation = Literal["escalate now", "monitor", "none"]
Confidence = Literal["high", "medium", "low"]
MODES = ("active", "postmortem")


class Action(BaseModel):
    model_config = ConfigDict(extra="ignore")

    priority: int = Field(ge=1, description="1 is first")
    action: str = Field(min_length=1, description="what to do, specifically")
    owner: str = Field(description="the role that does it, e.g. on-call DBA, incident commander")
    timeline: str = Field(description="when, e.g. now, within 15 minutes, before the 01:00 batch")


class RootCause(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(description="the most likely cause, in a sentence or two")
    confidence: Confidence
    evidence: list[str] = Field(description="the signals in the report that point to it")


class EscalationDecision(BaseModel):
    model_config = ConfigDict(extra="ignore")

    decision: Escalation
    reason: str

    @field_validator("decision", mode="before")
    @classmethod
    def _decision(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text.startswith("escalate"):
                return "escalate now"
            if text in ("no escalation", "no escalation needed", "no", "not needed"):
                return "none"
            return text
        return value


class _Graded(BaseModel):
    """Both modes grade severity; "SEV1", "p1" and "P1 - critical" all mean P1."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("severity", mode="before", check_fields=False)
    @classmethod
    def _severity(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().upper().replace("SEV", "P").replace(" ", "")
            return text[:2] if len(text) >= 2 and text[0] == "P" and text[1] in "1234" else value
        return value


class ActiveTriage(_Graded):
    actions: list[Action] = Field(description="ordered, most urgent first")
    severity: Severity
    severity_reason: str = Field(description="one line: why this severity, including business impact")
    root_cause: RootCause
    escalation: EscalationDecision
    cautions: list[str] = Field(description="actions that could make this worse, and why")


class Hypothesis(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hypothesis: str
    assessment: str = Field(description="why it is less likely, or what would confirm it")


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: str = Field(min_length=1)
    owner: str
    timeline: str


class PostmortemTriage(_Graded):
    follow_ups: list[FollowUp] = Field(description="what to change so it does not happen again")
    severity: Severity
    severity_reason: str
    root_cause: RootCause
    contributing_factors: list[str]
    alternative_hypotheses: list[Hypothesis]
    detection_gaps: list[str] = Field(description="why it was not caught sooner, and what would catch it")
    timeline_summary: str = Field(description="what happened, in order, as far as the report tells")


def result_model(mode: str) -> type[BaseModel]:
    return ActiveTriage if mode == "active" else PostmortemTriage


def streamed_list(mode: str) -> tuple[str, type[BaseModel]]:
    """The list whose items are shown as they arrive, and their model."""
    return ("actions", Action) if mode == "active" else ("follow_ups", FollowUp)
