"""One error hierarchy for every provider.

Each error keeps what an operator needs to act (provider, status, request id,
retry-after, the original exception) and renders as one line that says what happened
and what to do. `kind` is the stable name used in JSON output and history.
"""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    kind: ClassVar[str] = "provider_error"
    #: Whether trying the same call again may succeed (rate limits, overload, blips).
    retryable: ClassVar[bool] = False
    #: Whether the failure is the provider's rather than the caller's, so a fallback
    #: provider may serve the same request.
    provider_fault: ClassVar[bool] = False
    #: Whether every later call would fail the same way, so a batch of calls (an eval)
    #: should stop asking: "provider" when the key itself is missing or rejected (every
    #: model behind that key), "model" when the key may not use this model; else None.
    stops: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        request_id: str | None = None,
        retry_after_s: float | None = None,
        hint: str | None = None,
        original: BaseException | None = None,
        retries: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.request_id = request_id
        self.retry_after_s = retry_after_s
        self.hint = hint
        self.original = original
        self.retries = retries

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        """`provider: what happened (status, request id). What to do.` on one line."""
        where = f"{self.provider}: " if self.provider else ""
        details = [f"HTTP {self.status}"] if self.status else []
        if self.retries:
            details.append(f"after {self.retries} {'retry' if self.retries == 1 else 'retries'}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        hint = f" {self.hint}" if self.hint else ""
        return " ".join(f"{where}{self.message}{suffix}.{hint}".split())

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.one_line(),
            "status": self.status,
            "request_id": self.request_id,
            "retries": self.retries,
        }


class ConfigurationError(ProviderError):
    """The call cannot be made as configured (bad SPEC, no key); exit code 2."""

    kind = "configuration"
    stops = "provider"


class UnknownProviderError(ConfigurationError):
    kind = "unknown_provider"


class MissingKeyError(ConfigurationError):
    kind = "missing_key"


class AuthenticationError(ProviderError):
    kind = "authentication"
    stops = "provider"


class PermissionDeniedError(ProviderError):
    kind = "permission_denied"
    stops = "model"


class ModelNotFoundError(ProviderError):
    kind = "model_not_found"


class RateLimitedError(ProviderError):
    kind = "rate_limited"
    retryable = True
    provider_fault = True


class OverloadedError(ProviderError):
    kind = "overloaded"
    retryable = True
    provider_fault = True


class ServerError(ProviderError):
    kind = "server_error"
    retryable = True
    provider_fault = True


class UnreachableError(ProviderError):
    """No connection could be made to the endpoint at all."""

    kind = "unreachable"
    retryable = True
    provider_fault = True


class ConnectionDroppedError(ProviderError):
    """The connection broke before the reply was complete (reset, truncated body)."""

    kind = "connection_dropped"
    retryable = True
    provider_fault = True


class ProviderTimeout(ProviderError):
    """`phase` is connect, first_token or stall: each points at a different cause."""

    kind = "timeout"
    retryable = True
    provider_fault = True

    def __init__(self, message: str, *, phase: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.phase = phase

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "phase": self.phase}


class InterruptedStreamError(ProviderError):
    """The stream broke after text had reached the user; it is never replayed.

    `partial_text` holds everything received so the caller can keep and store it.
    """

    kind = "interrupted"
    provider_fault = True

    def __init__(self, message: str, *, partial_text: str, cause: ProviderError | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.partial_text = partial_text
        self.cause = cause

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "cause": self.cause.kind if self.cause else None,
            "partial_chars": len(self.partial_text),
        }


class BadRequestError(ProviderError):
    kind = "bad_request"


class ContextTooLongError(BadRequestError):
    kind = "context_too_long"


class EmptyResponseError(ProviderError):
    """The call succeeded and was billed, but there is no answer in it."""

    kind = "empty_response"

    def __init__(self, message: str, *, response: object = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.response = response


class InvalidOutputError(EmptyResponseError):
    """The answer does not satisfy the requested schema."""

    kind = "invalid_output"


class ProtocolError(ProviderError):
    """The endpoint answered with something that is not the API it claims to be."""

    kind = "protocol"
    provider_fault = True


def error_class(kind: str | None) -> type[ProviderError] | None:
    """The error class named `kind` (as JSON and history name it), or None."""
    pending: list[type[ProviderError]] = [ProviderError]
    while pending:
        cls = pending.pop()
        if cls.kind == kind:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def stop_scope(kind: str | None) -> str | None:
    """`stops` of the error class named `kind`: "provider", "model" or None."""
    cls = error_class(kind)
    return cls.stops if cls is not None else None


def is_configuration_kind(kind: str | None) -> bool:
    """Whether `kind` names a provider that cannot be used as configured (a bad SPEC, no key)."""
    cls = error_class(kind)
    return cls is not None and issubclass(cls, ConfigurationError)
