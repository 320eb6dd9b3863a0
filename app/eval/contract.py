"""The eval report's public JSON, as models (`driftcheck schema eval`), and what history
stores as any run's result (`driftcheck schema history`: the output of the run's task).

`app.eval.report` builds the report from these models; the plan comes in as
`EvalPlan.to_dict()` and is validated into `Plan`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Tag

from app.ask import AskOutput
from app.bench.contract import StoredBench
from app.calls.contract import Contract, Number, task_tag
from app.compare.contract import CompareOutput, Interval
from app.review.contract import ChangeReviewOutput, ReviewOutput
from app.triage.contract import TriageOutput

Measure = Literal["judges", "reference", "answer_key", "none"]
EvalStatus = Literal["ok", "partial", "failed"]


class PlanItem(Contract):
    """One input of the eval: an incident (task triage) or a source file (task review).
    `keyed`: it has a reference or an answer key (absent in plans made before it existed)."""

    absent_unless_set = frozenset({"keyed"})

    id: str
    task: Literal["review", "triage"]
    path: str
    sha256: str
    difficulty: str | None
    keyed: bool = True


class Plan(Contract):
    """`self_judging` false: --no-self-judging (absent in plans made before it existed).
    `hedge_after`: when each model's requests were hedged (absent when hedging was off).
    `judge_mode`: "pairwise" with --judge-mode pairwise (absent when pointwise)."""

    absent_unless_set = frozenset({"self_judging", "hedge_after", "judge_mode"})

    models: list[str]
    judges: list[str]
    repeat: int
    mode: str
    self_judging: bool = True
    items: list[PlanItem]
    hedge_after: str | None = None
    judge_mode: Literal["pointwise", "pairwise"] = "pointwise"


class Cells(Contract):
    """Cells (model × input × run) to do, asked, failed and not sent; grades failed and not sent."""

    expected: int
    done: int
    failed: int
    skipped: int
    grades_failed: int
    grades_skipped: int


class Stopped(Contract):
    """Why the eval stopped early: the budget was reached."""

    spent_usd: Number
    limit_usd: Number | None
    cells_left: int


class EvalCost(Contract):
    """Answers, grades and both; over all of them what the prompt caches read, wrote and saved."""

    answers: Number
    grades: Number
    total: Number
    cache_read_tokens: Number | None
    cache_write_tokens: Number | None
    cache_saved_usd: Number | None


class Stats(Contract):
    n: int
    mean: Number | None
    sd: Number | None
    min: Number | None
    max: Number | None


class Spread(Contract):
    median: Number | None
    p95: Number | None


class RowReference(Contract):
    coverage: Number | None
    violations: int
    answers_with_violations: int
    all_actionable: int


class RowKey(Contract):
    recall: Number
    precision: Number | None


class ComeAndGoFinding(Contract):
    input: str
    item: str
    line: int | None
    found: int
    repeat: int


class ModelStability(Contract):
    """A model's findings (actions) over its runs of each input: how many held in every run,
    how many came and went, and which."""

    stable: int
    flicker: int
    stable_share: Number | None
    come_and_go: list[ComeAndGoFinding]


class HedgeQuantile(Contract):
    """A quantile of the time to first token as served with hedging, and without it (the
    Kaplan-Meier estimate; `at_least` when the slowest calls were all cut off by a hedge)."""

    served_ms: Number
    without_ms: Number
    at_least: bool
    saved_ms: Number


class HedgeAccount(Contract):
    """A model's hedging (app.eval.hedging): the threshold, the answered calls, how many were
    hedged, how many the hedge won, how many the budget withheld, the extra requests' cost,
    and p95/p99 of the time to first token with and without hedging."""

    after: str
    calls: int
    fired: int
    won: int
    withheld: int
    extra_cost_usd: Number | None
    p95: HedgeQuantile | None
    p99: HedgeQuantile | None


class ModelRow(Contract):
    """One model on one task. `by_judge` is present with judges; `reference` when an answer
    had reference checks; `answer_key` when one was scored against an answer key;
    `stability` with --repeat above 1; `batch_turnaround_ms` when answers came through a
    batch API (their submit-to-result time: not in `ttft_ms` and `latency_ms`, which are
    live timings only); `hedging` when the eval hedged."""

    absent_unless_set = frozenset(
        {"by_judge", "reference", "answer_key", "stability", "batch_turnaround_ms", "hedging"}
    )

    model: str
    calls: int
    failed: int
    skipped: int
    failures: list[str]
    quality: Stats
    by_difficulty: dict[str, Stats]
    ttft_ms: Spread
    latency_ms: Spread
    cost_per_call_usd: Number | None
    cost_per_point_usd: Number | None
    judge_cost_usd: Number | None
    by_judge: dict[str, Number | None] | None = None
    reference: RowReference | None = None
    answer_key: RowKey | None = None
    stability: ModelStability | None = None
    batch_turnaround_ms: Spread | None = None
    hedging: HedgeAccount | None = None


class JudgeSpreadEntry(Contract):
    model: str
    run: int
    diagnosis: int
    quality: int
    total: int
    scores: dict[str, int]
    notable: bool


class ItemDisagreement(Contract):
    item: str
    max_spread: int
    mean_spread: Number | None
    notable: list[JudgeSpreadEntry]


class SelfGrading(Contract):
    """A judge grading its own family's answers, against the other judges' grades of them."""

    judge: str
    model: str
    own_mean: Number | None
    others_mean: Number | None
    preference: Number | None


class DimensionAgreement(Contract):
    """The judges' agreement on one dimension over the answers two or more graded:
    Krippendorff's alpha, and with exactly two judges the weighted kappa that `reading` reads."""

    absent_unless_set = frozenset({"kappa"})

    answers: int
    alpha: Number | None
    kappa: Number | None = None
    reading: Literal["reliable", "tentative", "unreliable", "undefined"]


