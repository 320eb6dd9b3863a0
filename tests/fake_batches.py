"""The fake server's batch APIs: Anthropic Message Batches and OpenAI Files + Batches.

Each item of a batch is answered as the same request sent live would be (scripts, rules,
schema instances, cache simulation), when the batch is created; the batch then reports
"in progress" for `FakeServer.batch_processing_s` seconds before it ends. A scripted
`HttpError` makes that one item fail; `FakeServer.batch_expires = True` makes the next
batch expire with none of its items done. As the real APIs, an Anthropic batch may mix
models (each item names its own) and an OpenAI batch may not (refused here with a 400). Results come back as the real APIs send them:
Anthropic's JSONL from `results_url`, OpenAI's output and error files.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakeserver import FakeServer


@dataclass
class FakeBatch:
    api: str  # "anthropic" | "openai"
    id: str
    created: float
    ready_at: float
    outcomes: dict[str, dict[str, Any]]  # custom_id -> the finished item, in the API's own shape
    expires: bool = False
    cancelled: bool = False
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    polls: int = 0

    @property
    def ended(self) -> bool:
        return self.cancelled or time.monotonic() >= self.ready_at


@dataclass
class BatchBook:
    """Batches and uploaded files the fake server holds."""

    batches: dict[str, FakeBatch] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


# --- answering one item, as the live endpoint would ---------------------------------------


def answer_item(fake: FakeServer, api: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of one batch item: a whole (non-streamed) answer or an error."""
    from tests.fakeserver import (
        _ANTHROPIC_ERROR_TYPES,
        _OPENAI_ERROR_TYPES,
        HttpError,
        RawBody,
        _chunks,
        _estimate_tokens,
        _prompt_text,
        _reply_text,
    )

    model = str(body.get("model", ""))
    prompt = _prompt_text(body)
    step = fake._next_step(model, prompt)
    if isinstance(step, RawBody):
        step = HttpError(500, "unexpected body")
    if isinstance(step, HttpError):
        if api == "anthropic":
            kind = step.type or _ANTHROPIC_ERROR_TYPES.get(step.status, "api_error")
            return step.status, {"type": "error", "error": {"type": kind, "message": step.message or kind}}
        kind = step.type or _OPENAI_ERROR_TYPES.get(step.status, "server_error")
        return step.status, {"error": {"message": step.message or kind, "type": kind, "param": None, "code": step.code}}
    if api == "anthropic":
        schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    else:
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
    text = _reply_text(step, schema, model, prompt)
    usage_in = step.input_tokens if step.input_tokens is not None else _estimate_tokens(prompt)
    # As the live endpoints count them: a token per streamed chunk, plus reasoning.
    usage_out = (
        step.output_tokens
        if step.output_tokens is not None
        else len(_chunks(text, step.chunk_size)) + step.reasoning_tokens
    )
    read, written = step.cache_read_tokens, step.cache_write_tokens
    if not (read or written):
        read, written = fake.cache_anthropic(body) if api == "anthropic" else (fake.cache_openai(body), 0)
        read = min(read, usage_in)
    fake.log_usage(
        api,
        model,
        {
            "input_tokens": usage_in,
            "output_tokens": usage_out,
            "cache_read_tokens": read,
            "cache_write_tokens": written,
        },
        batch=True,
    )
    if api == "anthropic":
        stop = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}.get(step.finish, "end_turn")
        return 200, {
            "id": fake.next_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}] if text else [],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage_in - read - written,
                "output_tokens": usage_out,
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": read,
            },
        }
    return 200, {
        "id": fake.next_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": step.finish if step.finish != "none" else "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": usage_in,
            "completion_tokens": usage_out,
            "total_tokens": usage_in + usage_out,
            "prompt_tokens_details": {"cached_tokens": read, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": step.reasoning_tokens},
        },
    }


def _new_batch(fake: FakeServer, api: str, items: list[tuple[str, dict[str, Any]]]) -> FakeBatch:
    now = time.monotonic()
    with fake._lock:
        expires, fake.batch_expires = fake.batch_expires, False  # one batch expires, the next runs
    outcomes: dict[str, dict[str, Any]] = {}
    for cid, body in items:
        status, answer = (None, None) if expires else answer_item(fake, api, body)
        outcomes[cid] = {"status": status, "body": answer}
    batch = FakeBatch(
        api=api,
        id=fake.next_id("msgbatch_" if api == "anthropic" else "batch_"),
        created=time.time(),
        ready_at=now + fake.batch_processing_s,
        outcomes=outcomes,
        expires=expires,
    )
    with fake._lock:
        fake.batches.batches[batch.id] = batch
    return batch


