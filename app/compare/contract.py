"""The compare report's public JSON, as models (`driftcheck schema compare`): both sides in
their task's own output, the drift between them, and the noise within each side.

The drift of reviews is also what `history diff --format json` prints after its own keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, SerializeAsAny, Tag, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from app.calls.contract import Contract, ErrorInfo, Metrics, Number, Spend, task_tag
from app.review.contract import ChangeInputOut, ChangeReviewOutput, ReviewInput, ReviewOutput
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


# Each side is a review (of a file, or of several files or a change) or a triage output,
# told apart by `task_tag` (or a stored baseline as it was).
SideOutput = Annotated[
    SerializeAsAny[
        Annotated[
            Annotated[ReviewOutput, Tag("review")]
            | Annotated[ChangeReviewOutput, Tag("review-change")]
            | Annotated[TriageOutput, Tag("triage")],
            Discriminator(task_tag),
        ]
    ],
    WrapValidator(_as_stored),
]


class MetricDelta(Contract):
    a: Number | None
    b: Number | None
    ratio_b_to_a: Number | None


class MetricsDrift(Contract):
    """A against B per metric. When a side answered through a batch API, `batch_turnaround_ms`
    holds each side's submit-to-result time (compared with nothing: it is the batch queue's,
    not the model's) and `note` says the live timings leave that side out."""

    absent_unless_set = frozenset({"batch_turnaround_ms", "note"})

    ttft_ms: MetricDelta
    latency_ms: MetricDelta
    input_tokens: MetricDelta
    output_tokens: MetricDelta
    cost_usd: MetricDelta
    batch_turnaround_ms: MetricDelta | None = None
    note: str | None = None


# --- reviews ---------------------------------------------------------------------------------


class MatchedFinding(Contract):
    """A finding of A paired with one of B: ids, first lines, severities, titles as [A, B].
    In a review of a change the ids are path:Fn and `path` names the file."""

    absent_unless_set = frozenset({"path"})

    a: str
    b: str
    lines: list[int]
    severity: list[str]
    similarity: Number
    title: list[str]
    path: str | None = None


class OneSideFinding(Contract):
    absent_unless_set = frozenset({"path"})

    id: str
    line: int
    severity: str
    title: str
    path: str | None = None


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


class FileDrift(Contract):
    """One file's drift in a review of a change: counts of its pairing, and its scores."""

    path: str
    matched: int
    only_a: int
    only_b: int
    agreement: Number
    severity_disagreements: int
    score: ScoreDelta


class ReviewDrift(Contract):
    """`agreement`: the share of all distinct findings (either side) both sides reported.
    `files` (a review of a change or of several files): each file's drift; the totals
    above pair findings within each file only."""

    absent_unless_set = frozenset({"files"})

    matched: list[MatchedFinding]
    only_a: list[OneSideFinding]
    only_b: list[OneSideFinding]
    agreement: Number
    severity_disagreements: list[MatchedFinding]
    score: ScoreDelta
    counts: CountsDrift
    answer_key: SidesKeyRecall | None
    metrics: MetricsDrift
    files: list[FileDrift] | None = None


class DiffHead(Contract):
    """Which two stored runs `history diff` compares, whether they reviewed the same bytes,
    and what each cost."""

    a: str
    b: str
    same_input: bool
    cost_usd: list[Number]


class Attribution(Contract):
    """Why two runs differ, from their provenance: `verdict` (input_changed,
    prompt_or_settings_changed, served_model_changed, same_everything or unknown), the
    `causes` found in that order, the provenance fields `changed` and `unknown`, those
    `also_changed` but blamed for nothing, and the verdict in words."""

    verdict: Literal[
        "input_changed", "prompt_or_settings_changed", "served_model_changed", "same_everything", "unknown"
    ]
    causes: list[str]
    changed: list[str]
    unknown: list[str]
    also_changed: list[str]
    text: str


class HistoryDiff(ReviewDrift, DiffHead):
    """`history diff A B --format json`: the two runs, then the drift between their reviews
    (DiffHead's keys come first: pydantic takes the last base's fields first), then why
    they differ."""

    attribution: Attribution


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


class Interval(Contract):
    """A difference (B − A, or a model against another) with its confidence interval."""

    estimate: Number
    low: Number
    high: Number
    half_width: Number
    level: Number


