"""The review's public JSON, as models: what `review --format json` prints, history stores
and `compare` holds as each side (`driftcheck schema review`).

Kept apart from `app.review.model`, whose models are what a provider is asked for and
forgive its spelling; these are what driftcheck promises, and accept nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from app.calls.contract import CheckInfo, Contract, ErrorInfo, Number, TaskOutput, task_tag
from app.review.model import Category, Finding, Severity


class LineRange(Contract):
    start: int
    end: int


class ReviewInput(Contract):
    """The file reviewed: where it was, its digest, language and size, and the line ranges
    sent (one per request)."""

    path: str
    sha256: str
    language: str | None
    lines: int
    encoding: str
    chunks: list[LineRange]


class PublicFinding(Contract):
    """One finding. `symbol` is the enclosing function or class; `lines_valid` false means
    the cited lines are not in the file; `cited_lines` is where the model pointed when
    driftcheck corrected the lines."""

    id: str
    line_start: int
    line_end: int
    severity: Severity
    category: Category
    title: str
    explanation: str
    suggestion: str
    evidence: str
    symbol: str | None
    lines_valid: bool
    cited_lines: list[int] | None
    # Only in a review of several files or a change: its file and a fingerprint that
    # survives moves and provider switches; outside_change in a change; baseline
    # ("new" or "unchanged") with --baseline.
    path: str | None = None
    outside_change: bool | None = None
    fingerprint: str | None = None
    baseline: Literal["new", "unchanged"] | None = None

    absent_unless_set = frozenset({"path", "outside_change", "fingerprint", "baseline"})

    @classmethod
    def of(cls, finding: Finding) -> PublicFinding:
        """A finding as the JSON shows it: the multi-file keys only where they apply."""
        data = finding.model_dump()
        return cls.model_validate({k: v for k, v in data.items() if v is not None or k not in cls.absent_unless_set})


class SeverityCounts(Contract):
    critical: int
    high: int
    medium: int
    low: int
    info: int


class ReviewResultOut(Contract):
    """`score` is null when no complete answer arrived (see `status` and `error`)."""

    score: int | None
    summary: str
    counts: SeverityCounts
    findings: list[PublicFinding]


class KeyPair(Contract):
    issue: str
    finding: str
    severity_expected: Severity
    severity_found: Severity


class AnswerKeyScore(Contract):
    """The review scored against the file's answer key (its planted issues)."""

    key: str
    expected: int
    matched: int
    recall: Number
    precision: Number | None
    pairs: list[KeyPair]
    missed: list[str]
    unexpected: list[str]


class ClusterInRuns(Contract):
    """A finding across a review's repeated runs: how many of its runs found it and which
    (run number -> that run's finding id), each finding run's severity, `stable` when every
    run found it, `flicker` otherwise."""

    item: str
    line: int | None
    severity: Severity | None
    found: int
    repeat: int
    runs: dict[str, str | None]
    severities: list[Severity | None]
    verdict: Literal["stable", "flicker"]


class ReviewStability(Contract):
    runs: int
    finished: int
    clusters: list[ClusterInRuns]


class ReviewOutput(TaskOutput):
    """`review --format json` of one file: the shared task fields, then the answer key's
    score (null when the file has no key). With --repeat N it is the first run, with
    `repeat`, every run under `runs` and the `stability` of each finding; `status` and
    `error` are then those of the first run that failed."""

    absent_unless_set = frozenset({"repeat", "runs", "stability"})

    task: Literal["review"]
    input: ReviewInput
    result: ReviewResultOut | None
    answer_key: AnswerKeyScore | None
    repeat: int | None = None
    runs: list[ReviewOutput] | None = None
    stability: ReviewStability | None = None


# --- a review of several files, or of a change ----------------------------------------------


class ChangeInputOut(Contract):
    """What was reviewed: a change (`range` its revision or range; null for the working
    tree, the index or a patch) or named files; how many files were sent and left out."""

    kind: Literal["change", "files"]
    label: str
    range: str | None
    root: str | None
    files: int
    left_out: int


class CombinedAnswerKey(Contract):
    """The keyed files' answer keys as one; `missed` names each issue as path:issue."""

    key: str
    expected: int
    matched: int
    recall: Number
    precision: Number | None
    missed: list[str]


class LeftOutFile(Contract):
    """A file of the change not sent (binary, generated, too large ...), and why."""

    path: str
    change: str
    status: Literal["left_out"]
    reason: str


class NotSentFile(Contract):
    """A file not sent because an earlier failure showed the provider cannot be used."""

    path: str
    change: str
    old_path: str | None
    changed_lines: int | None
    hunks_only: bool
    status: Literal["not_sent"]
    reason: str


class ReviewedFile(Contract):
    """A file reviewed: `change` is git's (added, modified, renamed) or `file`; null
    `changed_lines` when the whole file was the input; `hunks_only` when only a patch's
    lines are known. Then that file's review, as a single file's JSON has it."""

    path: str
    change: str
    old_path: str | None
    changed_lines: int | None
    hunks_only: bool
    status: Literal["ok", "failed"]
    error: ErrorInfo | None
    language: str | None
    lines: int
    sha256: str
    chunks: list[LineRange]
    score: int | None
    summary: str | None
    counts: SeverityCounts | None
    checks: list[CheckInfo]
    partial_text: str | None
    answer_key: AnswerKeyScore | None


FileEntry = Annotated[ReviewedFile | NotSentFile | LeftOutFile, Field(discriminator="status")]


class FixedFinding(Contract):
    path: str | None
    line_start: int | None
    severity: str | None
    category: str | None
    title: str | None
    fingerprint: str | None


class BaselineSummary(Contract):
    """Against a stored review (--baseline RUN_ID): findings new, unchanged and fixed by
    fingerprint; fixed only where this review looked at the code again."""

    run_id: str
    new: int
    unchanged: int
    fixed: int
    new_only: bool
    fixed_findings: list[FixedFinding]


class ChangeReviewOutput(TaskOutput):
    """`review --format json` of several files or a change: the totals over every file
    (each finding names its `path`), the combined answer key, one entry per file under
    `files`, and `baseline` with --baseline (--repeat is for one file only)."""

    absent_unless_set = frozenset({"baseline"})

    task: Literal["review"]
    input: ChangeInputOut
    result: ReviewResultOut | None
    answer_key: CombinedAnswerKey | None
    files: list[FileEntry]
    baseline: BaselineSummary | None = None


# `driftcheck schema review`: one file's review, or the review of several files or a change.
AnyReviewOutput = Annotated[
    Annotated[ReviewOutput, Tag("review")] | Annotated[ChangeReviewOutput, Tag("review-change")],
    Discriminator(task_tag),
]
