"""The review outcome as the public JSON object (docs/architecture.md, "Inside a run")."""

from __future__ import annotations

from typing import Any

from app.review.task import ReviewOutcome


def review_json(outcome: ReviewOutcome) -> dict[str, Any]:
    result = outcome.result
    source = outcome.source
    return outcome.public_json(
        "review",
        input={
            "path": outcome.input.path,
            "sha256": outcome.input.sha256,
            "language": source.language,
            "lines": source.line_count,
            "encoding": outcome.input.encoding,
            "chunks": [{"start": c.start, "end": c.end} for c in outcome.chunks],
        },
        result=None
        if result is None
        else {
            "score": result.score,
            "summary": result.summary,
            "counts": result.counts(),
            "findings": [f.as_public() for f in result.findings],
        },
        answer_key=outcome.answer_key,
    )
