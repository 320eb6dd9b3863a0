"""The compare report's public JSON, as models (`driftcheck schema compare`): both sides in
their task's own output, the drift between them, and the noise within each side.

The drift of reviews is also what `history diff --format json` prints after its own keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SerializeAsAny, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from app.calls.contract import Contract, Number
from app.review.contract import ReviewInput, ReviewOutput
from app.triage.contract import TriageInput, TriageOutput


def _as_stored(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A baseline read from history is kept as it was stored: a run recorded by an older
    driftcheck may lack keys added since, and a compare against it must still work."""
    try:
        return handler(value)
    except ValidationError:
        if isinstance(value, dict):
            return value
        raise


# Each side is a review or a triage output, told apart by its `task` (or a stored baseline as it was).
SideOutput = Annotated[
    SerializeAsAny[Annotated[ReviewOutput | TriageOutput, Field(discriminator="task")]], WrapValidator(_as_stored)
]


class MetricDelta(Contract):
    a: Number | None
    b: Number | None
    ratio_b_to_a: Number | None


class MetricsDrift(Contract):
    ttft_ms: MetricDelta
    latency_ms: MetricDelta
    input_tokens: MetricDelta
    output_tokens: MetricDelta
    cost_usd: MetricDelta


# --- reviews ---------------------------------------------------------------------------------


class MatchedFinding(Contract):
    """A finding of A paired with one of B: ids, first lines, severities, titles as [A, B]."""

    a: str
    b: str
    lines: list[int]
    severity: list[str]
    similarity: Number
    title: list[str]


class OneSideFinding(Contract):
    id: str
    line: int
    severity: str
    title: str


class ScoreDelta(Contract):
    a: int | None
    b: int | None
    delta: int | None


class CountDelta(Contract):
    a: int
    b: int
    delta: int


class CountsDrift(Contract):
    critical: CountDelta
    high: CountDelta
    medium: CountDelta
    low: CountDelta
    info: CountDelta


class KeyRecall(Contract):
    recall: Number
    precision: Number | None


class SidesKeyRecall(Contract):
    a: KeyRecall | None
    b: KeyRecall | None


class ReviewDrift(Contract):
    """`agreement`: the share of all distinct findings (either side) both sides reported."""

    matched: list[MatchedFinding]
    only_a: list[OneSideFinding]
    only_b: list[OneSideFinding]
    agreement: Number
    severity_disagreements: list[MatchedFinding]
    score: ScoreDelta
    counts: CountsDrift
    answer_key: SidesKeyRecall | None
    metrics: MetricsDrift


class DiffHead(Contract):
    """Which two stored runs `history diff` compares, whether they reviewed the same bytes,
    and what each cost."""

    a: str
    b: str
    same_input: bool
    cost_usd: list[Number]


class HistoryDiff(ReviewDrift, DiffHead):
    """`history diff A B --format json`: the two runs, then the drift between their reviews
    (DiffHead's keys come first: pydantic takes the last base's fields first)."""


# --- triage ----------------------------------------------------------------------------------


class SeverityDrift(Contract):
    a: str | None
    b: str | None
    same: bool | None


class EscalationDrift(Contract):
    a: str | None
    b: str | None
    same: bool | None


class RootCauseDrift(Contract):
    """`similarity`: the share of the shorter cause's words found in the other (1.0: the same)."""

    a: str | None
    b: str | None
    confidence: list[str | None]
    similarity: Number | None


class MatchedAction(Contract):
    a: int
    b: int
    similarity: Number
    action: list[str]


class OneSideAction(Contract):
    n: int
    action: str


class ActionsDrift(Contract):
    matched: list[MatchedAction]
    only_a: list[OneSideAction]
    only_b: list[OneSideAction]
    agreement: Number


class Actionability(Contract):
    actions: int
    with_owner_and_timeline: int


class SidesActionability(Contract):
    a: Actionability
    b: Actionability


class ReferenceSummary(Contract):
    coverage: Number | None
    must_not_violations: int


class SidesReference(Contract):
    a: ReferenceSummary | None
    b: ReferenceSummary | None


class JudgeDelta(Contract):
    judge: str
    a: int | None
    b: int | None
    delta: int | None


class JudgesDrift(Contract):
    """Each side's mean judge total, and each judge's totals side by side."""

    a: Number | None
    b: Number | None
    delta: Number | None
    by_judge: list[JudgeDelta]


class TriageDrift(Contract):
    """`comparable` is false when a side gave no complete answer."""

    comparable: bool
    severity: SeverityDrift
    escalation: EscalationDrift | None
    root_cause: RootCauseDrift
    actions: ActionsDrift
    actionability: SidesActionability
    reference: SidesReference | None
    judges: JudgesDrift | None
    metrics: MetricsDrift


# --- noise (--repeat) ------------------------------------------------------------------------


class NumericMeasure(Contract):
    """A measure taken on every run of each side; `drift` when the sides' ranges are
    separated and noise alone would separate them at most 10 % of the time (`chance`)."""

    measure: str
    a: list[Number]
    b: list[Number]
    mean_a: Number
    mean_b: Number
    spread_a: Number
    spread_b: Number
    separated: bool
    chance: Number
    drift: bool


class CategoricalMeasure(Contract):
    measure: str
    a: list[str]
    b: list[str]
    separated: bool
    chance: Number
    drift: bool


class AgreementMeasure(Contract):
    """Agreement of every pair of runs within a side against every pair between the sides."""

    measure: str
    within: Number
    within_min: Number
    between: Number
    between_max: Number
    separated: bool
    chance: Number
    drift: bool


class RunCounts(Contract):
    a: int
    b: int
    ok_a: int
    ok_b: int


class ComeAndGoItem(Contract):
    item: str
    seen_in: int
    runs: int


class ComeAndGo(Contract):
    """One side's findings or actions across its runs: in every run (`stable`), or not."""

    stable: int
    come_and_go: list[ComeAndGoItem]


class SidesComeAndGo(Contract):
    a: ComeAndGo
    b: ComeAndGo


class Noise(Contract):
    runs: RunCounts
    measures: list[NumericMeasure | CategoricalMeasure | AgreementMeasure]
    within: SidesComeAndGo
    drift_beyond_noise: list[str]
    verdict: str


class SideRuns(Contract):
    a: list[SideOutput]
    b: list[SideOutput]


class CompareOutput(Contract):
    """`compare --format json`: `a` and `b` are each side's first run in its task's own
    output; `runs` (only with --repeat above 1) holds every run of each side."""

    absent_unless_set = frozenset({"runs"})

    task: Literal["compare"]
    compared: Literal["review", "triage"]
    baseline: str | None
    status: Literal["ok", "failed"]
    input: ReviewInput | TriageInput | None
    a: SideOutput
    b: SideOutput
    drift: ReviewDrift | TriageDrift
    runs: SideRuns | None = None
    noise: Noise
