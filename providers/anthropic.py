"""Anthropic Messages API: streaming, native JSON-schema output, usage with thinking tokens.

The SDK (about 2 s to import) is imported on first use, never at module import. It
builds, authenticates and sends the request and raises its typed HTTP errors; the
event stream is read as wire JSON (see sse.py) and converted by `convert_event`.
"""

from __future__ import annotations

from typing import Any

from .base import BaseProvider, Converted, OpenedStream, quiet_sdk_logging, shared_ssl_context
from .classify import StreamErrorEvent, from_status, from_stream_error, from_transport
from .errors import ProviderError
from .sse import json_events
from .types import FinishReason, FinishReasonSet, Request, StreamStarted, TextDelta, Usage, UsageUpdate

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_use",
    "refusal": "refusal",
}


def _usage(u: dict[str, Any]) -> Usage:
    """Anthropic counts cached input apart from `input_tokens`; we fold it back in."""
    cache_read = u.get("cache_read_input_tokens")
    cache_write = u.get("cache_creation_input_tokens")
    inp = u.get("input_tokens")
    if inp is not None:
        inp += (cache_read or 0) + (cache_write or 0)
    details = u.get("output_tokens_details") or {}
    return Usage(
        input_tokens=inp,
        output_tokens=u.get("output_tokens"),
        reasoning_tokens=details.get("thinking_tokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def convert_event(event: dict[str, Any]) -> Converted:
    """One Messages stream event (`message_start` … `message_stop`, wire JSON) to project events."""
    kind = event.get("type")
    if kind == "content_block_delta":  # the hot path: one per streamed chunk
        delta = event["delta"]
        if delta.get("type") == "text_delta" and delta.get("text"):
            return TextDelta(delta["text"])
        return ()  # thinking, signature and tool-input deltas are not answer text
    if kind == "message_start":
        message = event.get("message") or {}
        return (StreamStarted(message.get("id"), message.get("model")), UsageUpdate(_usage(message.get("usage") or {})))
    if kind == "message_delta":
        out: list[Any] = []
        if event.get("usage"):
            out.append(UsageUpdate(_usage(event["usage"])))
        reason = (event.get("delta") or {}).get("stop_reason")
        if reason:
            out.append(FinishReasonSet(_FINISH.get(reason, "unknown"), reason, content_null=True))
        return out
    if kind == "error":
        error = event.get("error") or {}
        raise StreamErrorEvent(error.get("type"), error.get("message"))
    return ()  # ping, content_block_start/stop, message_stop


class AnthropicProvider(BaseProvider):
    kind = "anthropic"
    price_provider = "anthropic"
    convert = staticmethod(convert_event)

    def _sdk_client(self) -> Any:
        if self._client is None:
            import anthropic

            quiet_sdk_logging()
            self._client = anthropic.AsyncAnthropic(
                api_key=self.settings.api_key,
                http_client=anthropic.DefaultAsyncHttpxClient(verify=shared_ssl_context()),
                **self._sdk_client_options(),
            )
        return self._client

    def request_kwargs(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
        }
        if request.system:
            kwargs["system"] = request.system
        if request.output_schema is not None:
            from anthropic import transform_schema

            kwargs["output_config"] = {
                "format": {"type": "json_schema", "schema": transform_schema(request.output_schema)}
            }
        return kwargs

    async def _open(self, request: Request) -> OpenedStream:
        opener = self._sdk_client().messages.with_streaming_response.create(**self.request_kwargs(request))
        response = await opener.__aenter__()  # raises the SDK's typed error on a 4xx/5xx
        return (
            json_events(response, endpoint=self.settings.base_url),
            response.headers.get("request-id"),
            lambda: opener.__aexit__(None, None, None),
        )

    def classify(self, exc: BaseException, request_id: str | None) -> ProviderError:
        import anthropic

        if isinstance(exc, anthropic.APIStatusError):
            return from_status(
                exc.status_code,
                provider=self.spec,
                body_type=exc.type,
                api_message=exc.api_message,
                request_id=exc.request_id or request_id,
                headers=exc.response.headers,
                key_env=self.settings.key_env,
                token_param=self.caps.token_param,
                original=exc,
            )
        if isinstance(exc, StreamErrorEvent):
            return from_stream_error(
                exc,
                provider=self.spec,
                request_id=request_id,
                key_env=self.settings.key_env,
                token_param=self.caps.token_param,
            )
        return from_transport(exc, provider=self.spec, base_url=self.settings.base_url, request_id=request_id)
