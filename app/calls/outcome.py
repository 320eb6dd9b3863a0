"""What every task's outcome (review, triage) says about its calls, in one place."""

from __future__ import annotations

from typing import Any

from app.calls.contract import CheckInfo, ErrorInfo
from app.calls.metrics import combined_response
from providers import Response
from providers.errors import InterruptedStreamError, InvalidOutputError, ProviderError
from providers.types import Check


class CallsOutcome:
    """A mixin for outcome dataclasses with `responses`, `error` and `elapsed_s`."""

    responses: list[Response]
    error: Any
    elapsed_s: float
    partial_text: str
    checks: list[Any]

    provider: str
    model: str

    def envelope(self) -> dict[str, Any]:
        """The fields of the public output every task shares (`app.calls.contract.TaskOutput`)
        but `task`, `input` and `result`, which are the task's own."""
        from app.calls.metrics import metrics_of
        from app.calls.provenance import provenance_of

        error = self.error
        response = self.response
        # Who answered: after a fallback or a won hedge, not the provider first asked
        # (metrics.fallback_from and metrics.hedged say what happened).
        provider, model = (response.provider, response.model) if response is not None else (self.provider, self.model)
        return {
            "provider": provider,
            "model": model,
            "status": self.status,
            "error": None if error is None else error_info(error),
            "partial_text": self.partial_text or None,
            "metrics": metrics_of(response, retries=error.retries if error is not None else 0),
            "provenance": provenance_of(response),
            "checks": [check_info(c) for c in self.checks],
        }

    def record_failure(self, error: ProviderError, response: Response | None) -> None:
        """Keep the error, every character received before it, and the failed reply's checks."""
        self.error = error
        self.partial_text += (
            error.partial_text
            if isinstance(error, InterruptedStreamError)
            else (response.text if response is not None else "")
        )
        if isinstance(error, InvalidOutputError) and isinstance(error.response, Response):
            self.checks.extend(error.response.checks)

    @property
    def status(self) -> str:
        return "failed" if self.error is not None else "ok"

    @property
    def response(self) -> Response | None:
        """All calls of the task as one set of metrics; wall time when there were several."""
        combined = combined_response(self.responses)
        if combined is not None and len(self.responses) > 1:
            combined.total_s = self.elapsed_s
        return combined


def error_info(error: ProviderError) -> ErrorInfo:
    return ErrorInfo.model_validate(error.to_dict())


def check_info(check: Check) -> CheckInfo:
    return CheckInfo(name=check.name, severity=check.severity, message=check.message, diagnosis=check.diagnosis)