class Dimensions(Contract):
    diagnosis: DimensionAgreement
    quality: DimensionAgreement
    total: DimensionAgreement


class JudgeOffset(Contract):
    """A judge's mean score minus the other judges' on the answers they both graded; the
    total apart for its own model family's answers and the others'."""

    diagnosis: Number | None
    quality: Number | None
    total: Number | None
    own_family_total: Number | None
    other_families_total: Number | None
    answers: int


class AgainstKey(Contract):
    """Spearman's rho of a judge's totals against the answer key's (or reference's) quality."""

    rho: Number | None
    answers: int


class Reliability(Contract):
    """How far the judges can be trusted: agreement per dimension, each judge's offset and
    its rank correlation with the key, the judges' families, and per model how many
    independent judge families graded it; `text` says it in sentences."""

    statistic: Literal["weighted_kappa", "krippendorff_alpha"]
    dimensions: Dimensions
    offsets: dict[str, JudgeOffset]
    against_key: dict[str, AgainstKey]
    families: list[str]
    self_judging: bool
    independent_judges: dict[str, int]
    text: list[str]


class JudgesSection(Contract):
    disagreement: list[ItemDisagreement]
    self_grading: list[SelfGrading]
    reliability: Reliability


class FailedGist(Contract):
    status: Literal["failed", "skipped"]
    error: str | None


class ReviewGist(Contract):
    status: Literal["ok"]
    score: int | None
    findings: int
    found: list[str]
    missed: list[str]


class TriageGist(Contract):
    status: Literal["ok"]
    severity: str
    escalation: str | None
    root_cause: str
    first_actions: list[str]
    violations: list[str]


class Split(Contract):
    """An input where the models split: quality far apart, severities differ, or some failed."""

    item: str
    why: str
    quality: dict[str, Number | None]
    answers: dict[str, FailedGist | ReviewGist | TriageGist]


class Comparison(Contract):
    """A model against the best: the quality gap, the paired test's p and the smallest p this
    design allows, and why it may not be recommended."""

    model: str
    gap: Number | None
    p: Number | None
    items: int
    min_p: Number | None
    eligible: bool
    why_not: list[str]
    cost_per_call_usd: Number | None


class FindingDrift(Contract):
    """A finding (action) on one input that one model makes beyond the other's flicker."""

    input: str
    item: str
    line: int | None
    found_a: int
    found_b: int
    repeat_a: int
    repeat_b: int
    p: Number
    q: Number
    text: str


class AgainstRecommended(Contract):
    """A model against the recommended one: the quality difference with its 95 % interval
    clustered by input, the gap the design could detect, the cost ratio; with --repeat the
    findings that drift between them."""

    absent_unless_set = frozenset({"findings_drift"})

    model: str
    against: str
    items: int
    quality_difference: Interval | None
    detectable: Number | None
    cost_ratio: Number | None
    text: str
    findings_drift: list[FindingDrift] | None = None
    # Keyed inputs: recall and precision against the answer keys, model − recommended,
    # clustered by input like quality_difference (null without two keyed inputs in common).
    recall_difference: Interval | None = None
    precision_difference: Interval | None = None


class Recommendation(Contract):
    """`against_recommended` is there when a model is recommended."""

    absent_unless_set = frozenset({"against_recommended"})

    model: str | None
    best: str | None
    uncertain: bool
    text: str
    comparisons: list[Comparison]
    against_recommended: list[AgainstRecommended] | None = None


class PairwiseAgainst(Contract):
    """--judge-mode pairwise: a model's verdicts against the baseline (the first model) on
    this task's incidents, each asked in both orders: how many were answered, failed and
    consistent, the consistent ones' votes, how often a judge picked the same position
    both times, the winner ("model", "against", "tie" or null) and the sentence."""

    model: str
    against: str
    verdicts: int
    failed: int
    consistent: int
    position_consistency: Number | None
    better_model: int
    better_against: int
    ties: int
    position_bias: dict[str, int]
    winner: Literal["model", "against", "tie"] | None
    text: str


class EvalTask(Contract):
    """One task of the eval (review, triage.active or triage.postmortem): how quality is
    measured, a row per model, the judges, the splits and the recommendation; `pairwise`
    for a triage task of a --judge-mode pairwise eval."""

    absent_unless_set = frozenset({"pairwise"})

    task: str
    items: list[str]
    measure: Measure
    measure_label: str
    judge_only: list[str]
    unmeasured: list[str]
    difficulties: list[str]
    models: list[ModelRow]
    judges: JudgesSection | None
    splits: list[Split]
    recommendation: Recommendation
    pairwise: list[PairwiseAgainst] | None = None


class EvalReport(Contract):
    """`eval --format json`: the plan, how much of it ran, the cost, and per task the report."""

    task: Literal["eval"]
    run_id: str | None
    status: EvalStatus
    plan: Plan
    cells: Cells
    stopped: Stopped | None
    cost_usd: EvalCost
    tasks: list[EvalTask]
    latency_samples_ms: dict[str, list[Number]]


# What history keeps as a run's result: the public output of the run's task.
StoredResult = Annotated[
    Annotated[ReviewOutput, Tag("review")]
    | Annotated[ChangeReviewOutput, Tag("review-change")]
    | Annotated[TriageOutput, Tag("triage")]
    | Annotated[CompareOutput, Tag("compare")]
    | Annotated[EvalReport, Tag("eval")]
    | Annotated[StoredBench, Tag("bench")]
    | Annotated[AskOutput, Tag("ask")],
    Discriminator(task_tag),
]
