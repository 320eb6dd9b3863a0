"""Running an eval's cells: concurrently within each provider's limit, within the budget,
and resumably.

Each finished answer and each finished grade is handed to `keep` (the history's run
parts) the moment it exists, before it is reported; a resumed eval passes those parts
back in `done` and nothing in them is asked again. A cell whose answer was rate limited
even after the provider's own retries goes back in the queue (up to MAX_REQUEUES times)
after the provider's limit has halved, rather than being counted as the model's failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.eval import tasks
from app.eval.limits import Budget, ProviderLimit
from app.eval.plan import Cell, EvalPlan, Estimate

MAX_REQUEUES = 3


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
    providers: dict[str, Any]          # SPEC -> provider (recorded)
    judges: dict[str, Any]             # SPEC -> judge provider (recorded)
    prepared: dict[tuple[str, str], tasks.Prepared]
    subjects: dict[tuple[str, str], str]  # (judge SPEC, item id) -> what the judge reads
    estimate: Estimate
    budget: Budget
    keep: Callable[[str, Any], None]
    done: dict[str, Any] = field(default_factory=dict)
    concurrency: int = 4
    max_tokens: int | None = None
    stopped: bool = False
    _limits: dict[str, ProviderLimit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.budget.spend(sum(cost_of(v) for v in self.done.values()))

    def limit(self, provider: Any) -> ProviderLimit:
        # One in-process model computes one answer at a time; a second would only wait.
        ceiling = 1 if provider.kind == "local" else self.concurrency
        return self._limits.setdefault(provider.name, ProviderLimit(ceiling))

    def finished(self, cell: Cell) -> bool:
        answer = self.done.get(answer_part(cell))
        return answer is not None and (answer["status"] != "ok" or all(
            grade_part(cell, j) in self.done for j in self.judges))

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

    async def _cell(self, cell: Cell, queue: asyncio.Queue[Any]) -> None:
        answer = self.done.get(answer_part(cell))
        reused = answer is not None
        if not self.finished(cell):
            estimate = self.estimate.per_cell.get(cell.key)
            try:
                if answer is None:
                    answer = await self._answer(cell, queue, estimate)
                    if answer is None:
                        return
                    self._keep(answer_part(cell), answer)
                elif not self._admit(cell, estimate):
                    return
                if answer["status"] == "ok":
                    await asyncio.gather(*(self._grade(cell, spec, answer) for spec in self.judges
                                           if grade_part(cell, spec) not in self.done))
            finally:
                if cell.key in self.budget.reserved:  # admitted: its real cost replaces the reservation
                    self.budget.settle(cell.key, cell.model, estimate, cost_of(answer) + sum(
                        cost_of(g) for g in self._grades(cell)))
        await queue.put(CellDone(cell, answer, self._grades(cell), reused=reused))

    async def _answer(self, cell: Cell, queue: asyncio.Queue[Any], estimate: float | None) -> dict[str, Any] | None:
        """The model's answer, or None when the budget has no room for the cell once it is
        its turn; a rate-limited answer is asked again after the provider's limit halved."""
        provider = self.providers[cell.model]
        limit = self.limit(provider)
        for attempt in range(MAX_REQUEUES + 1):
            async with limit.slot() as slot:
                if attempt == 0 and not self._admit(cell, estimate):
                    return None
                answer = await tasks.answer(provider, self.plan.item(cell.item),
                                            self.prepared[(cell.model, cell.item)], mode=self.plan.mode,
                                            max_tokens=self.max_tokens)
                slot.rate_limited = (answer["status"] != "ok"
                                     and (answer["error"] or {}).get("kind") == "rate_limited")
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
        async with self.limit(judge).slot():
            grade = await tasks.grade(judge, self.plan.item(cell.item), answer, self.subjects[(spec, cell.item)],
                                      mode=self.plan.mode)
        self.budget.spend(cost_of(grade))
        self._keep(grade_part(cell, spec), grade)

    def _keep(self, key: str, data: dict[str, Any]) -> None:
        self.done[key] = data
        self.keep(key, data)

    def records(self) -> list[dict[str, Any]]:
        """Every finished cell as the report takes it: model, item, run, answer, grades."""
        return [{"model": c.model, "item": c.item, "run": c.run, "answer": self.done[answer_part(c)],
                 "grades": self._grades(c)} for c in self.plan.cells() if self.finished(c)]

    def _grades(self, cell: Cell) -> list[dict[str, Any]]:
        return [self.done[grade_part(cell, j)] for j in self.judges if grade_part(cell, j) in self.done]
