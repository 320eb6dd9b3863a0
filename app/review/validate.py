"""Holding every cited line to the file.

A model's line numbers are claims. Each finding quotes the code on its first line
(`evidence`); we look for that code where the finding points. If it is elsewhere — the
usual off-by-a-few error — and appears there only once nearby, the finding is moved and
the move is recorded; if the lines are not in the file at all, the finding is kept but
marked invalid. Either way a check says so: nothing is silently kept or silently fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.review.model import Finding, FindingReply
from app.source.model import SourceFile
from providers.types import Check

# How far from the cited line we look for quoted code before calling it "not found".
SEARCH_WINDOW = 25
_NUMBER_PREFIX = re.compile(r"^\s*\d+\s*\+?\s*\|\s?")  # the model copied our "12 | " (or "12 + | ") too
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class LineProblems:
    """Findings whose lines needed attention, gathered so that each kind is one check."""

    out_of_range: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)

    def add(self, other: LineProblems) -> None:
        self.out_of_range += other.out_of_range
        self.moved += other.moved
        self.unconfirmed += other.unconfirmed

    def checks(self, line_count: int) -> list[Check]:
        out: list[Check] = []
        if self.out_of_range:
            out.append(
                Check(
                    "line_out_of_range",
                    "warning",
                    f"{_list(self.out_of_range)} cite lines beyond the end of the file ({line_count} lines)",
                    "These findings are kept but marked invalid: the model's line numbers are wrong, so "
                    "check where it meant before acting on them.",
                )
            )
        if self.moved:
            out.append(
                Check(
                    "line_mismatch",
                    "warning",
                    f"{_list(self.moved)} cited lines that do not hold the code they quote; moved to where it is",
                    "The model's line numbers were off. The original citation is kept in cited_lines.",
                )
            )
        if self.unconfirmed:
            out.append(
                Check(
                    "evidence_not_found",
                    "warning",
                    f"{_list(self.unconfirmed)} quote code that is not at or near the cited lines",
                    "The lines are in range but could not be confirmed; the model may have paraphrased "
                    "the code or pointed at the wrong place.",
                )
            )
        return out


def _list(items: list[str]) -> str:
    return ", ".join(items[:12]) + (f" and {len(items) - 12} more" if len(items) > 12 else "")


def validate_finding(reply: FindingReply, finding_id: str, source: SourceFile, problems: LineProblems) -> Finding:
    finding = Finding(id=finding_id, **reply.model_dump())
    n = source.line_count
    if finding.line_start > n:
        finding.lines_valid = False
        problems.out_of_range.append(f"{finding_id} (lines {finding.line_start}-{finding.line_end})")
        return finding
    if finding.line_end > n:
        finding.cited_lines = [finding.line_start, finding.line_end]
        finding.line_end = n
        problems.out_of_range.append(f"{finding_id} (ends at {finding.cited_lines[1]})")

    if source.redacted:  # the model saw redacted code; its quote is compared (and kept) redacted too
        from app.source.secrets import redact_line

        finding.evidence = redact_line(finding.evidence)[0]
    evidence = _norm(_NUMBER_PREFIX.sub("", finding.evidence.strip().split("\n", 1)[0]))
    if len(evidence) >= 4:
        _locate(finding, evidence, source, problems)
    symbol = source.symbol_at(finding.line_start)
    finding.symbol = symbol.name if symbol else None
    return finding


def _locate(finding: Finding, evidence: str, source: SourceFile, problems: LineProblems) -> None:
    cited = range(finding.line_start, finding.line_end + 1)
    if any(evidence in _norm(source.line(i)) for i in cited):
        return
    # Some quotes span two lines of the original; accept them where they start.
    if any(evidence in _norm(source.line(i) + " " + source.line(i + 1)) for i in cited if i < source.line_count):
        return
    lo = max(1, finding.line_start - SEARCH_WINDOW)
    hi = min(source.line_count, finding.line_end + SEARCH_WINDOW)
    hits = [i for i in range(lo, hi + 1) if evidence in _norm(source.line(i))]
    if not hits:
        problems.unconfirmed.append(finding.id)
        return
    nearest = min(hits, key=lambda i: abs(i - finding.line_start))
    if sum(abs(i - finding.line_start) == abs(nearest - finding.line_start) for i in hits) > 1:
        problems.unconfirmed.append(finding.id)  # two equally near candidates: do not guess
        return
    shift = nearest - finding.line_start
    finding.cited_lines = finding.cited_lines or [finding.line_start, finding.line_end]
    finding.line_start += shift
    finding.line_end = min(source.line_count, finding.line_end + shift)
    problems.moved.append(f"{finding.id} ({finding.cited_lines[0]}→{finding.line_start})")
