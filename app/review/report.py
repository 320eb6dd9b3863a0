"""The review outcome as the public JSON object (DESIGN.md, "Public output contract")."""

from __future__ import annotations

from typing import Any

from app.metrics import metrics_dict
from app.review.task import ReviewOutcome


def review_json(outcome: ReviewOutcome) -> dict[str, Any]:
    error = outcome.error
    result = outcome.result
    source = outcome.source
    return {
        "task": "review",
        "provider": outcome.provider,
        "model": outcome.model,
        "status": outcome.status,
        "error": None if error is None else error.to_dict(),
        "input": {
            "path": outcome.input.path, "sha256": outcome.input.sha256, "language": source.language,
            "lines": source.line_count, "encoding": outcome.input.encoding,
            "chunks": [{"start": c.start, "end": c.end} for c in outcome.chunks],
        },
        "result": None if result is None else {
            "score": result.score,
            "summary": result.summary,
            "counts": result.counts(),
            "findings": [f.as_public() for f in result.findings],
        },
        "partial_text": outcome.partial_text or None,
        "metrics": metrics_dict(outcome.response, retries=error.retries if error is not None else 0),
        "checks": [c.to_dict() for c in outcome.checks],
        "answer_key": outcome.answer_key,
    }
