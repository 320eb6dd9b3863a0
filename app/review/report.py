"""The review outcome as the public JSON object (docs/architecture.md, "Inside a run")."""

from __future__ import annotations

from typing import Any

from app.review.contract import (
    AnswerKeyScore,
    LineRange,
    PublicFinding,
    ReviewInput,
    ReviewOutput,
    ReviewResultOut,
    SeverityCounts,
)
from app.review.task import ReviewOutcome


def review_output(outcome: ReviewOutcome) -> ReviewOutput:
    result = outcome.result
    source = outcome.source
    return ReviewOutput(
        task="review",
        input=ReviewInput(
            path=outcome.input.path,
            sha256=outcome.input.sha256,
            language=source.language,
            lines=source.line_count,
            encoding=outcome.input.encoding,
            chunks=[LineRange(start=c.start, end=c.end) for c in outcome.chunks],
        ),
        result=None
        if result is None
        else ReviewResultOut(
            score=result.score,
            summary=result.summary,
            counts=SeverityCounts(**result.counts()),
            findings=[PublicFinding.of(f) for f in result.findings],
        ),
        answer_key=None if outcome.answer_key is None else AnswerKeyScore.model_validate(outcome.answer_key),
        **outcome.envelope(),
    )


def review_json(outcome: ReviewOutcome) -> dict[str, Any]:
    return review_output(outcome).public()
