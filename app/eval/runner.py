"""Running an eval's cells: concurrently within each provider's limit, within the budget,
and resumably.

Each finished answer and each finished grade is handed to `keep` (the history's run
parts) the moment it exists, before it is reported; a resumed eval passes those parts
back in `done` and nothing in them is asked again. A cell whose answer was rate limited
even after the provider's own retries goes back in the queue (up to MAX_REQUEUES times)
after the provider's limit has halved, rather than being counted as the model's failure.

A provider that refuses the key (or a model the key may not use) fails every later call
the same way, so its remaining answers and grades are not sent: they are reported as
skipped, with the refusal as the reason, and are not kept — a resumed eval asks them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.calls.batching import call_key
from app.calls.limits import ProviderLimit
from app.eval import tasks
from app.eval.limits import Budget
from app.eval.plan import Cell, Estimate, EvalPlan
from app.eval.tasks import JudgeReads
from providers.errors import stop_scope

MAX_REQUEUES = 3
BATCH_CEILING = 100_000  # calls in flight to a batched provider: all of them


def answer_part(cell: Cell) -> str:
    return f"answer:{cell.key}"


def grade_part(cell: Cell, judge: str) -> str:
    return f"grade:{cell.key}|{judge}"


@dataclass(frozen=True)
class CellDone:
    cell: Cell
    answer: dict[str, Any]
    grades: list[dict[str, Any]]
    reused: bool  # the answer came from before a resume


@dataclass(frozen=True)
class CellRequeued:
    cell: Cell
    provider: str
    limit: int


@dataclass(frozen=True)
class BudgetStopped:
    spent_usd: float
    limit_usd: float
    cells_left: int


def cost_of(record: dict[str, Any] | None) -> float:
    return ((record or {}).get("metrics") or {}).get("cost_usd") or 0.0


@dataclass
class EvalRunner:
    plan: EvalPlan
    providers: dict[str, Any]  # SPEC -> provider (recorded)
    judges: dict[str, Any]  # SPEC -> judge provider (recorded)
    prepared: dict[tuple[str, str], tasks.Prepared]
    subjects: dict[tuple[str, str], JudgeReads]  # (judge SPEC, item id) -> what the judge reads
    estimate: Estimate
    budget: Budget
    keep: Callable[[str, Any], None]
    done: dict[str, Any] = field(default_factory=dict)
    concurrency: int = 4
    max_tokens: int | None = None
    stopped: bool = False
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)  # part -> why it was not sent
    _limits: dict[str, ProviderLimit] = field(default_factory=dict)
    _refused: dict[str, dict[str, Any]] = field(default_factory=dict)  # provider name or SPEC -> its error
    _baselines: dict[tuple[str, int], asyncio.Event] = field(default_factory=dict)  # (item, run) -> its cell is over

    def __post_init__(self) -> None:
        self.budget.spend(sum(cost_of(v) for v in self.done.values()))

    def limit(self, provider: Any) -> ProviderLimit:
        # One in-process model computes one answer at a time; a second would only wait. A
        # batched provider takes every call at once: they wait in its batch, not here.
        if getattr(provider, "batched", False):
            if provider.name not in self._limits:
                self._limits[provider.name] = ProviderLimit(BATCH_CEILING, probe_first=False)
            return self._limits[provider.name]
        ceiling = 1 if provider.kind == "local" else self.concurrency
        return self._limits.setdefault(provider.name, ProviderLimit(ceiling))

    def part(self, key: str) -> dict[str, Any] | None:
        """A finished part: asked (kept in history) or skipped (not sent)."""
        return self.done.get(key) or self.skipped.get(key)

    def finished(self, cell: Cell) -> bool:
        answer = self.part(answer_part(cell))
        return answer is not None and (
            answer["status"] != "ok" or all(self.part(grade_part(cell, j)) is not None for j in self.judges_of(cell))
        )

    def judges_of(self, cell: Cell) -> list[str]:
        """The judges that grade this cell's answer (--no-self-judging leaves out its own family)."""
        task = self.plan.item(cell.item).task
        return [j for j in self.plan.judges_for(cell.model, task) if j in self.judges]

    def refusal(self, provider: Any) -> dict[str, Any] | None:
        """The error with which this provider (or this model) refused an earlier call."""
        return self._refused.get(provider.name) or self._refused.get(provider.spec)

    def _note_refusal(self, provider: Any, record: dict[str, Any]) -> None:
        error = record.get("error") or {}
        scope = stop_scope(error.get("kind")) if record["status"] == "failed" else None
        if scope is not None:
            self._refused.setdefault(provider.name if scope == "provider" else provider.spec, error)

    async def events(self) -> AsyncIterator[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cells = self.plan.cells()
        running = [asyncio.create_task(self._cell(cell, queue)) for cell in cells]
        for task in running:
            task.add_done_callback(lambda _: queue.put_nowait(None))
        left = len(running)
        try:
            while left:
                event = await queue.get()
                if event is None:
                    left -= 1
                    continue
                yield event
                if self.budget.exceeded and not self.stopped:  # spent past the limit: stop at once
                    self.stopped = True
                    for task in running:
                        task.cancel()
            for task in running:  # anything a cell raised (not a provider error) reaches the caller
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self.stopped and self.budget.limit_usd is not None:
            unfinished = sum(1 for cell in cells if not self.finished(cell))
            yield BudgetStopped(self.budget.spent_usd, self.budget.limit_usd, unfinished)

    def _baseline_done(self, cell: Cell) -> asyncio.Event:
        """Set once the baseline's cell on this item and run is over (pairwise judging)."""
        return self._baselines.setdefault((cell.item, cell.run), asyncio.Event())

    async def _cell(self, cell: Cell, queue: asyncio.Queue[Any]) -> None:
        try:
            await self._work(cell, queue)
        finally:
            if self.plan.pairwise and cell.model == self.plan.baseline:
                self._baseline_done(cell).set()  # however it ended: the others must not wait forever

    async def _work(self, cell: Cell, queue: asyncio.Queue[Any]) -> None:
        answer = self.done.get(answer_part(cell))
        reused = answer is not None
        if not self.finished(cell):
            estimate = self.estimate.per_cell.get(cell.key)
            try:
                if answer is None:
                    answer = await self._answer(cell, queue, estimate)
                    if answer is None:
                        return
                    if answer["status"] == "skipped":
                        self.skipped[answer_part(cell)] = answer
                    else:
                        self._keep(answer_part(cell), answer)
                elif not self._admit(cell, estimate):
                    return
                if answer["status"] == "ok":
                    await asyncio.gather(
                        *(
                            self._grade(cell, spec, answer)
                            for spec in self.judges_of(cell)
                            if grade_part(cell, spec) not in self.done
                        )
                    )
            finally:
                if cell.key in self.budget.reserved:  # admitted: its real cost replaces the reservation
                    self.budget.settle(
                        cell.key, cell.model, estimate, cost_of(answer) + sum(cost_of(g) for g in self._grades(cell))
                    )
        assert answer is not None  # a finished cell has its answer (see `finished`)
        await queue.put(CellDone(cell, answer, self._grades(cell), reused=reused))

    async def _answer(self, cell: Cell, queue: asyncio.Queue[Any], estimate: float | None) -> dict[str, Any] | None:
        """The model's answer, or None when the budget has no room for the cell once it is
        its turn; a rate-limited answer is asked again after the provider's limit halved."""
        provider = self.providers[cell.model]
        item = self.plan.item(cell.item)
        limit = self.limit(provider)
        for attempt in range(MAX_REQUEUES + 1):
            async with limit.slot() as slot:
                if (refused := self.refusal(provider)) is not None:
                    return tasks.skipped_answer(provider, item, refused)
                if attempt == 0 and not self._admit(cell, estimate):
                    return None
                with call_key(answer_part(cell)):  # its name in a batch, if the provider batches
                    answer = await tasks.answer(
                        provider,
                        item,
                        self.prepared[(cell.model, cell.item)],
                        mode=self.plan.mode,
                        max_tokens=self.max_tokens,
                    )
                self._note_refusal(provider, answer)  # before the slot opens for the next cell
                slot.rate_limited = answer["status"] != "ok" and (answer["error"] or {}).get("kind") == "rate_limited"
            self.budget.spend(cost_of(answer))
            if not slot.rate_limited or attempt == MAX_REQUEUES:
                break
            await queue.put(CellRequeued(cell, provider.name, limit.limit))
        return answer

    def _admit(self, cell: Cell, estimate: float | None) -> bool:
        if self.stopped or not self.budget.admit(cell.key, cell.model, estimate):
            self.stopped = True
            return False
        return True

    async def _grade(self, cell: Cell, spec: str, answer: dict[str, Any]) -> None:
        judge = self.judges[spec]
        baseline = None
        if self.plan.pairwise:
            # Waited for outside the judge's slot: the baseline may need that provider's slot to answer.
            await self._baseline_done(cell).wait()
            baseline = self.part(answer_part(Cell(self.plan.baseline, cell.item, cell.run)))
            if baseline is None or baseline["status"] != "ok":
                why = f"{self.plan.baseline} has no answer on {cell.item} (run {cell.run + 1}) to set this one against"
                self.skipped[grade_part(cell, spec)] = tasks.pair_not_made(judge, why)
                return
        async with self.limit(judge).slot():
            if (refused := self.refusal(judge)) is not None:
                self.skipped[grade_part(cell, spec)] = tasks.skipped_grade(judge, refused)
                return
            reads = self.subjects[(spec, cell.item)]
            with call_key(grade_part(cell, spec)):
                if baseline is not None:
                    grade = await tasks.pair_grade(judge, baseline, answer, reads, mode=self.plan.mode)
                else:
                    grade = await tasks.grade(judge, self.plan.item(cell.item), answer, reads, mode=self.plan.mode)
            self._note_refusal(judge, grade)
        self.budget.spend(cost_of(grade))
        self._keep(grade_part(cell, spec), grade)

    def _keep(self, key: str, data: dict[str, Any]) -> None:
        self.done[key] = data
        self.keep(key, data)

    def records(self) -> list[dict[str, Any]]:
        """Every finished cell as the report takes it: model, item, run, answer, grades."""
        return [
            {
                "model": c.model,
                "item": c.item,
                "run": c.run,
                "answer": self.part(answer_part(c)),
                "grades": self._grades(c),
            }
            for c in self.plan.cells()
            if self.finished(c)
        ]

    def _grades(self, cell: Cell) -> list[dict[str, Any]]:
        return [g for j in self.judges_of(cell) if (g := self.part(grade_part(cell, j))) is not None]
