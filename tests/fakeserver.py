"""A faithful fake of the Anthropic Messages and OpenAI chat-completions APIs.

It is a real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that streams Server-Sent
Events in chunked transfer encoding, exactly as the real APIs do, so the real SDKs can be
pointed at it with `base_url`. Tests script what each request gets — a normal reply,
structured output generated from the request's schema, or a fault — and read back every
request received.

    server = FakeServer().start()
    server.script(HttpError(529, retry_after_ms=20), Reply(text="hello"))

A hostile or careless provider can echo the key it was sent: `ECHO_KEY` in a reply's
text, an error's message or a mid-stream error's message is replaced by the API key the
request carried (its `x-api-key`, or the `Authorization: Bearer` value).

Run it by hand with `python -m tests.fakeserver` to point driftcheck at it.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_batches import BatchBook, anthropic_route, openai_route

# --- what a request can be answered with ------------------------------------------------

ECHO_KEY = "{the request's API key}"
HOLD_S = 5.0  # how long a held request waits for its peers (FakeServer.hold_open)


@dataclass
class Reply:
    """A streamed answer, optionally with a fault partway through.

    `text=None` answers with an instance of the request's schema when it has one, else a
    short sentence. Token counts default to what the reply actually contains.
    """

    text: str | None = None
    chunk_size: int = 4
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int = 0
    # Part of the input read from / written to the provider's cache (Anthropic; OpenRouter's
    # prompt_tokens_details). Both 0: the server works them out as the real caches would.
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    finish: str = "stop"  # stop | length | content_filter | pause_turn (Anthropic) | none (no reason)
    first_token_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    usage: bool = True  # False: no usage chunk (OpenAI-compatible servers)
    null_content: bool = False  # OpenAI: content is null throughout
    error_after: int | None = None  # an `error` event after N text chunks
    error_type: str = "overloaded_error"
    error_message: str | None = None  # the error event's message (default: the API's usual one)
    drop_after: int | None = None  # the connection is cut after N text chunks
    stall_after: int | None = None  # silence for `stall_s` after N text chunks
    stall_s: float = 0.0
    error_code: int | str | None = None  # OpenAI: the error object's `code` (OpenRouter sends 400, 502)
    error_with_choices: bool = False  # OpenAI: the error rides on a whole chunk, choices and all (OpenRouter)
    # Provenance as the API reports it: the model id that served the call (None: the one
    # asked for; an alias can resolve to a dated snapshot), OpenAI's backend fingerprint
    # and the service tier (Anthropic reports it in usage, OpenAI on every chunk).
    served_model: str | None = None
    system_fingerprint: str | None = "fp_fake"
    service_tier: str | None = None


@dataclass
class HttpError:
    """An error response before any streaming, with the body each API really sends."""

    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: str | None = None
    retry_after_ms: int | None = None


@dataclass
class RawBody:
    """Anything at all, for endpoints that break the protocol (non-streaming JSON, junk)."""

    body: str
    content_type: str = "application/json"
    status: int = 200


def rate_limited(retry_after: str | None = None, retry_after_ms: int | None = None) -> HttpError:
    return HttpError(
        429,
        "Number of request tokens has exceeded your per-minute rate limit",
        retry_after=retry_after,
        retry_after_ms=retry_after_ms,
    )


def overloaded(retry_after_ms: int | None = None) -> HttpError:
    return HttpError(529, "Overloaded", retry_after_ms=retry_after_ms)


def unauthorized() -> HttpError:
    return HttpError(401, "invalid x-api-key")


def empty_billed(reasoning_tokens: int = 512) -> Reply:
    """The seeds' silent failure: no text, every output token spent reasoning, billed."""
    return Reply(text="", output_tokens=reasoning_tokens, reasoning_tokens=reasoning_tokens, finish="length")


_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
    529: "server_error",
}
_OPENAI_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded", 404: "model_not_found"}

# OpenAI models that refuse `max_tokens`, as the real API does (the seeds' GPT-5.5 case).
DEFAULT_TOKEN_PARAM_RULES = {r"^(gpt-5|o\d)": "max_completion_tokens"}


Step = Reply | HttpError | RawBody


