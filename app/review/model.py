"""The review result: what the model is asked to produce, and what driftcheck adds to it.

`ReviewReply` is the schema sent to the provider (native structured output where the API
has it). Its validators forgive the spelling differences models really produce ("High",
"error handling") so that a sound answer is not rejected for a capital letter, while
anything that changes meaning — a score outside 1-10, a line below 1 — still fails and
goes to the repair step. `Finding` adds what only driftcheck can know: an id, the
enclosing symbol from the parsed source, and whether the cited lines held up.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["critical", "high", "medium", "low", "info"]
Category = Literal[
    "security",
    "correctness",
    "error-handling",
    "performance",
    "concurrency",
    "resource-management",
    "best-practice",
    "maintainability",
]

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]

_CATEGORY_SYNONYMS = {
    "error handling": "error-handling",
    "error_handling": "error-handling",
    "errors": "error-handling",
    "exception handling": "error-handling",
    "reliability": "error-handling",
    "bug": "correctness",
    "logic": "correctness",
    "logic error": "correctness",
    "correctness bug": "correctness",
    "best practice": "best-practice",
    "best practices": "best-practice",
    "best_practice": "best-practice",
    "style": "best-practice",
    "idiom": "best-practice",
    "readability": "maintainability",
    "resource management": "resource-management",
    "resource leak": "resource-management",
    "resources": "resource-management",
    "race condition": "concurrency",
    "thread safety": "concurrency",
    "perf": "performance",
    "efficiency": "performance",
    "vulnerability": "security",
}
_SEVERITY_SYNONYMS = {
    "blocker": "critical",
    "major": "high",
    "moderate": "medium",
    "minor": "low",
    "warning": "medium",
    "note": "info",
    "informational": "info",
    "trivial": "info",
}


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info; lower is worse."""
    return SEVERITIES.index(severity)


class FindingReply(BaseModel):
    """One problem, as the model reports it."""

    model_config = ConfigDict(extra="ignore")

    line_start: int = Field(ge=1, description="first line of the problem, as numbered in the code")
    line_end: int = Field(ge=1, description="last line of the problem (same as line_start for one line)")
    severity: Severity
    category: Category
    title: str = Field(min_length=1, description="the problem in a few words")
    explanation: str = Field(description="why it is a problem and what can go wrong")
    suggestion: str = Field(description="the concrete fix")
    evidence: str = Field(description="the code on line_start, copied exactly")

    @field_validator("line_start", "line_end", mode="before")
    @classmethod
    def _line_zero(cls, value: Any) -> Any:
        # "Line 0" is how models say "the whole file"; it is read as line 1, where the
        # evidence check then confirms or flags it, rather than losing the whole reply.
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            return 1
        return value

    @field_validator("severity", "category", mode="before")
    @classmethod
    def _canonical(cls, value: Any, info: Any) -> Any:
        """Models say "Major", "error handling", "best_practice": map them to our words."""
        if not isinstance(value, str):
            return value
        value = value.strip().lower()
        if info.field_name == "severity":
            return _SEVERITY_SYNONYMS.get(value, value)
        return _CATEGORY_SYNONYMS.get(value, value.replace(" ", "-").replace("_", "-"))

    @model_validator(mode="before")
    @classmethod
    def _single_line(cls, data: Any) -> Any:
        # A one-line finding often comes without line_end; it means the same line.
        if isinstance(data, dict) and data.get("line_end") in (None, "") and "line_start" in data:
            data = {**data, "line_end": data["line_start"]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> FindingReply:
        if self.line_end < self.line_start:
            self.line_start, self.line_end = self.line_end, self.line_start
        return self


class ReviewReply(BaseModel):
    """The whole answer. Findings come first so that they stream before the verdict,
    and the score is given after the model has listed what it found."""

    model_config = ConfigDict(extra="ignore")

    findings: list[FindingReply]
    summary: str = Field(description="two or three sentences on the code's overall state")
    score: int = Field(ge=1, le=10, description="overall quality, 1 (dangerous) to 10 (exemplary)")


class PackedFindingReply(FindingReply):
    """A problem in one of several files sent together (a change's small files)."""

    path: str = Field(min_length=1, description="the file the problem is in, exactly as written after `File:`")


class PackedReviewReply(BaseModel):
    """The answer for several small files sent in one request: each finding names its file."""

    model_config = ConfigDict(extra="ignore")

    findings: list[PackedFindingReply]
    summary: str = Field(description="two or three sentences on the state of these files")
    score: int = Field(ge=1, le=10, description="overall quality, 1 (dangerous) to 10 (exemplary)")


class Finding(FindingReply):
    """A finding as driftcheck reports it."""

    id: str
    symbol: str | None = None
    lines_valid: bool = True  # False: the cited lines are not in the file (see checks)
    cited_lines: list[int] | None = None  # where the model pointed, when driftcheck corrected it
    # Set only in a review of several files or of a change (a lone file's JSON keeps its shape):
    path: str | None = None
    outside_change: bool | None = None  # True: the finding cites no changed line
    fingerprint: str | None = None  # app.review.fingerprint: stable across moves and providers
    baseline: str | None = None  # with --baseline: "new", or "unchanged" (the stored review had it)


class ReviewResult(BaseModel):
    score: int | None
    summary: str
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def worst(self) -> str | None:
        return min((f.severity for f in self.findings), key=severity_rank, default=None)
