"""The review's public JSON, as models: what `review --format json` prints, history stores
and `compare` holds as each side (`driftcheck schema review`).

Kept apart from `app.review.model`, whose models are what a provider is asked for and
forgive its spelling; these are what driftcheck promises, and accept nothing else.
"""

from __future__ import annotations

from typing import Literal

from app.calls.contract import Contract, Number, TaskOutput
from app.review.model import Category, Severity


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


class ReviewOutput(TaskOutput):
    """`review --format json`: the shared task fields, then the answer key's score (null
    when the file has no key)."""

    task: Literal["review"]
    input: ReviewInput
    result: ReviewResultOut | None
    answer_key: AnswerKeyScore | None
