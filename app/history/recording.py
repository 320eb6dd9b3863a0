"""Recording runs into history as they happen, without the task code knowing.

`RunRecorder` opens the store and one run; `recorded(provider)` wraps a provider so that
every call it makes is written down: started before the request goes out, its text
checkpointed at most once a second while it streams, and its outcome (usage, cost,
timings, error) when it ends. History is a record, never a gate: if the store cannot
be opened, the user is told once and the task runs unrecorded; if a write fails part way
(a full disk, the file deleted), the task goes on and the end says what history lost.

`finish` returns a `RecordOutcome` — recorded, incomplete, lost or off — read back from
the database after the final write, and `RecordOutcome.message` is the one sentence
every command and the TUI show for it: "recorded" only when history really holds the run.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from app.calls.metrics import metrics_dict
from app.calls.provenance import provenance_dict
from app.errors import StoreError
from app.history.store import CHECKPOINT_EVERY_S, Store
from app.notes import Note, Notify, ignore
from providers import Completed, Provider, ProviderEvent, Request, Response, TextDelta, Usage, UsageUpdate
from providers.base import ProviderSettings
from providers.capabilities import Capabilities
from providers.errors import InterruptedStreamError, ProviderError
from providers.resilience import ResilientProvider
from providers.types import final_response


@dataclass(frozen=True)
class RecordOutcome:
    """What history holds of a run once it has ended."""

    state: Literal["recorded", "incomplete", "lost", "off"]
    run_id: str | None = None
    status: str | None = None
    why: str = ""  # what went wrong, for incomplete and lost

    def message(self, result_in: str = "this command's output") -> str | None:
        """The one sentence a command prints (and the TUI shows) about its run's record;
        None when history was off and the user already knows. `result_in` says where the
        result is for a user who cannot get it from history."""
        if self.state == "recorded":
            return f"recorded as {self.run_id} (driftcheck history show {self.run_id})"
        if self.state == "incomplete":
            return (
                f"run {self.run_id} is in history as {self.status} but incomplete: {self.why}; "
                f"the full result is in {result_in}"
            )
        if self.state == "lost":
            return f"this run is not in history: {self.why}; its result is only in {result_in}"
        return None

    @property
    def complete(self) -> bool:
        return self.state == "recorded"


class RunRecorder:
    def __init__(self, store: Store | None, run_id: str | None) -> None:
        self.store = store
        self.run_id = run_id
        self.problem: str | None = None  # the first write that failed, in words
        self.outcome: RecordOutcome | None = None  # once finished

    @classmethod
    def start(
        cls,
        task: str,
        *,
        input_ref: str | None,
        input_sha256: str | None,
        providers: list[str],
        enabled: bool = True,
        notify: Notify = ignore,
        resume: str | None = None,
    ) -> RunRecorder:
        """Open history and start a run (`resume`: carry on that stored run instead); when
        history cannot record it, `notify` is told once, now, and the task runs unrecorded."""
        if resume:
            return cls.reopen(resume, notify=notify)
        if not enabled:
            return cls(None, None)
        try:
            opened = Store.open()
        except StoreError as exc:
            return cls._off(f"history is off for this run: {exc}", notify)
        try:
            run_id = opened.store.start_run(task, input_ref=input_ref, input_sha256=input_sha256, providers=providers)
        except sqlite3.Error as exc:
            opened.store.close()
            return cls._off(f"history is off for this run: {exc}", notify)
        if opened.moved_aside is not None:
            notify(
                Note(
                    "warning",
                    f"the history database was damaged; it was moved to {opened.moved_aside} and a new one started",
                )
            )
        return cls(opened.store, run_id)

    @classmethod
    def _off(cls, why: str, notify: Notify) -> RunRecorder:
        """History cannot record this run; said once, at the start, and not again at the end."""
        notify(Note("warning", why))
        return cls(None, None)

    @staticmethod
    def stored(run_id: str, *, task: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A stored run of `task` that may be resumed, and its parts, read without changing
        anything. Raises StoreError when history cannot be opened, has no such run, or the
        run is still running."""
        store = Store.open(for_reading=True).store
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
    def reopen(cls, run_id: str, *, notify: Notify = ignore) -> RunRecorder:
        """Carry on recording a stored run, from the moment it really runs again."""
        try:
            store = Store.open().store
        except StoreError as exc:
            return cls._off(f"history is off for this run: {exc}", notify)
        try:
            store.reopen_run(run_id)
        except (sqlite3.Error, StoreError) as exc:
            store.close()
            return cls._off(f"history is off for this run: {exc}", notify)
        return cls(store, run_id)

    def put_part(self, key: str, data: Any) -> None:
        """Keep one finished part of the run (written before it is reported done)."""
        if self.active and self.run_id is not None:
            self.safe(self.store.put_part, self.run_id, key, data)  # type: ignore[union-attr]

    def safe(self, write: Any, *args: Any, **kwargs: Any) -> Any:
        """Write to history; on a database error (disk full, locked too long) stop writing
        the run's calls and go on: the user's task matters more than its record. The end
        of the run still tries its final write, and says what was lost."""
        if not self.active:
            return None
        try:
            return write(*args, **kwargs)
        except sqlite3.Error as exc:
            self.problem = f"history stopped recording it part way ({exc})"
            return None

    @property
    def active(self) -> bool:
        """Whether calls are still being written (no write has failed)."""
        return self.store is not None and self.problem is None

    def recorded(self, provider: Provider, role: str | None = None) -> Provider:
        """`provider`, every call it makes written into this run (as it is, when history is off)."""
        if not self.active or self.run_id is None:
            return provider
        if isinstance(provider, ResilientProvider):  # a fallback/hedging chain: each member's calls are recorded
            backup = f"{role or 'candidate'}-backup"
            return provider.with_chain(
                [RecordingProvider(member, self, role if n == 0 else backup) for n, member in enumerate(provider.chain)]
            )
        return RecordingProvider(provider, self, role)

    def finish(
        self, *, status: str, score: int | None = None, summary: str | None = None, result: dict[str, Any] | None = None
    ) -> RecordOutcome:
        """Write how the run ended and read it back: what history now holds of it."""
        if self.outcome is not None:  # finished already
            return self.outcome
        store, run_id = self.store, self.run_id
        if store is None or run_id is None:
            return RecordOutcome("off")
        self.store = None
        try:
            self.outcome = self._final_write(store, run_id, status, score, summary, result)
        finally:
            store.close()
        return self.outcome

    def _final_write(
        self,
        store: Store,
        run_id: str,
        status: str,
        score: int | None,
        summary: str | None,
        result: dict[str, Any] | None,
    ) -> RecordOutcome:
        lost = self.problem
        try:
            store.finish_run(run_id, status=status, score=score, summary=summary, result=result)
        except sqlite3.Error as exc:
            # The result is the big write; without it the run at least ends as what it was,
            # not as "interrupted" the next time history is read.
            lost = (f"{lost}, and " if lost else "") + f"its result was not stored ({exc})"
            try:
                store.finish_run(run_id, status=status, score=score, summary=summary, result=None)
            except sqlite3.Error:
                return RecordOutcome(
                    "lost", run_id, status, f"the final write failed ({exc}); history will show it as interrupted"
                )
        try:
            missing = store.run_stored_as(run_id, status)
        except sqlite3.Error as exc:
            missing = f"it could not be read back ({exc})"
        if missing is not None:
            return RecordOutcome("lost", run_id, status, missing)
        if lost is not None:
            return RecordOutcome("incomplete", run_id, status, lost)
        return RecordOutcome("recorded", run_id, status)


