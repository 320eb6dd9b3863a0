"""The public JSON contract's shared pieces: the base every output model derives from, and
the objects every task's output holds (`metrics`, `error`, `checks`).

Each output is a pydantic model next to the domain that builds it (`app.review.contract`,
`app.triage.contract`, ...); `driftcheck schema NAME` prints its JSON Schema. The field
order of a model is the key order of its JSON, so a field is added at the end of its
class, never between others, and never renamed or dropped: readers depend on the names.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, WithJsonSchema, model_serializer

from providers.types import CheckSeverity

# A JSON number: an int stays an int (a float field would print 3 as 3.0).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


class Contract(BaseModel):
    """A closed object of the public JSON: an unknown key is an error, so a field added to an
    output without its model fails the contract tests (tests/test_contract.py).

    A key that is sometimes absent (not null: absent) is named in `absent_unless_set`; it
    is left out of the JSON unless it was given when the object was built."""

    model_config = ConfigDict(extra="forbid")
    absent_unless_set: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _leave_out_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.absent_unless_set - self.model_fields_set:
                data.pop(name, None)
        return data

    def public(self) -> dict[str, Any]:
        """The object as the JSON the commands print and history stores."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


def task_tag(value: Any) -> str | None:
    """Which output a JSON object (or model) is, to tell a union of outputs apart: its
    `task`, with a review of several files or a change (it has `files`) as "review-change"."""

    def get(key: str) -> Any:
        return value.get(key) if isinstance(value, dict) else getattr(value, key, None)

    task = get("task")
    return "review-change" if task == "review" and get("files") is not None else task


class Metrics(Contract):
    """What a call (or all calls of a task) took: time, tokens, cost, retries, hedging.
    `cache_saved_usd`: what the prompt cache saved against the plain input price (negative
    when a write was paid); `batch`: answered through a batch API, priced at its rate — its
    `ttft_ms` and `latency_ms` are then None (nothing was timed live) and
    `batch_turnaround_ms` is the batch's submit-to-result time."""

    ttft_ms: Number | None
    latency_ms: Number | None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cache_saved_usd: Number | None
    cost_usd: Number | None
    retries: int
    hedged: bool
    fallback_from: str | None
    hedge_cost_usd: Number | None
    batch: bool
    batch_turnaround_ms: Number | None = None


class ErrorInfo(Contract):
    """Why a call failed. `phase` is a timeout's; `cause` and `partial_chars` an interrupted
    stream's (what broke it, how many characters arrived first)."""

    absent_unless_set = frozenset({"status", "request_id", "retries", "phase", "cause", "partial_chars"})

    kind: str
    message: str
    status: int | None = None
    request_id: str | None = None
    retries: int = 0
    phase: str | None = None
    cause: str | None = None
    partial_chars: int | None = None


class CheckInfo(Contract):
    """A silent failure or an input problem found around a call."""

    name: str
    severity: CheckSeverity
    message: str
    diagnosis: str


class Spend(Contract):
    """What a set of calls cost and what the providers' prompt caches read, wrote and saved
    on them; a figure is null when no call reported it."""

    calls: int
    cost_usd: Number | None
    cache_read_tokens: Number | None
    cache_write_tokens: Number | None
    cache_saved_usd: Number | None


class Provenance(Contract):
    """What made an answer: what the API said about itself (served model, fingerprint, tier,
    request id), the SDK that called it, and hashes of the prompt templates, output schema,
    generation parameters and input driftcheck sent. Every field null when unknown."""

    served_model: str | None
    system_fingerprint: str | None
    service_tier: str | None
    request_id: str | None
    sdk: str | None
    sdk_version: str | None
    prompt_sha256: str | None
    schema_sha256: str | None
    params_sha256: str | None
    input_sha256: str | None


class TaskOutput(Contract):
    """What every task's output holds, in this order; each task narrows `task`, `input` and
    `result` and adds its own keys after these (docs/commands.md, "The JSON contract")."""

    task: str
    provider: str
    model: str
    status: Literal["ok", "failed"]
    error: ErrorInfo | None
    input: Any
    result: Any
    partial_text: str | None
    metrics: Metrics
    provenance: Provenance
    checks: list[CheckInfo]