class Power(Contract):
    """What N runs a side could see: the smallest difference detected at `power` with the
    spreads observed, against the measure's `target` and the runs that would detect it."""

    runs: int
    sd_a: Number
    sd_b: Number
    detectable: Number | None
    target: Number
    repeats_for_target: int | None
    power: Number


class NumericMeasure(Contract):
    """A measure taken on every run of each side; `drift` when the sides' ranges are
    separated and noise alone would separate them at most 10 % of the time (`chance`).
    `difference`: B − A with its 95 % Welch interval (null under two runs a side). In a
    compare of a change, `by_file` is the mean per-file B − A with its interval clustered by
    file, and `by_file_detectable` the per-file gap it detects at 80 % power."""

    absent_unless_set = frozenset({"by_file", "by_file_detectable"})

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
    difference: Interval | None
    power: Power | None
    by_file: Interval | None = None
    by_file_detectable: Number | None = None


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


Verdict = Literal["stable", "drift", "one_side", "flicker"]


class Cluster(Contract):
    """A finding (or action) across both sides' runs: how many runs of each found it and
    which (run number -> finding id), the severities given, Fisher's exact p and its
    Benjamini-Hochberg q, the verdict, and the side it is found more on."""

    item: str
    line: int | None
    severity: str | None
    found_a: int
    found_b: int
    repeat_a: int
    repeat_b: int
    runs_a: dict[str, str | None]
    runs_b: dict[str, str | None]
    severities_a: list[str | None]
    severities_b: list[str | None]
    p: Number
    q: Number
    verdict: Verdict
    favours: Literal["a", "b"] | None


class StabilityCounts(Contract):
    stable: int
    drift: int
    one_side: int
    flicker: int


class Noise(Contract):
    runs: RunCounts
    measures: list[NumericMeasure | CategoricalMeasure | AgreementMeasure]
    within: SidesComeAndGo
    drift_beyond_noise: list[str]
    verdict: str
    clusters: list[Cluster]
    stability: StabilityCounts


class PairwiseJudge(Contract):
    """One judge asked which answer is better with A shown first, then B first: its
    verdict each time, whether they agree, and the position it chose both times when not."""

    judge: str
    status: Literal["ok", "failed"]
    a_first: Literal["a", "b", "tie"] | None
    b_first: Literal["a", "b", "tie"] | None
    consistent: bool | None
    winner: Literal["a", "b", "tie", "inconsistent"] | None
    position_bias: Literal["first", "second"] | None
    error: ErrorInfo | None
    metrics: Metrics


class Pairwise(Contract):
    """compare --judge-mode pairwise: each judge's verdicts, the share of judges that kept
    theirs when the order was swapped, the votes of those that did, and the winner."""

    judges: list[PairwiseJudge]
    position_consistency: Number | None
    votes: dict[str, int]
    winner: Literal["a", "b", "tie"] | None
    text: list[str]


class GateFinding(Contract):
    item: str
    line: int | None
    found_a: int
    found_b: int


class Gate(Contract):
    """compare --fail-on on reviews: the findings that fail it (in at least `consensus`
    runs of a side; of both sides with `agree`) and the exit code it gave."""

    fail_on: str
    consensus: int
    agree: bool
    findings: list[GateFinding]
    exit: int


class SideRuns(Contract):
    a: list[SideOutput]
    b: list[SideOutput]


class SidesSpend(Contract):
    """Each side's every run, judges included: what it cost and what caching saved."""

    a: Spend
    b: Spend


class CompareOutput(Contract):
    """`compare --format json`: `a` and `b` are each side's first run in its task's own
    output; `pairwise` with --judge-mode pairwise; `attribution` with --baseline; `runs`
    (only with --repeat above 1) holds every run of each side; `spend` what each side's
    calls cost; `gate` with --fail-on."""

    absent_unless_set = frozenset({"pairwise", "attribution", "runs", "gate"})

    task: Literal["compare"]
    compared: Literal["review", "triage"]
    baseline: str | None
    status: Literal["ok", "failed"]
    input: ReviewInput | ChangeInputOut | TriageInput | None
    a: SideOutput
    b: SideOutput
    drift: ReviewDrift | TriageDrift
    pairwise: Pairwise | None = None
    attribution: Attribution | None = None
    runs: SideRuns | None = None
    noise: Noise
    spend: SidesSpend
    gate: Gate | None = None
