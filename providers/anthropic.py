"""Anthropic Messages API: streaming, native JSON-schema output, usage with thinking tokens.

The SDK (about 2 s to import) is imported on first use, never at module import. It
builds, authenticates and sends the request and raises its typed HTTP errors; the
event stream is read as wire JSON (see sse.py) and converted by `convert_event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import BaseProvider, Converted, OpenedStream, quiet_sdk_logging, shared_ssl_context
from .batch import BatchItem, BatchOutcome, BatchStatus, check_custom_ids
from .classify import StreamErrorEvent, from_status, from_stream_error, from_transport
from .errors import ProviderError
from .scrub import scrub_error
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


#: A cache breakpoint: Anthropic caches the prompt up to and including the marked block
#: (reads cost 0.1x the input price, writes 1.25x). At most four per request; we use two,
#: and only when the caller will resend the prefix (`ProviderSettings.prompt_cache`): a
#: one-off call would pay the write premium for nothing.
_CACHE_MARK: dict[str, Any] = {"cache_control": {"type": "ephemeral"}}


def cached_messages(request: Request) -> list[dict[str, Any]]:
    """The messages, with a cache breakpoint where the first one's stable prefix ends
    (the system prompt carries the other), so requests sharing that prefix read it from
    the cache. A request that marks no stable prefix goes as plain strings."""
    messages: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in request.messages]
    cut = request.stable_prefix
    if not cut or not messages:
        return messages
    first = request.messages[0].content
    blocks = [{"type": "text", "text": first[:cut], **_CACHE_MARK}]
    if first[cut:]:
        blocks.append({"type": "text", "text": first[cut:]})
    messages[0]["content"] = blocks
    return messages


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
        usage = message.get("usage") or {}
        started = StreamStarted(message.get("id"), message.get("model"), service_tier=usage.get("service_tier"))
        return (started, UsageUpdate(_usage(usage)))
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


def message_as_wire(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A whole Messages answer (a batch result) as the stream events that would carry it,
    so it goes through `convert_event` like any streamed answer."""
    usage = dict(message.get("usage") or {})
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 0}}
    wire: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    wire += [
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": block.get("text") or ""}}
        for block in message.get("content") or []
        if block.get("type") == "text"
    ]
    wire.append({"type": "message_delta", "delta": {"stop_reason": message.get("stop_reason")}, "usage": usage})
    return wire


_ANTHROPIC_COUNTS = ("processing", "succeeded", "errored", "expired", "canceled")
# A batch item's error carries its type but no status: the status that type comes with, so
# it is classified as the same error sent live would be.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class AnthropicProvider(BaseProvider):
    kind = "anthropic"
    price_provider = "anthropic"
    sdk_package = "anthropic"
    convert = staticmethod(convert_event)
    batch_api = True

    @property
    def batch_scope(self) -> str:
        """Which calls may share a batch: every model of one account at one endpoint (each
        item of a Message Batch names its own model)."""
        return f"anthropic|{self.settings.base_url}|{self.settings.key_env}"

    # --- Message Batches ---------------------------------------------------------------

    def _batch_status(self, batch: Any) -> BatchStatus:
        counts = batch.request_counts
        return BatchStatus(
            id=batch.id,
            provider=self.spec,
            ended=batch.processing_status == "ended",
            state=batch.processing_status,
            counts={name: int(getattr(counts, name, 0) or 0) for name in _ANTHROPIC_COUNTS},
            created_at=str(batch.created_at),
        )

    async def submit_batch(self, items: list[BatchItem]) -> BatchStatus:
        check_custom_ids(items)
        requests = []
        for item in items:
            params = (item.owner or self).batch_body(item.request)
            requests.append({"custom_id": item.custom_id, "params": params})
        batches = self._sdk_client().messages.batches
        return self._batch_status(await self.sdk_call(batches.create(requests=requests)))

    async def poll_batch(self, batch_id: str) -> BatchStatus:
        return self._batch_status(await self.sdk_call(self._sdk_client().messages.batches.retrieve(batch_id)))

    async def cancel_batch(self, batch_id: str) -> BatchStatus:
        return self._batch_status(await self.sdk_call(self._sdk_client().messages.batches.cancel(batch_id)))

    async def list_batches(self) -> list[BatchStatus]:
        page = await self.sdk_call(self._sdk_client().messages.batches.list(limit=100))
        return [self._batch_status(b) for b in page.data]

    async def batch_results(
        self, batch_id: str, requests: dict[str, Request], owners: Mapping[str, Any] | None = None
    ) -> list[BatchOutcome]:
        decoder = await self.sdk_call(self._sdk_client().messages.batches.results(batch_id))
        outcomes: list[BatchOutcome] = []
        async for line in decoder:
            row = line.model_dump(mode="json")
            cid, result = row["custom_id"], row["result"]
            request = requests.get(cid)
            if request is None:
                continue  # not one of ours (or already collected)
            kind = result.get("type")
            owner: BaseProvider = (owners or {}).get(cid) or self  # its model's converter and price
            if kind == "succeeded":
                message = result["message"]
                try:
                    response = owner.response_from_wire(request, message_as_wire(message), request_id=message.get("id"))
                except ProviderError as invalid:
                    outcomes.append(BatchOutcome(cid, "errored", error=invalid))
                else:
                    outcomes.append(BatchOutcome(cid, "succeeded", response=response))
            elif kind == "errored":
                inner = ((result.get("error") or {}).get("error")) or {}
                body_type = str(inner.get("type") or "api_error")
                failure = owner.classify(
                    StreamErrorEvent(body_type, inner.get("message"), _ERROR_STATUS.get(body_type)), None
                )
                scrub_error(failure)
                outcomes.append(BatchOutcome(cid, "errored", error=failure))
            else:
                outcomes.append(BatchOutcome(cid, "canceled" if kind == "canceled" else "expired"))
        return outcomes

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
        marked = request.stable_prefix is not None and self.settings.prompt_cache
        if marked:
            kwargs["messages"] = cached_messages(request)
        if request.system:
            kwargs["system"] = [{"type": "text", "text": request.system, **_CACHE_MARK}] if marked else request.system
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