# --- Anthropic Message Batches ---------------------------------------------------------------


def anthropic_batch_json(fake: FakeServer, batch: FakeBatch) -> dict[str, Any]:
    ended = batch.ended
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    for outcome in batch.outcomes.values():
        counts[_anthropic_result(batch, outcome)["type"] if ended else "processing"] += 1
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": counts,
        "created_at": _iso(batch.created),
        "expires_at": _iso(batch.created + 86400),
        "ended_at": _iso(time.time()) if ended else None,
        "cancel_initiated_at": _iso(time.time()) if batch.cancelled else None,
        "archived_at": None,
        "results_url": f"{fake.url}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


def _anthropic_result(batch: FakeBatch, outcome: dict[str, Any]) -> dict[str, Any]:
    if batch.expires:
        return {"type": "expired"}
    if batch.cancelled:
        return {"type": "canceled"}
    if outcome["status"] == 200:
        return {"type": "succeeded", "message": outcome["body"]}
    return {"type": "errored", "error": outcome["body"]}


def anthropic_route(handler: Any, method: str, path: str, body: dict[str, Any]) -> bool:
    """Serve an Anthropic batch endpoint; False when `path` is not one."""
    fake: FakeServer = handler.fake
    parts = path.split("/messages/batches", 1)
    if len(parts) != 2:
        return False
    rest = parts[1].strip("/").split("/") if parts[1].strip("/") else []
    if method == "POST" and not rest:
        items = [(r["custom_id"], r["params"]) for r in body.get("requests", [])]
        batch = _new_batch(fake, "anthropic", items)
        handler._json(200, anthropic_batch_json(fake, batch))
        return True
    if method == "GET" and not rest:
        data = [anthropic_batch_json(fake, b) for b in fake.batches.batches.values() if b.api == "anthropic"]
        data.reverse()  # newest first, as the API lists them
        handler._json(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )
        return True
    batch = fake.batches.batches.get(rest[0]) if rest else None
    if batch is None or batch.api != "anthropic":
        handler._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "batch not found"}})
        return True
    if method == "GET" and len(rest) == 1:
        batch.polls += 1
        handler._json(200, anthropic_batch_json(fake, batch))
    elif method == "POST" and rest[1:] == ["cancel"]:
        if not batch.ended:
            batch.cancelled = True
        handler._json(200, anthropic_batch_json(fake, batch))
    elif method == "GET" and rest[1:] == ["results"]:
        lines = [
            json.dumps({"custom_id": cid, "result": _anthropic_result(batch, outcome)})
            for cid, outcome in batch.outcomes.items()
        ]
        _raw(handler, "\n".join(lines) + "\n", "application/binary")
    else:
        handler._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "no such route"}})
    return True


# --- OpenAI Files + Batches -------------------------------------------------------------------


def openai_batch_json(fake: FakeServer, batch: FakeBatch) -> dict[str, Any]:
    ended = batch.ended
    if ended and batch.output_file_id is None and batch.error_file_id is None:
        _write_openai_files(fake, batch)
    failed = sum(1 for o in batch.outcomes.values() if o["status"] != 200)
    if batch.expires:
        status = "expired" if ended else "in_progress"
    elif batch.cancelled:
        status = "cancelled"
    else:
        status = "completed" if ended else "in_progress"
    return {
        "id": batch.id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "errors": None,
        "input_file_id": batch.input_file_id,
        "completion_window": "24h",
        "status": status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": int(batch.created),
        "in_progress_at": int(batch.created),
        "expires_at": int(batch.created) + 86400,
        "completed_at": int(time.time()) if status == "completed" else None,
        "expired_at": int(time.time()) if status == "expired" else None,
        "cancelled_at": int(time.time()) if status == "cancelled" else None,
        "request_counts": {
            "total": len(batch.outcomes),
            "completed": len(batch.outcomes) - failed if ended and status == "completed" else 0,
            "failed": failed if ended and status == "completed" else 0,
        },
        "metadata": None,
    }