def heavy_tailed_delays(count: int, *, scale: float = 1.0, seed: int = 7, tail_share: float = 0.02) -> list[float]:
    """First-token delays shaped like the seeds' measurements of a real API: a body with
    median about 1.6 s and p95 about 2.3 s (p95/median ~1.45), and rare calls of 6-11 s
    that have nothing to do with the request. `scale` shrinks it for tests (0.1: median
    0.16 s). Deterministic for a seed."""
    import random

    rng = random.Random(seed)
    sigma = 0.221  # ln(2.3 / 1.6) / 1.645
    delays = [
        rng.uniform(6.0, 11.0) if rng.random() < tail_share else 1.6 * rng.lognormvariate(0.0, sigma)
        for _ in range(count)
    ]
    return [d * scale for d in delays]


@dataclass
class RecordedRequest:
    api: str  # "anthropic" | "openai"
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def system_text(self) -> str:
        """The system prompt, whether sent as a string or as (cache-marked) text blocks."""
        return _content_text(self.body.get("system"))

    def message_text(self, index: int) -> str:
        """A message's text, whether sent as a string or as (cache-marked) text blocks."""
        return _content_text(self.body["messages"][index].get("content"))


# --- schema instances ---------------------------------------------------------------------


def instance_of(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small valid instance of a JSON schema, as a structured-output API would return."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return instance_of((root.get("$defs") or root.get("definitions") or {})[name], root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance_of(options[0], root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {name: instance_of(sub, root) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [instance_of(schema.get("items", {}), root) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("maximum", 1)))
    if kind == "number":
        return float(schema.get("minimum", schema.get("maximum", 1.0)))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "x" * max(1, schema.get("minLength", 0)) if schema.get("minLength") else "example"


# --- the server -----------------------------------------------------------------------------


class _Cut(Exception):
    """Raised inside a handler to end it after deliberately breaking the connection."""


class _Answered(Exception):
    """Raised inside a handler once a raw scripted body has been sent."""


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default of 5 resets connections under concurrent benchmarks

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The server's own traceback goes to the test process's stderr, never into the
        # captured stderr of a command running in this process at the same moment.
        print(f"fake server: error serving {client_address}:", file=sys.__stderr__)
        traceback.print_exc(file=sys.__stderr__)


class FakeServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str | None, deque[Step]] = {}
        self.requests: list[RecordedRequest] = []
        self.token_param_rules: dict[str, str] = dict(DEFAULT_TOKEN_PARAM_RULES)
        self.default_reply = Reply()
        self.model_replies: dict[str, Reply] = {}  # what unscripted requests for one model get
        self.model_delays: dict[str, deque[float]] = {}  # their first-token delays, in turn
        # prompt -> first-token delays, in turn: a benchmark's own draws for each request
        self.prompt_delays: dict[str, deque[float]] = {}
        self.connections = 0  # TCP connections accepted since the start (not reset)
        # (model, words, reply): a request for `model` whose prompt holds every word gets `reply`.
        self.rules: list[tuple[str, tuple[str, ...], Step]] = []
        self._ids = itertools.count(1)
        # Prompt caches, as the real APIs keep them: Anthropic caches a prefix ending at a
        # `cache_control` block, OpenAI any prompt of `cache_min_tokens` or more (hits in
        # steps of 128 tokens). Prompts shorter than this are never cached.
        self.cache_min_tokens = 1024
        self._anthropic_cache: set[tuple[str, str]] = set()
        self._openai_cache: dict[str, list[str]] = {}
        # The batch APIs (tests/fake_batches.py): how long a batch stays in progress, and
        # whether the next one expires with nothing done.
        self.batches = BatchBook()
        self.batch_processing_s = 0.0
        self.batch_expires = False
        #: What every answered call reported (api, model, input/output/cache tokens, batch):
        #: the provider's bill, for cost figures measured against this server.
        self.usage_log: list[dict[str, Any]] = []
        # Concurrency, seen from the server: how many chat requests are open now and the
        # most ever open at once. With `hold_open` N, each request after the first
        # `hold_after` waits (up to HOLD_S) until N are open together: a client that sends
        # one after another never gets there, and `most_open` says so without a clock.
        self.open_now = self.most_open = 0
        self.hold_open = self.hold_after = 0
        self._opened = 0
        self._open_changed = threading.Condition()
        server = self

        class Handler(_Handler):
            fake = server

        self.httpd = _Server((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    # scripting
    def script(self, *steps: Step, model: str | None = None) -> None:
        """Queue answers for the next requests (for one model, or for any)."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(steps)

    def latency_profile(self, model: str, delays: list[float], reply: Reply | None = None) -> None:
        """Unscripted requests for `model` get `reply` with these first-token delays, in turn."""
        with self._lock:
            self.model_delays[model] = deque(delays)
            if reply is not None:
                self.model_replies[model] = reply

    def prompt_latency(self, delays: dict[str, list[float]]) -> None:
        """A request whose prompt is exactly a key gets that key's first-token delays, in
        turn: a benchmark draws them itself, so it knows which delay each request met (a
        hedge's second request for the same prompt gets the second draw)."""
        with self._lock:
            self.prompt_delays.update((prompt, deque(values)) for prompt, values in delays.items())

    def reply_when(self, model: str, words: tuple[str, ...] | list[str], reply: Step) -> None:
        """Unscripted requests for `model` whose prompt contains all of `words` get `reply`
        (the first matching rule wins): a fake model that answers by what it is asked."""
        with self._lock:
            self.rules.append((model, tuple(words), reply))

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self._scripts.clear()
            self.requests.clear()
            self.token_param_rules = dict(DEFAULT_TOKEN_PARAM_RULES)
            self.default_reply = Reply()
            self.model_replies.clear()
            self.model_delays.clear()
            self.cache_min_tokens = 1024
            self.batches = BatchBook()
            self.batch_processing_s = 0.0
            self.batch_expires = False
            self._anthropic_cache.clear()
            self._openai_cache.clear()
            self.usage_log.clear()
        with self._open_changed:
            self.most_open = self.hold_open = self.hold_after = self._opened = 0
            self.prompt_delays.clear()

    def _next_step(self, model: str, prompt: str = "") -> Step:
        with self._lock:
            for key in (model, None):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
            for rule_model, words, reply in self.rules:
                if rule_model == model and all(w in prompt for w in words):
                    return reply
            delays = self.prompt_delays.get(prompt) or self.model_delays.get(model)
            reply = self.model_replies.get(model, self.default_reply)
            if delays:
                return replace(reply, first_token_delay_s=delays.popleft())
            return reply

    @contextmanager
    def open_request(self) -> Iterator[None]:
        with self._open_changed:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            self._opened += 1
            self._open_changed.notify_all()
            if self.hold_open and self._opened > self.hold_after:
                self._open_changed.wait_for(lambda: self.open_now >= self.hold_open, timeout=HOLD_S)
        try:
            yield
        finally:
            with self._open_changed:
                self.open_now -= 1
                self._open_changed.notify_all()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def cache_anthropic(self, body: dict[str, Any]) -> tuple[int, int]:
        """(read, written) tokens for a Messages request: the longest marked prefix seen
        before is read; the rest up to the last marked block is written."""
        parts = _prompt_parts(body)
        model = str(body.get("model", ""))
        prefixes = ["\n".join(text for text, _ in parts[: n + 1]) for n, (_, mark) in enumerate(parts) if mark]
        cacheable = [
            ((model, prefix), _estimate_tokens(prefix))
            for prefix in prefixes
            if _estimate_tokens(prefix) >= self.cache_min_tokens
        ]
        if not cacheable:
            return 0, 0
        with self._lock:
            read = max((tokens for key, tokens in cacheable if key in self._anthropic_cache), default=0)
            self._anthropic_cache.update(key for key, _ in cacheable)
        return read, cacheable[-1][1] - read

    def cache_openai(self, body: dict[str, Any]) -> int:
        """Cached tokens for a chat request: the longest prefix it shares with an earlier
        prompt to the same model, in steps of 128 tokens from `cache_min_tokens`."""
        prompt = _prompt_text(body)
        model = str(body.get("model", ""))
        if _estimate_tokens(prompt) < self.cache_min_tokens:
            return 0
        with self._lock:
            seen = self._openai_cache.setdefault(model, [])
            shared = max((_shared_prefix(prompt, old) for old in seen), default=0)
            seen.append(prompt)
        tokens = shared // 4
        if tokens < self.cache_min_tokens:
            return 0
        return self.cache_min_tokens + (tokens - self.cache_min_tokens) // 128 * 128

    def log_usage(self, api: str, model: str, usage: dict[str, int], *, batch: bool = False) -> None:
        with self._lock:
            self.usage_log.append({"api": api, "model": model, "batch": batch, **usage})

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}fake"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake.connections += 1
        # Like real API front ends: without this, small SSE writes wait ~40 ms on Nagle
        # and delayed ACKs, which would swamp every latency figure measured against us.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing -------------------------------------------------------------------------
    def _echo(self, text: str) -> str:
        """`text` with ECHO_KEY replaced by the key this request carried."""
        if ECHO_KEY not in text:
            return text
        bearer = self.headers.get("authorization") or ""
        key = self.headers.get("x-api-key") or bearer.removeprefix("Bearer ")
        return text.replace(ECHO_KEY, key)

    def _read_raw(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_body(self, raw: bytes | None = None) -> dict[str, Any]:
        raw = self._read_raw() if raw is None else raw
        try:
            body = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_sse(self, id_header: str, request_id: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header(id_header, request_id)
        self.end_headers()

    def _send(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True
        raise _Cut

    # --- routing --------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if not (anthropic_route(self, "GET", path, {}) or openai_route(self, "GET", path, b"")):
            self._json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def do_POST(self) -> None:
        raw = self._read_raw()
        body = self._read_body(raw)
        path = self.path.split("?", 1)[0].rstrip("/")
        if "/batches" in path or "/v1/files" in path:
            api = "anthropic" if "/messages/batches" in path else "openai"
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.fake._record(RecordedRequest(api, path, headers, body))
            if not (anthropic_route(self, "POST", path, body) or openai_route(self, "POST", path, raw)):
                self._json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})
            return
        try:
            if path.endswith("/messages"):
                with self.fake.open_request():
                    self._anthropic(body)
            elif path.endswith("/chat/completions"):
                with self.fake.open_request():
                    self._openai(body)
            else:
                self._json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})
        except _Answered:
            pass
        except (_Cut, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _common(self, api: str, body: dict[str, Any]) -> tuple[Step, str]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(RecordedRequest(api, self.path, headers, body))
        step = self.fake._next_step(str(body.get("model", "")), _prompt_text(body))
        if isinstance(step, RawBody):
            data = step.body.encode()
            self.send_response(step.status)
            self.send_header("content-type", step.content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            raise _Answered
        return step, _prompt_text(body)

    # --- Anthropic Messages -----------------------------------------------------------------
    def _anthropic(self, body: dict[str, Any]) -> None:
        step, prompt = self._common("anthropic", body)
        request_id = self.fake.next_id("req_")
        # SDK 2.x sends `authorization: Bearer`; older clients send `x-api-key`.
        if not (self.headers.get("x-api-key") or (self.headers.get("authorization") or "").startswith("Bearer ")):
            step = HttpError(401, "x-api-key header is required")
        if isinstance(step, HttpError):
            return self._anthropic_error(step, request_id)
        schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
        text = self._echo(_reply_text(step, schema, body.get("model", ""), prompt))
        chunks = _chunks(text, step.chunk_size)
        usage_in = step.input_tokens if step.input_tokens is not None else _estimate_tokens(prompt)
        usage_out = step.output_tokens if step.output_tokens is not None else len(chunks) + step.reasoning_tokens
        if not (step.cache_read_tokens or step.cache_write_tokens):
            cache_read, cache_write = self.fake.cache_anthropic(body)
            step = replace(step, cache_read_tokens=min(cache_read, usage_in), cache_write_tokens=cache_write)
        self.fake.log_usage(
            "anthropic",
            body.get("model", ""),
            {
                "input_tokens": usage_in,
                "output_tokens": usage_out,
                "cache_read_tokens": step.cache_read_tokens,
                "cache_write_tokens": step.cache_write_tokens,
            },
        )

        self._start_sse("request-id", request_id)
        ev = self._anthropic_event
        ev(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": self.fake.next_id("msg_"),
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": step.served_model or body.get("model"),
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": usage_in - step.cache_read_tokens - step.cache_write_tokens,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": step.cache_write_tokens,
                        "cache_read_input_tokens": step.cache_read_tokens,
                        "service_tier": step.service_tier or "standard",
                    },
                },
            },
        )
        index = 0
        if step.reasoning_tokens:
            ev(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
            ev(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": "Considering the question."},
                },
            )
            ev("content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        ev("ping", {"type": "ping"})
        if step.first_token_delay_s:
            time.sleep(step.first_token_delay_s)
        if chunks:
            ev(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
        for n, piece in enumerate(chunks):
            if self._fault(
                step,
                n,
                lambda: ev(
                    "error",
                    {
                        "type": "error",
                        "error": {
                            "type": step.error_type,
                            "message": self._echo(
                                step.error_message
                                or ("Overloaded" if step.error_type == "overloaded_error" else "Internal server error")
                            ),
                        },
                    },
                ),
            ):
                return
            ev(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
            )
            if step.chunk_delay_s:
                time.sleep(step.chunk_delay_s)
        if chunks:
            ev("content_block_stop", {"type": "content_block_stop", "index": index})
        stop = {
            "stop": "end_turn",
            "length": "max_tokens",
            "content_filter": "refusal",
            "pause_turn": "pause_turn",
            "none": None,
        }[step.finish]
        usage: dict[str, Any] = {"output_tokens": usage_out}
        if step.reasoning_tokens:
            usage["output_tokens_details"] = {"thinking_tokens": step.reasoning_tokens}
        ev(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage},
        )
        ev("message_stop", {"type": "message_stop"})
        self._end_stream()

    def _anthropic_event(self, name: str, data: dict[str, Any]) -> None:
        self._send(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode())

    def _anthropic_error(self, err: HttpError, request_id: str) -> None:
        kind = err.type or _ANTHROPIC_ERROR_TYPES.get(err.status, "api_error")
        self._json(
            err.status,
            {
                "type": "error",
                "error": {"type": kind, "message": self._echo(err.message or kind)},
                "request_id": request_id,
            },
            {"request-id": request_id, **_retry_headers(err)},
        )

    # --- OpenAI chat completions ------------------------------------------------------------
    def _openai(self, body: dict[str, Any]) -> None:
        step, prompt = self._common("openai", body)
        request_id = self.fake.next_id("req_")
        model = str(body.get("model", ""))
        if not (self.headers.get("authorization") or "").startswith("Bearer "):
            step = HttpError(401, "You didn't provide an API key.")
        for pattern, wanted in self.fake.token_param_rules.items():
            unwanted = "max_tokens" if wanted == "max_completion_tokens" else "max_completion_tokens"
            if re.search(pattern, model) and unwanted in body:
                step = HttpError(
                    400,
                    f"Unsupported parameter: '{unwanted}' is not supported with this model. Use '{wanted}' instead.",
                    code="unsupported_parameter",
                    param=unwanted,
                )
        if isinstance(step, HttpError):
            return self._openai_error(step, request_id)

        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
        text = self._echo(_reply_text(step, schema, model, prompt))
        chunks = [] if step.null_content else _chunks(text, step.chunk_size)
        usage_in = step.input_tokens if step.input_tokens is not None else _estimate_tokens(prompt)
        usage_out = step.output_tokens if step.output_tokens is not None else len(chunks) + step.reasoning_tokens
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and step.usage
        if not (step.cache_read_tokens or step.cache_write_tokens):
            step = replace(step, cache_read_tokens=min(self.fake.cache_openai(body), usage_in))
        self.fake.log_usage(
            "openai",
            model,
            {
                "input_tokens": usage_in,
                "output_tokens": usage_out,
                "cache_read_tokens": step.cache_read_tokens,
                "cache_write_tokens": step.cache_write_tokens,
            },
        )
        chat_id, created = self.fake.next_id("chatcmpl-"), int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None, choices: bool = True) -> None:
            payload: dict[str, Any] = {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": step.served_model or model,
                "service_tier": step.service_tier or "default",
                "system_fingerprint": step.system_fingerprint,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
            }
            if include_usage:
                payload["usage"] = usage
            self._send(f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode())

        self._start_sse("x-request-id", request_id)
        chunk({"role": "assistant", "content": None if step.null_content else "", "refusal": None})
        if step.first_token_delay_s:
            time.sleep(step.first_token_delay_s)
        for n, piece in enumerate(chunks):
            if self._fault(step, n, lambda: self._openai_error_chunk(step, chat_id, created, model)):
                return
            chunk({"content": piece})
            if step.chunk_delay_s:
                time.sleep(step.chunk_delay_s)
        if step.finish != "none":
            chunk({}, finish=step.finish)
        if include_usage:
            prompt_details: dict[str, int] = {"cached_tokens": step.cache_read_tokens, "audio_tokens": 0}
            if step.cache_write_tokens:  # OpenAI reports no cache writes; OpenRouter adds them here
                prompt_details["cache_write_tokens"] = step.cache_write_tokens
            chunk(
                {},
                usage={
                    "prompt_tokens": usage_in,
                    "completion_tokens": usage_out,
                    "total_tokens": usage_in + usage_out,
                    "prompt_tokens_details": prompt_details,
                    "completion_tokens_details": {
                        "reasoning_tokens": step.reasoning_tokens,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                },
                choices=False,
            )
        self._send(b"data: [DONE]\n\n")
        self._end_stream()

    def _openai_error_chunk(self, step: Reply, chat_id: str, created: int, model: str) -> None:
        """OpenAI sends a bare `{"error": …}`; OpenRouter puts the error on an ordinary chunk,
        with `choices` (finish reason `error`) and often a numeric, HTTP-like `code`."""
        error = {
            "message": self._echo(step.error_message or "The server had an error while processing your request."),
            "type": "server_error" if step.error_type != "rate_limit_error" else "requests",
            "code": step.error_code,
        }
        payload: dict[str, Any] = {"error": error}
        if step.error_with_choices:
            del error["type"]  # OpenRouter's error object is a code and a message
            payload = {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "provider": "fake",
                "error": error,
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
        self._send(f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode())

    def _openai_error(self, err: HttpError, request_id: str) -> None:
        self._json(
            err.status,
            {
                "error": {
                    "message": self._echo(err.message or "error"),
                    "type": err.type or _OPENAI_ERROR_TYPES.get(err.status, "server_error"),
                    "param": err.param,
                    "code": err.code or _OPENAI_CODES.get(err.status),
                }
            },
            {"x-request-id": request_id, **_retry_headers(err)},
        )

    # --- faults shared by both APIs ---------------------------------------------------------
    def _fault(self, step: Reply, n: int, send_error: Any) -> bool:
        """Play the mid-stream fault due before chunk `n`; True when the stream is over."""
        if step.error_after == n:
            send_error()
            self._end_stream()
            return True
        if step.drop_after == n:
            self._cut()
        if step.stall_after == n:
            time.sleep(step.stall_s)
        return False


def _retry_headers(err: HttpError) -> dict[str, str]:
    headers = {}
    if err.retry_after is not None:
        headers["retry-after"] = err.retry_after
    if err.retry_after_ms is not None:
        headers["retry-after-ms"] = str(err.retry_after_ms)
    return headers


def _prompt_parts(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """Every text of a request in order (system, then messages), each with whether it
    carries an Anthropic `cache_control` breakpoint."""
    parts: list[tuple[str, bool]] = []
    for content in (body.get("system"), *(m.get("content") for m in body.get("messages", []))):
        if isinstance(content, str):
            parts.append((content, False))
        elif isinstance(content, list):
            parts.extend(
                (str(block.get("text", "")), bool(block.get("cache_control")))
                for block in content
                if isinstance(block, dict)
            )
    return parts


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return "" if content is None else str(content)


def _shared_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of two strings."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(text for text, _ in _prompt_parts(body))


def _reply_text(step: Reply, schema: dict[str, Any] | None, model: str, prompt: str) -> str:
    if step.text is not None:
        return step.text
    if schema is not None:
        return json.dumps(instance_of(schema))
    last = prompt.strip().splitlines()[-1][:60] if prompt.strip() else ""
    return f"Fake answer from {model}. You asked: {last}"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake Anthropic/OpenAI server in the foreground.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply-chars", type=int, default=0, help="default reply length (0: a short sentence)")
    parser.add_argument("--chunk-size", type=int, default=4, help="characters per streamed delta")
    parser.add_argument("--reply-file", metavar="PATH", help="answer every request with this file's text")
    parser.add_argument(
        "--delay",
        action="append",
        default=[],
        metavar="MODEL=FIRST_S:CHUNK_S",
        help="for MODEL, wait FIRST_S before the first token and CHUNK_S between chunks",
    )
    parser.add_argument(
        "--prompt-latency", metavar="PATH", help="a JSON object: prompt -> its first-token delays, in turn"
    )
    args = parser.parse_args()
    server = FakeServer(port=args.port)
    if args.prompt_latency:
        with open(args.prompt_latency, encoding="utf-8") as handle:
            server.prompt_latency(json.load(handle))
    text = None
    if args.reply_file:
        with open(args.reply_file, encoding="utf-8") as handle:
            text = handle.read()
    elif args.reply_chars:
        text = ("lorem ipsum " * (args.reply_chars // 12 + 1))[: args.reply_chars]
    if text is not None:
        server.default_reply = Reply(text=text, chunk_size=args.chunk_size)
    for rule in args.delay:
        model, _, delays = rule.partition("=")
        first, _, chunk = delays.partition(":")
        server.model_replies[model] = Reply(
            text=text, chunk_size=args.chunk_size, first_token_delay_s=float(first), chunk_delay_s=float(chunk or 0)
        )
    print(f"ANTHROPIC_BASE_URL={server.anthropic_base_url}")
    print(f"OPENAI_BASE_URL={server.openai_base_url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
