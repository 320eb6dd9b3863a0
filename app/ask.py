"""The ask task: one plain completion, and its public JSON (the output contract every task
shares, with the text, the finish reason and the request id as its result)."""

from __future__ import annotations

from typing import Any

from app.calls.metrics import metrics_dict
from app.calls.provenance import provenance_dict
from providers import Provider, Response
from providers.errors import ProviderError


def ask_failed(response: Response | None, error: ProviderError | None) -> bool:
    """The call failed, or succeeded with an error-level check (an empty billed answer, ...)."""
    return error is not None or (response is not None and any(c.severity == "error" for c in response.checks))


def ask_json(
    provider: Provider, response: Response | None, error: ProviderError | None, partial: str
) -> dict[str, Any]:
    failed_check = next((c for c in response.checks if c.severity == "error"), None) if response else None
    return {
        "task": "ask",
        # Who answered: after a fallback, the provider that did, not the one first asked.
        "provider": response.provider if response is not None else provider.name,
        "model": response.model if response is not None else provider.model,
        "status": "failed" if ask_failed(response, error) else "ok",
        "error": error.to_dict()
        if error is not None
        else ({"kind": failed_check.name, "message": failed_check.message} if failed_check else None),
        "result": {
            "text": response.text if response is not None else partial,
            "finish_reason": response.finish_reason if response is not None else None,
            "request_id": response.request_id
            if response is not None
            else (error.request_id if error is not None else None),
        },
        "metrics": metrics_dict(response, retries=error.retries if error is not None else 0),
        "provenance": provenance_dict(response),
        "checks": [c.to_dict() for c in response.checks] if response is not None else [],
    }