class RecordingProvider:
    """A provider that writes each call it makes into the run; everything else passes through."""

    def __init__(self, inner: Provider, recorder: RunRecorder, role: str | None = None) -> None:
        self.inner = inner
        self.recorder = recorder
        self.role = role

    # What it is, as a provider: the one it records.
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def spec(self) -> str:
        return self.inner.spec

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def caps(self) -> Capabilities:
        return self.inner.caps

    @property
    def settings(self) -> ProviderSettings:
        return self.inner.settings

    @property
    def price_provider(self) -> str | None:
        return self.inner.price_provider

    def __getattr__(self, name: str) -> Any:
        # Anything else a particular provider has (a local model's `model_ref`).
        return getattr(self.inner, name)

    def preload(self) -> None:
        self.inner.preload()

    async def stream(self, request: Request) -> AsyncIterator[ProviderEvent]:
        rec = self.recorder
        if not rec.active or rec.store is None or rec.run_id is None:  # history off or stopped: just stream
            async for event in self.inner.stream(request):
                yield event
            return
        store = rec.store
        # A request that carries an earlier answer is a repair turn of the same task.
        repair = any(m.role == "assistant" for m in request.messages)
        role = (
            f"{self.role or 'candidate'}{'-repair' if repair else ''}"
            if self.role
            else ("repair" if repair else "candidate")
        )
        call_id = rec.safe(
            store.start_call,
            rec.run_id,
            role=role,
            provider=self.inner.name,
            model=self.inner.model,
            params={"max_tokens": request.max_tokens, "schema": request.schema_name if request.output_schema else None},
        )
        parts: list[str] = []
        usage = Usage()
        last_checkpoint = time.monotonic()
        finished = False
        try:
            async for event in self.inner.stream(request):
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
            rec.safe(
                store.finish_call,
                call_id,
                status="failed",
                text=partial,
                error_kind=error.kind,
                error_message=error.one_line(),
                metrics={"retries": error.retries},
                request_id=error.request_id,
            )
            finished = True
            raise
        finally:
            if not finished:  # cancelled (a hedge's loser, Escape), or the consumer stopped reading
                text = "".join(parts)
                rec.safe(
                    store.finish_call,
                    call_id,
                    status="cancelled",
                    text=text,
                    metrics=_spent_so_far(self.inner, usage, text),
                )

    async def complete(self, request: Request) -> Response:
        # Draining our own stream records the call like any other.
        return await final_response(self.stream(request))

    async def aclose(self) -> None:
        await self.inner.aclose()


def _spent_so_far(provider: Any, usage: Usage, text: str) -> dict[str, Any]:
    from providers.pricing import cost_of_cancelled

    usage, cost = cost_of_cancelled(
        provider.price_provider, provider.model, usage, len(text), provider.settings.price_overrides
    )
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost_usd": cost}


def _finish_ok(store: Store, call_id: int, response: Response) -> None:
    parsed = response.parsed
    if parsed is not None and hasattr(parsed, "model_dump"):
        parsed = parsed.model_dump()
    errors = [c for c in response.checks if c.severity == "error"]
    store.finish_call(
        call_id,
        status="failed" if errors else "ok",
        text=response.text,
        parsed=parsed,
        metrics=metrics_dict(response, retries=response.retries),
        error_kind=errors[0].name if errors else None,
        error_message=errors[0].message if errors else None,
        request_id=response.request_id,
        provenance=provenance_dict(response),
    )