def _write_openai_files(fake: FakeServer, batch: FakeBatch) -> None:
    out, errors = [], []
    for cid, outcome in batch.outcomes.items():
        line: dict[str, Any] = {"id": fake.next_id("batch_req_"), "custom_id": cid, "error": None}
        if batch.expires or batch.cancelled:
            code = "batch_expired" if batch.expires else "batch_cancelled"
            line["response"] = None
            line["error"] = {"code": code, "message": f"This request was not run: the batch {code[6:]}."}
            errors.append(line)
            continue
        line["response"] = {
            "status_code": outcome["status"],
            "request_id": fake.next_id("req_"),
            "body": outcome["body"],
        }
        (out if outcome["status"] == 200 else errors).append(line)
    if out:
        batch.output_file_id = _store_file(fake, "\n".join(json.dumps(x) for x in out) + "\n")
    if errors:
        batch.error_file_id = _store_file(fake, "\n".join(json.dumps(x) for x in errors) + "\n")


def _store_file(fake: FakeServer, text: str) -> str:
    file_id = fake.next_id("file-")
    with fake._lock:
        fake.batches.files[file_id] = text.encode()
    return file_id


def openai_route(handler: Any, method: str, path: str, raw: bytes) -> bool:
    """Serve an OpenAI files or batches endpoint; False when `path` is not one."""
    fake: FakeServer = handler.fake
    if "/v1/files" in path:
        rest = path.split("/v1/files", 1)[1].strip("/").split("/")
        if method == "POST" and rest == [""]:
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + handler.headers["content-type"].encode() + b"\r\n\r\n" + raw
            )
            fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
            content = fields["file"].get_payload(decode=True)
            file_id = _store_file(fake, content.decode())
            handler._json(
                200,
                {
                    "id": file_id,
                    "object": "file",
                    "bytes": len(content),
                    "created_at": int(time.time()),
                    "filename": fields["file"].get_filename() or "batch.jsonl",
                    "purpose": fields["purpose"].get_payload(),
                },
            )
        elif method == "GET" and len(rest) == 2 and rest[1] == "content" and rest[0] in fake.batches.files:
            _raw(handler, fake.batches.files[rest[0]].decode(), "application/octet-stream")
        else:
            handler._json(404, {"error": {"message": "No such file", "type": "invalid_request_error"}})
        return True
    if "/v1/batches" not in path:
        return False
    rest = [p for p in path.split("/v1/batches", 1)[1].strip("/").split("/") if p]
    if method == "POST" and not rest:
        body = json.loads(raw or b"{}")
        source = fake.batches.files.get(body.get("input_file_id", ""))
        if source is None:
            handler._json(400, {"error": {"message": "input file not found", "type": "invalid_request_error"}})
            return True
        lines = [json.loads(line) for line in source.decode().splitlines() if line.strip()]
        if len({line["body"].get("model") for line in lines}) > 1:  # the batch guide's rule
            message = "each input file can only include requests to a single model"
            handler._json(400, {"error": {"message": message, "type": "invalid_request_error"}})
            return True
        batch = _new_batch(fake, "openai", [(line["custom_id"], line["body"]) for line in lines])
        batch.input_file_id = body["input_file_id"]
        handler._json(200, openai_batch_json(fake, batch))
        return True
    if method == "GET" and not rest:
        data = [openai_batch_json(fake, b) for b in fake.batches.batches.values() if b.api == "openai"]
        data.reverse()
        handler._json(200, {"object": "list", "data": data, "has_more": False})
        return True
    batch = fake.batches.batches.get(rest[0])
    if batch is None or batch.api != "openai":
        handler._json(404, {"error": {"message": "No batch found", "type": "invalid_request_error"}})
    elif method == "GET" and len(rest) == 1:
        batch.polls += 1
        handler._json(200, openai_batch_json(fake, batch))
    elif method == "POST" and rest[1:] == ["cancel"]:
        if not batch.ended:
            batch.cancelled = True
        handler._json(200, openai_batch_json(fake, batch))
    else:
        handler._json(404, {"error": {"message": "no such route", "type": "invalid_request_error"}})
    return True


def _raw(handler: Any, text: str, content_type: str) -> None:
    data = text.encode()
    handler.send_response(200)
    handler.send_header("content-type", content_type)
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def created(fake: FakeServer, api: str) -> list[str]:
    """Ids of the batches created through `api`, oldest first (one create each)."""
    return [b.id for b in fake.batches.batches.values() if b.api == api]
