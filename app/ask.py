"""The ask task: one plain completion, and its public JSON (the output contract every task
shares, with the text, the finish reason and the request id as its result)."""

from __future__ import annotations

from typing import Any, Literal

from app.calls.contract import CheckInfo, Contract, ErrorInfo, Metrics, Provenance
from app.calls.metrics import metrics_of
from app.calls.outcome import check_info, error_info
from app.calls.provenance import provenance_of
from providers import Provider, Response
from providers.errors import ProviderError


class AskResult(Contract):
    text: str
    finish_reason: str | None
    request_id: str | None


class AskOutput(Contract):
    """`ask --format json`: the shared task fields (no input) with the answer as its result."""

    task: Literal["ask"]
    provider: str
    model: str
    status: Literal["ok", "failed"]
    error: ErrorInfo | None
    result: AskResult
    metrics: Metrics
    provenance: Provenance
    checks: list[CheckInfo]


def ask_failed(response: Response | None, error: ProviderError | None) -> bool:
    """The call failed, or succeeded with an error-level check (an empty billed answer, ...)."""
    return error is not None or (response is not None and any(c.severity == "error" for c in response.checks))


def ask_output(provider: Provider, response: Response | None, error: ProviderError | None, partial: str) -> AskOutput:
    failed_check = next((c for c in response.checks if c.severity == "error"), None) if response else None
    return AskOutput(
        task="ask",
        # Who answered: after a fallback, the provider that did, not the one first asked.
        provider=response.provider if response is not None else provider.name,
        model=response.model if response is not None else provider.model,
        status="failed" if ask_failed(response, error) else "ok",
        error=error_info(error)
        if error is not None
        else (ErrorInfo(kind=failed_check.name, message=failed_check.message) if failed_check else None),
        result=AskResult(
            text=response.text if response is not None else partial,
            finish_reason=response.finish_reason if response is not None else None,
            request_id=response.request_id
            if response is not None
            else (error.request_id if error is not None else None),
        ),
        metrics=metrics_of(response, retries=error.retries if error is not None else 0),
        provenance=provenance_of(response),
        checks=[check_info(c) for c in response.checks] if response is not None else [],
    )


def ask_json(
    provider: Provider, response: Response | None, error: ProviderError | None, partial: str
) -> dict[str, Any]:
    return ask_output(provider, response, error, partial).public()
