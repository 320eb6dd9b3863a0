"""OpenAI chat completions, and every OpenAI-compatible endpoint through `base_url`.

Streaming asks for the usage chunk (`stream_options.include_usage`), which arrives after
the last content chunk with empty `choices`. The token-limit parameter comes from the
model's declared capabilities. The SDK is imported on first use; it sends the request
and raises typed HTTP errors, and the chunks are read as wire JSON (see sse.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import BaseProvider, Converted, OpenedStream, quiet_sdk_logging, shared_ssl_context
from .batch import BatchItem, BatchOutcome, BatchStatus, ItemState, check_custom_ids
from .classify import StreamErrorEvent, from_status, from_stream_error, from_transport
from .errors import ProviderError
from .grammar import grammar_if_installed
from .scrub import scrub_error
from .sse import json_events
from .structured import bounded_schema, schema_instructions
from .types import FinishReason, FinishReasonSet, Request, StreamStarted, TextDelta, Usage, UsageUpdate

if TYPE_CHECKING:  # pydantic is only needed when a caller asks for structured output
    from pydantic import BaseModel

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}


def _usage(u: dict[str, Any]) -> Usage:
    prompt_details = u.get("prompt_tokens_details") or {}
    completion_details = u.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=u.get("prompt_tokens"),
        output_tokens=u.get("completion_tokens"),
        reasoning_tokens=completion_details.get("reasoning_tokens"),
        cache_read_tokens=prompt_details.get("cached_tokens"),
        cache_write_tokens=prompt_details.get("cache_write_tokens"),  # OpenRouter's; OpenAI reports none
    )


def stream_error(error: Any) -> StreamErrorEvent:
    """A chunk's `error` object as an error to classify. A numeric `code` (OpenRouter's
    `400`, `502`) is an HTTP status; a text one (`server_error`) is a body type."""
    if not isinstance(error, dict):
        return StreamErrorEvent(None, str(error))
    code = error.get("code")
    number = code if isinstance(code, int) and not isinstance(code, bool) else None
    if isinstance(code, str) and code.isdigit():
        number = int(code)
    numeric = number is not None
    status = number if number is not None and 400 <= number <= 599 else None
    body_type = error.get("type") or (code if isinstance(code, str) and not numeric else None)
    message = error.get("message")
    return StreamErrorEvent(body_type, message if isinstance(message, str) and message else None, status)


def convert_chunk(chunk: dict[str, Any]) -> Converted:
    """One `chat.completion.chunk` (wire JSON) to project events."""
    error = chunk.get("error")
    if error:  # as the openai SDK reads a stream: an `error` ends it, whatever else the chunk carries
        raise stream_error(error)
    choices: Sequence[dict[str, Any]] = chunk.get("choices") or ()
    usage = chunk.get("usage")
    if usage is None and len(choices) == 1:  # the hot path: one plain text chunk
        choice = choices[0]
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content and choice.get("finish_reason") is None and not delta.get("role") and not choice.get("index"):
            return TextDelta(content)
    out: list[Any] = []
    for choice in choices:
        if choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta") or {}
        if delta.get("role"):
            out.append(
                StreamStarted(
                    chunk.get("id"), chunk.get("model"), chunk.get("system_fingerprint"), chunk.get("service_tier")
                )
            )
        if delta.get("content"):
            out.append(TextDelta(delta["content"]))
        raw = choice.get("finish_reason")
        if raw:
            out.append(FinishReasonSet(_FINISH.get(raw, "unknown"), raw, content_null=True))
    if usage:
        out.append(UsageUpdate(_usage(usage)))
    return out


def completion_as_wire(completion: dict[str, Any]) -> list[dict[str, Any]]:
    """A whole chat completion (a batch result) as the one chunk that would carry it, so it
    goes through `convert_chunk` like any streamed answer."""
    choices = [
        {
            "index": c.get("index", 0),
            "delta": {"role": "assistant", "content": (c.get("message") or {}).get("content")},
            "finish_reason": c.get("finish_reason"),
        }
        for c in completion.get("choices") or []
    ]
    return [
        {
            "id": completion.get("id"),
            "model": completion.get("model"),
            "choices": choices,
            "usage": completion.get("usage"),
        }
    ]


_OPENAI_ENDED = {"completed", "failed", "expired", "cancelled"}


class OpenAIProvider(BaseProvider):
    kind = "openai"
    price_provider: str | None = "openai"
    sdk_package = "openai"
    convert = staticmethod(convert_chunk)

    @property
    def batch_api(self) -> bool:
        """OpenAI's own API has /v1/batches; compatible endpoints (the same class) do not."""
        return self.caps.prompt_cache_key  # declared for OpenAI's own models only

    @property
    def batch_scope(self) -> str:
        """Which calls may share a batch: one model's (OpenAI's batch guide: each input file
        can only include requests to a single model)."""
        return f"openai|{self.settings.base_url}|{self.settings.key_env}|{self.model}"

    # --- Files + Batches -------------------------------------------------------------------

    def _batch_status(self, batch: Any) -> BatchStatus:
        counts = batch.request_counts
        total = int(getattr(counts, "total", 0) or 0)
        done = int(getattr(counts, "completed", 0) or 0)
        failed = int(getattr(counts, "failed", 0) or 0)
        ended = batch.status in _OPENAI_ENDED
        left = max(0, total - done - failed)
        return BatchStatus(
            id=batch.id,
            provider=self.spec,
            ended=ended,
            state=batch.status,
            counts={
                "processing": 0 if ended else left,
                "succeeded": done,
                "errored": failed,
                "expired": left if batch.status == "expired" else 0,
                "canceled": left if batch.status == "cancelled" else 0,
            },
            created_at=str(batch.created_at),
        )

    async def submit_batch(self, items: list[BatchItem]) -> BatchStatus:
        import json

        check_custom_ids(items)
        lines = []
        for item in items:
            body = (item.owner or self).batch_body(item.request)
            body.update(body.pop("extra_body", None) or {})
            lines.append(
                json.dumps({"custom_id": item.custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})
            )
        client = self._sdk_client()
        upload = ("driftcheck-batch.jsonl", ("\n".join(lines) + "\n").encode(), "application/jsonl")
        file = await self.sdk_call(client.files.create(file=upload, purpose="batch"))
        batch = await self.sdk_call(
            client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        )
        return self._batch_status(batch)

    async def poll_batch(self, batch_id: str) -> BatchStatus:
        return self._batch_status(await self.sdk_call(self._sdk_client().batches.retrieve(batch_id)))

    async def cancel_batch(self, batch_id: str) -> BatchStatus:
        return self._batch_status(await self.sdk_call(self._sdk_client().batches.cancel(batch_id)))

    async def list_batches(self) -> list[BatchStatus]:
        page = await self.sdk_call(self._sdk_client().batches.list(limit=100))
        return [self._batch_status(b) for b in page.data]

    async def batch_results(
        self, batch_id: str, requests: dict[str, Request], owners: Mapping[str, Any] | None = None
    ) -> list[BatchOutcome]:
        import json

        client = self._sdk_client()
        batch = await self.sdk_call(client.batches.retrieve(batch_id))
        rows: list[dict[str, Any]] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                content = await self.sdk_call(client.files.content(file_id))
                rows += [json.loads(line) for line in content.text.splitlines() if line.strip()]
        outcomes: dict[str, BatchOutcome] = {}
        for row in rows:
            cid = str(row.get("custom_id"))
            request = requests.get(cid)
            if request is None:
                continue
            owner: OpenAIProvider = (owners or {}).get(cid) or self  # its model's converter and price
            outcomes[cid] = owner._batch_outcome(cid, request, row)
        never_run: ItemState = "canceled" if batch.status == "cancelled" else "expired"
        for cid in requests:  # a failed or expired batch may leave items out of both files
            outcomes.setdefault(cid, BatchOutcome(cid, never_run))
        return list(outcomes.values())

    def _batch_outcome(self, cid: str, request: Request, row: dict[str, Any]) -> BatchOutcome:
        response = row.get("response") or {}
        error = row.get("error") or {}
        if error and not response:
            code = str(error.get("code") or "")
            return BatchOutcome(cid, "canceled" if "cancel" in code else "expired")
        status = int(response.get("status_code") or 0)
        body = response.get("body") or {}
        request_id = response.get("request_id")
        if status == 200:
            try:
                answer = self.response_from_wire(request, completion_as_wire(body), request_id=request_id)
            except ProviderError as exc:
                return BatchOutcome(cid, "errored", error=exc)
            return BatchOutcome(cid, "succeeded", response=answer)
        detail: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        failure = self.classify(
            StreamErrorEvent(detail.get("type") or detail.get("code"), detail.get("message"), status), request_id
        )
        scrub_error(failure)
        return BatchOutcome(cid, "errored", error=failure)

    def _sdk_client(self) -> Any:
        if self._client is None:
            import openai

            quiet_sdk_logging()
            # Keyless OpenAI-compatible servers (Ollama, llama.cpp) still need a non-empty key.
            self._client = openai.AsyncOpenAI(
                api_key=self.settings.api_key or "not-needed",
                http_client=openai.DefaultAsyncHttpxClient(verify=shared_ssl_context()),
                **self._sdk_client_options(),
            )
        return self._client

    def request_kwargs(self, request: Request) -> dict[str, Any]:
        system = request.system
        grammar_body: dict[str, str] = {}
        kwargs: dict[str, Any] = {"model": self.model, "stream": True, self.caps.token_param: request.max_tokens}
        if self.caps.streaming_usage:
            kwargs["stream_options"] = {"include_usage": True}
        if request.output_schema is not None:
            if self.caps.native_structured_output:
                schema = strict_json_schema(request.output_schema)
                if self.caps.structured_output_format == "json_object":
                    # llama-cpp-python's server: the schema becomes a grammar, so bound it. Its
                    # converter ignores minimum/maximum; when llama-cpp-python is installed here
                    # the grammar itself is sent, with every numeric bound in it.
                    bounded = bounded_schema(schema)
                    grammar = grammar_if_installed(bounded)
                    if grammar is None:
                        kwargs["response_format"] = {"type": "json_object", "schema": bounded}
                    else:
                        grammar_body = {"grammar": grammar}
                else:
                    kwargs["response_format"] = {
                        "type": "json_schema",
                        "json_schema": {"name": request.schema_name, "strict": True, "schema": schema},
                    }
            else:  # no native mechanism: the schema goes in the prompt, parsed tolerantly later
                instructions = schema_instructions(request.output_schema)
                system = f"{system}\n\n{instructions}" if system else instructions
        if self.settings.extra_body or grammar_body:
            kwargs["extra_body"] = {**self.settings.extra_body, **grammar_body}
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        kwargs["messages"] = messages
        stable = request.stable_text()
        if stable is not None and self.caps.prompt_cache_key:
            kwargs["prompt_cache_key"] = prompt_cache_key(self.model, stable)
        return kwargs

    async def _open(self, request: Request) -> OpenedStream:
        opener = self._sdk_client().chat.completions.with_streaming_response.create(**self.request_kwargs(request))
        response = await opener.__aenter__()  # raises the SDK's typed error on a 4xx/5xx
        return (
            json_events(response, endpoint=self.settings.base_url),
            response.headers.get("x-request-id"),
            lambda: opener.__aexit__(None, None, None),
        )

    def classify(self, exc: BaseException, request_id: str | None) -> ProviderError:
        import openai

        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            return from_status(
                exc.status_code,
                provider=self.spec,
                body_type=body.get("type") or body.get("code"),
                api_message=body.get("message") or exc.message,
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


def prompt_cache_key(model: str, stable_text: str) -> str:
    """OpenAI caches long prefixes by itself; requests with the same key are routed to the
    same cache, so the key names the shared prefix (a digest: no prompt text leaves in it)."""
    import hashlib

    return "driftcheck-" + hashlib.sha256(f"{model}\x00{stable_text}".encode()).hexdigest()[:32]


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON Schema as OpenAI's strict mode takes it, made by the SDK's public helper
    (the one `chat.completions.parse` uses), so it follows the SDK's rules as they change."""
    from openai.lib import type_to_response_format_param

    response_format: Any = type_to_response_format_param(model)
    schema: dict[str, Any] = response_format["json_schema"]["schema"]
    return schema
