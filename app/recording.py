"""Recording runs into history as they happen, without the task code knowing.

`RunRecorder` opens the store and one run; `recorded(provider)` wraps a provider so that
every call it makes is written down: started before the request goes out, its text
checkpointed at most once a second while it streams, and its outcome (usage, cost,
timings, error) when it ends. History is a record, never a gate: if the store cannot
be opened, the user is told once and the task runs unrecorded.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from app.metrics import metrics_dict
from app.store import CHECKPOINT_EVERY_S, Store, StoreError
from providers import Completed, Provider, Request, Response, TextDelta, Usage, UsageUpdate
from providers.errors import InterruptedStreamError, ProviderError


class RunRecorder:
    def __init__(self, store: Store | None, run_id: str | None) -> None:
        self.store = store
        self.run_id = run_id

    @classmethod
    def start(cls, task: str, *, input_ref: str | None, input_sha256: str | None,
              providers: list[str], enabled: bool = True) -> RunRecorder:
        if not enabled:
            return cls(None, None)
        try:
            opened = Store.open()
        except StoreError as exc:
            print(f"driftcheck: warning: history is off for this run: {exc}", file=sys.stderr)
            return cls(None, None)
        if opened.moved_aside is not None:
            print(f"driftcheck: warning: the history database was damaged; it was moved to "
                  f"{opened.moved_aside} and a new one started", file=sys.stderr)
        recorder = cls(opened.store, None)
        recorder.run_id = recorder.safe(opened.store.start_run, task, input_ref=input_ref,
                                        input_sha256=input_sha256, providers=providers)
        return recorder

    @staticmethod
    def stored(run_id: str, *, task: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A stored run of `task` that may be resumed, and its parts, read without changing
        anything. Raises StoreError when history cannot be opened, has no such run, or the
        run is still running."""
        store = Store.open().store
        try:
            store.mark_dead_runs()
            run = store.get_run(run_id)
            if run is None or run["task"] != task:
                what = f"is a {run['task']}, not an {task}" if run else "is not in history"
                raise StoreError(f"run {run_id!r} {what} (see `driftcheck history list --task {task}`)")
            if run["status"] == "running":
                raise StoreError(f"run {run['id']} is still running in process {run['pid']}; stop it first")
            return run, store.parts(run["id"])
        finally:
            store.close()

    @classmethod
    def reopen(cls, run_id: str) -> RunRecorder:
        """Carry on recording a stored run, from the moment it really runs again."""
        try:
            store = Store.open().store
        except StoreError as exc:
            print(f"driftcheck: warning: history is off for this run: {exc}", file=sys.stderr)
            return cls(None, None)
        recorder = cls(store, run_id)
        recorder.safe(store.reopen_run, run_id)
        return recorder

    def put_part(self, key: str, data: Any) -> None:
        """Keep one finished part of the run (written before it is reported done)."""
        if self.store is not None and self.run_id is not None:
            self.safe(self.store.put_part, self.run_id, key, data)

    def safe(self, write: Any, *args: Any, **kwargs: Any) -> Any:
        """Write to history; on a database error (disk full, locked too long) say so once
        and go on unrecorded: the user's task matters more than its record."""
        if self.store is None:
            return None
        try:
            return write(*args, **kwargs)
        except sqlite3.Error as exc:
            print(f"driftcheck: warning: history stopped recording this run: {exc}", file=sys.stderr)
            store, self.store = self.store, None
            store.close()
            return None

    @property
    def active(self) -> bool:
        return self.store is not None

    def recorded(self, provider: Any, role: str | None = None) -> Any:
        if self.store is None or self.run_id is None:
            return provider
        chain = getattr(provider, "chain", None)
        if chain is not None:  # a fallback/hedging chain: each member's calls are recorded
            backup = f"{role or 'candidate'}-backup"
            return provider.with_chain([RecordingProvider(member, self, role if n == 0 else backup)
                                        for n, member in enumerate(chain)])
        return RecordingProvider(provider, self, role)

    def finish(self, *, status: str, score: int | None = None, summary: str | None = None,
               result: dict[str, Any] | None = None) -> None:
        if self.store is None or self.run_id is None:
            return
        self.safe(self.store.finish_run, self.run_id, status=status, score=score, summary=summary, result=result)
        if self.store is not None:
            self.store.close()
            self.store = None


class RecordingProvider:
    """A provider that writes each call it makes into the run; everything else passes through."""

    def __init__(self, inner: Any, recorder: RunRecorder, role: str | None = None) -> None:
        self._inner = inner
        self._recorder = recorder
        self._role = role

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def stream(self, request: Request) -> AsyncIterator[Any]:
        rec = self._recorder
        if rec.store is None or rec.run_id is None:  # history stopped part way: just stream
            async for event in self._inner.stream(request):
                yield event
            return
        store = rec.store
        # A request that carries an earlier answer is a repair turn of the same task.
        repair = any(m.role == "assistant" for m in request.messages)
        role = f"{self._role or 'candidate'}{'-repair' if repair else ''}" if self._role else (
            "repair" if repair else "candidate")
        call_id = rec.safe(store.start_call, rec.run_id, role=role, provider=self._inner.name,
                           model=self._inner.model, params={
                               "max_tokens": request.max_tokens,
                               "schema": request.schema_name if request.output_schema else None})
        parts: list[str] = []
        usage = Usage()
        last_checkpoint = time.monotonic()
        finished = False
        try:
            async for event in self._inner.stream(request):
                if type(event) is UsageUpdate:
                    usage = usage.merged(event.usage)
                elif type(event) is TextDelta:
                    parts.append(event.text)
                    now = time.monotonic()
                    if now - last_checkpoint >= CHECKPOINT_EVERY_S:
                        rec.safe(store.checkpoint, call_id, "".join(parts))
                        last_checkpoint = now
                elif isinstance(event, Completed):
                    rec.safe(_finish_ok, store, call_id, event.response)
                    finished = True
                yield event
        except ProviderError as error:
            partial = error.partial_text if isinstance(error, InterruptedStreamError) else "".join(parts)
            rec.safe(store.finish_call, call_id, status="failed", text=partial, error_kind=error.kind,
                     error_message=error.one_line(), metrics={"retries": error.retries},
                     request_id=error.request_id)
            finished = True
            raise
        finally:
            if not finished:  # cancelled (a hedge's loser, Escape), or the consumer stopped reading
                text = "".join(parts)
                rec.safe(store.finish_call, call_id, status="cancelled", text=text,
                         metrics=_spent_so_far(self._inner, usage, text))

    # Draining our own stream through the base class records the call like any other.
    complete = Provider.complete

    async def aclose(self) -> None:
        await self._inner.aclose()


def _spent_so_far(provider: Any, usage: Usage, text: str) -> dict[str, Any]:
    from providers.pricing import cost_of_cancelled

    usage, cost = cost_of_cancelled(provider.price_provider, provider.model, usage, len(text),
                                    provider.settings.price_overrides)
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost_usd": cost}


def _finish_ok(store: Store, call_id: int, response: Response) -> None:
    parsed = response.parsed
    if parsed is not None and hasattr(parsed, "model_dump"):
        parsed = parsed.model_dump()
    errors = [c for c in response.checks if c.severity == "error"]
    store.finish_call(call_id, status="failed" if errors else "ok", text=response.text, parsed=parsed,
                      metrics=metrics_dict(response, retries=response.retries),
                      error_kind=errors[0].name if errors else None,
                      error_message=errors[0].message if errors else None, request_id=response.request_id)
