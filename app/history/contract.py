"""What `history list --format json` and `history show ID --format json` print, as models
(`driftcheck schema history-list`, `history-show`). Both are rows of the history database
as they are: `show` holds the run's stored result as it was recorded (its own contract is
`driftcheck schema history`, by the run's task) and every call the run made.

A database written by an older driftcheck and opened read-only is not migrated, so the
columns added since (`cache_read_tokens`, `cache_write_tokens`) may be absent.
"""

from __future__ import annotations

from typing import Any

from app.calls.contract import Contract, Number, Provenance


class RunSummary(Contract):
    """One run in the list: its calls, their total cost (and how many had no known cost),
    the slowest call's total time and the quickest first token."""

    id: str
    created_at: Number
    finished_at: Number | None
    task: str
    input_ref: str | None
    providers: str
    status: str
    score: int | None
    calls: int
    cost_usd: Number | None
    calls_without_cost: int | None
    latency_ms: Number | None
    ttft_ms: Number | None


class HistoryList(Contract):
    runs: list[RunSummary]
    database: str


class StoredCall(Contract):
    """One call of a run, as recorded: `text` is everything received (kept when the call
    failed part way); `params` the request's parameters; `parsed` the structured reply;
    `provenance` what made it."""

    absent_unless_set = frozenset({"parsed_json", "cache_read_tokens", "cache_write_tokens", "provenance_json"})

    id: int
    run_id: str
    seq: int
    role: str
    provider: str
    model: str
    status: str
    error_kind: str | None
    error_message: str | None
    text: str
    # Present (null) only when the call has no structured reply: a leftover of how the
    # store reads the row, kept because readers may rely on it; `parsed` is the one to read.
    parsed_json: None = None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: Number | None
    ttft_ms: Number | None
    latency_ms: Number | None
    retries: int
    hedge_of: int | None
    fallback_from: str | None
    request_id: str | None
    started_at: Number
    updated_at: Number
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    # Like parsed_json: present (null) only when the call has no provenance.
    provenance_json: None = None
    params: dict[str, Any]
    parsed: Any
    # What made the answer (app.calls.contract.Provenance); null for a call recorded before
    # provenance was stored.
    provenance: Provenance | None


class StoredRun(Contract):
    """`history show ID --format json`: the run, its stored result (null while it runs, or
    when it could not be stored) and its calls in order."""

    absent_unless_set = frozenset({"result_json"})

    id: str
    created_at: Number
    finished_at: Number | None
    task: str
    input_ref: str | None
    input_sha256: str | None
    providers: str
    status: str
    score: int | None
    summary: str | None
    # Present (null) only when no result is stored, as the store reads the row; read `result`.
    result_json: None = None
    pid: int | None
    host: str | None
    result: dict[str, Any] | None
    calls: list[StoredCall]


class BatchRow(Contract):
    """A provider batch an `eval --batch` or `compare --batch` submitted: its id, the
    provider (the SPEC that polls it), the run that submitted it, its state (`submitted`
    until a run collects it), how many requests it holds, the provider's endpoint for it,
    when it was stored, and the models whose requests it holds (one batch per provider
    may hold several)."""

    batch_id: str | None
    provider: str | None
    run_id: str
    state: str | None
    items: int
    endpoint: str | None
    stored_at: Number
    models: list[str]


class BatchesList(Contract):
    """`batches --format json`: the batches in history, newest last."""

    batches: list[BatchRow]
