"""The triage's public JSON, as models: what `triage --format json` prints, history stores
and `compare` holds as each side (`driftcheck schema triage`). The judge object is also
what an eval keeps for each grade."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from app.calls.contract import Contract, ErrorInfo, Metrics, Number, Provenance, TaskOutput
from app.triage.model import (
    Action,
    ActiveTriage,
    EscalationDecision,
    FollowUp,
    Hypothesis,
    PostmortemTriage,
    RootCause,
)

TriageMode = Literal["active", "postmortem"]


class TriageInput(Contract):
    path: str
    sha256: str
    chars: int
    encoding: str


# The answer as reported: the reply models of app.triage.model (whose validators forgive a
# model's spelling), closed, down to every nested object.
_CLOSED = ConfigDict(extra="forbid")


class ActionOut(Action):
    model_config = _CLOSED


class RootCauseOut(RootCause):
    model_config = _CLOSED


class EscalationOut(EscalationDecision):
    model_config = _CLOSED


class HypothesisOut(Hypothesis):
    model_config = _CLOSED


class FollowUpOut(FollowUp):
    model_config = _CLOSED


class ActiveResult(ActiveTriage):
    """An `active` answer: actions in order, severity and why, the likely cause, the
    escalation decision and cautions."""

    model_config = _CLOSED
    actions: list[ActionOut]  # type: ignore[assignment]  # the closed item model; lists are invariant
    root_cause: RootCauseOut
    escalation: EscalationOut


class PostmortemResult(PostmortemTriage):
    """A `postmortem` answer: follow-ups, severity, cause, contributing factors, the
    hypotheses ruled out, detection gaps and the timeline."""

    model_config = _CLOSED
    follow_ups: list[FollowUpOut]  # type: ignore[assignment]  # the closed item model; lists are invariant
    root_cause: RootCauseOut
    alternative_hypotheses: list[HypothesisOut]  # type: ignore[assignment]  # the closed item model; lists are invariant


class PointCovered(Contract):
    point: str
    covered: bool


class Violation(Contract):
    """A harmful action the reference warns against, and the answer's actions that recommend it."""

    action: str
    recommended_in: list[str]


class ReferenceChecks(Contract):
    """Actionability always; with a reference, its points covered and the harmful actions
    recommended (those three keys are absent without one)."""

    absent_unless_set = frozenset({"must_make", "coverage", "must_not_violations"})

    actions: int
    actions_with_owner_and_timeline: int
    all_actionable: bool
    reference: str | None
    must_make: list[PointCovered] = Field(default_factory=list)
    coverage: Number | None = None
    must_not_violations: list[Violation] = Field(default_factory=list)


class JudgeOut(Contract):
    """One judge's grade: diagnosis and response quality (1-5 each), their reasons and total.
    `self_graded`: the judge is of the answering model's family. `skipped` (in an eval): not
    sent, because the judge's provider refused an earlier request (it has no `provenance`)."""

    absent_unless_set = frozenset({"provenance"})

    judge: str
    status: Literal["ok", "failed", "skipped"]
    self_graded: bool
    diagnosis: int | None
    diagnosis_reason: str | None
    quality: int | None
    quality_reason: str | None
    total: int | None
    error: ErrorInfo | None
    metrics: Metrics | None
    provenance: Provenance | None = None


class JudgeSpread(Contract):
    """Max minus min among the judges that answered, per dimension; `notable` at 2 or more."""

    diagnosis: int
    quality: int
    total: int
    notable: bool


class TriageOutput(TaskOutput):
    """`triage --format json`: the shared task fields, then the mode, the business context,
    the reference checks and the judges."""

    task: Literal["triage"]
    input: TriageInput
    result: ActiveResult | PostmortemResult | None
    mode: TriageMode
    context: dict[str, str]
    reference_checks: ReferenceChecks | None
    judges: list[JudgeOut]
    judge_disagreement: JudgeSpread | None
    judges_dropped: list[str]
