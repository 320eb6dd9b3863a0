"""Map what went wrong on the wire to the project's errors: status first, then body type.

Shared by every HTTP provider. The SDK-specific part (which exception class carries
the status) stays in each provider module; this module never imports an SDK.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import TypedDict

from . import errors as E

# Anthropic and OpenAI error `type`s for failures that arrive inside a 200 stream.
_BODY_TYPES: dict[str, type[E.ProviderError]] = {
    "overloaded_error": E.OverloadedError,
    "rate_limit_error": E.RateLimitedError,
    "rate_limit_exceeded": E.RateLimitedError,
    "api_error": E.ServerError,
    "server_error": E.ServerError,
    "authentication_error": E.AuthenticationError,
    "permission_error": E.PermissionDeniedError,
    "not_found_error": E.ModelNotFoundError,
    "invalid_request_error": E.BadRequestError,
    "request_too_large": E.ContextTooLongError,
}

_CONTEXT_PHRASES = (
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "maximum context",
    "context_length_exceeded",
)


class StreamErrorEvent(Exception):
    """An error reported inside a 200 stream (Anthropic's `error` event, an OpenAI chunk
    with an `error` object). Raised by the pure converters, classified by the loop.
    `status` is an HTTP-like code the error carried (OpenRouter sends `code: 400`)."""

    def __init__(self, body_type: str | None, message: str | None, status: int | None = None) -> None:
        super().__init__(message or body_type or "error event")
        self.body_type = body_type
        self.message = message
        self.status = status


def from_stream_error(
    exc: StreamErrorEvent, *, provider: str, request_id: str | None, key_env: str | None, token_param: str
) -> E.ProviderError:
    """An error inside a 200 stream: by the HTTP-like code it carried when it has one, as a
    response with that status would be, else by its body type alone."""
    return from_status(
        exc.status or 200,
        provider=provider,
        body_type=exc.body_type,
        api_message=exc.message,
        request_id=request_id,
        headers=None,
        key_env=key_env,
        token_param=token_param,
        original=exc,
    )


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """`retry-after-ms` (what both SDKs honour first), then `retry-after` seconds or date."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class CommonFields(TypedDict):
    """What every classified error carries, whatever its class."""

    provider: str
    status: int | None
    request_id: str | None
    original: BaseException


def from_status(
    status: int,
    *,
    provider: str,
    body_type: str | None,
    api_message: str | None,
    request_id: str | None,
    headers: Mapping[str, str] | None,
    key_env: str | None,
    token_param: str,
    original: BaseException,
) -> E.ProviderError:
    """Classify an error response (or an error event inside a 200 stream)."""
    msg = (api_message or "").strip()
    lower = msg.lower()
    common = CommonFields(
        provider=provider, status=status if status != 200 else None, request_id=request_id, original=original
    )
    retry_after = retry_after_seconds(headers)

    if status == 200 or status is None:  # error event mid-stream: only the body says what
        cls = _BODY_TYPES.get(body_type or "", E.ServerError)
        return cls(f"the stream failed: {msg or body_type or 'error event'}", **common)
    if status == 401:
        fix = f"Check {key_env}." if key_env else "Check the endpoint's API key."
        return E.AuthenticationError(f"the API key was rejected: {msg or 'unauthorized'}", hint=fix, **common)
    if status == 403:
        return E.PermissionDeniedError(
            f"permission denied: {msg}", hint="The key has no access to this model or feature.", **common
        )
    if status == 404:
        return E.ModelNotFoundError(
            f"not found: {msg or 'unknown model or path'}", hint="Check the model name and the base URL.", **common
        )
    if status == 413 or any(p in lower for p in _CONTEXT_PHRASES):
        return E.ContextTooLongError(
            f"the request is too long for the model: {msg}",
            hint="Send less input, or use a model with a larger context.",
            **common,
        )
    if status == 429:
        wait = f" The API asked to wait {retry_after:g} s." if retry_after is not None else ""
        return E.RateLimitedError(
            f"rate limited: {msg or 'too many requests'}",
            retry_after_s=retry_after,
            hint=f"Slow down or raise the account's limits.{wait}",
            **common,
        )
    if status in (503, 529) or body_type == "overloaded_error":
        return E.OverloadedError(
            f"the provider is overloaded: {msg or 'try later'}",
            retry_after_s=retry_after,
            hint="Try again shortly or use a fallback provider.",
            **common,
        )
    if status >= 500:
        return E.ServerError(
            f"the provider failed: {msg or 'server error'}",
            retry_after_s=retry_after,
            hint="This is on the provider's side; try again or use another provider.",
            **common,
        )
    if status in (400, 422):
        return E.BadRequestError(f"the request was rejected: {msg}", hint=token_param_fix(msg, token_param), **common)
    return E.ProviderError(f"unexpected HTTP status: {msg}", **common)


def token_param_fix(message: str, token_param: str) -> str | None:
    """The seeds' GPT-5.5 lesson: name the right token-limit parameter when it is the problem."""
    lower = message.lower()
    for wrong, right in (("max_tokens", "max_completion_tokens"), ("max_completion_tokens", "max_tokens")):
        if f"'{wrong}'" in lower or f'"{wrong}"' in lower or f"{wrong} is not supported" in lower:
            return (
                f"This model takes '{right}', not '{wrong}'. For an OpenAI-compatible endpoint set "
                f'token_param = "{right}" in its [endpoints.NAME] config section.'
            )
    return None


def from_transport(
    exc: BaseException, *, provider: str, base_url: str, request_id: str | None = None
) -> E.ProviderError:
    """Classify a network-level failure by the httpx2 exception class that caused it."""
    chain = _cause_names(exc)
    common = CommonFields(provider=provider, status=None, request_id=request_id, original=exc)
    if "ConnectTimeout" in chain:
        return E.ProviderTimeout(
            f"timed out connecting to {base_url}",
            phase="connect",
            hint="Check the network or the endpoint's address.",
            **common,
        )
    if "ConnectError" in chain:
        return E.UnreachableError(
            f"cannot reach {base_url} ({_root_message(exc)})",
            hint="Check that the endpoint is running and the base URL is right.",
            **common,
        )
    if "ReadTimeout" in chain or "PoolTimeout" in chain or "WriteTimeout" in chain:
        return E.ProviderTimeout(
            "the connection went silent", phase="stall", hint="The provider stopped sending; try again.", **common
        )
    return E.ConnectionDroppedError(
        f"the connection to {base_url} dropped ({_root_message(exc)})",
        hint="Try again; if it persists, check proxies and the network.",
        **common,
    )


def _cause_names(exc: BaseException) -> set[str]:
    names: set[str] = set()
    seen: BaseException | None = exc
    while seen is not None and len(names) < 20:
        names.update(cls.__name__ for cls in type(seen).__mro__)
        seen = seen.__cause__ or seen.__context__
    return names


def _root_message(exc: BaseException) -> str:
    names = _cause_names(exc)
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).strip() or type(exc).__name__
    lower = text.lower()
    if "ConnectionRefusedError" in names or "refused" in lower or "connect call failed" in lower:
        return "connection refused"
    return text.splitlines()[0][:120]
