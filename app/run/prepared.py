"""A run ready to start, and how its end is written to history.

`PreparedRun` is what app.run.review and app.run.triage build for the command line and the
TUI alike: each side's provider, the judges, the history recorder, and for each side a
`start(run)` that begins one run of the task's event stream on the recorded provider.
Nothing has been sent when it exists; every input problem was found while building it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from app.compare.report import compare_report
from app.history.recording import RecordOutcome, RunRecorder
from app.history.summary import run_summary
from app.source.inputs import TextInput
from app.source.model import SourceFile
from providers import Provider

#: Begins one run (0, 1, ... with --repeat) of a side's task: its events, as they happen.
Start = Callable[[int], AsyncIterator[Any]]


@dataclass
class PreparedRun:
    """Everything a run needs, checked before anything is sent."""

    task: str  # what each side does: review | triage
    compare: bool  # two sides (or one side against a stored baseline), recorded as a compare
    text_input: TextInput
    providers: dict[str, Provider]  # each side's provider, as resolved (not the recorded wrapper)
    starts: dict[str, Start]
    recorder: RunRecorder
    judges: list[Provider] = field(default_factory=list)
    source: SourceFile | None = None  # a review's source, as parsed (before any redaction)
    #: --judge-mode pairwise: the judges' verdict on side A's answer against side B's.
    pairwise: Callable[[dict[str, Any], dict[str, Any]], Coroutine[Any, Any, dict[str, Any] | None]] | None = None

    @property
    def specs(self) -> dict[str, str]:
        return {side: provider.spec for side, provider in self.providers.items()}

    @property
    def closing(self) -> list[Provider]:
        """What to close when the run is over."""
        return [*self.providers.values(), *self.judges]

    def finish(
        self,
        runs: dict[str, list[dict[str, Any]]],
        *,
        baseline: str | None = None,
        pairwise: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any] | None, RecordOutcome]:
        """Write how the run ended to history, and read back what history holds of it.
        `runs` holds each side's public JSON per run; a compare's report is made here and
        returned (None for a single task)."""
        if self.compare:
            report = compare_report(self.task, {"a": runs["a"], "b": runs["b"]}, baseline=baseline, pairwise=pairwise)
            _, summary = run_summary(report)
            return report, self.recorder.finish(status=report["status"], summary=summary, result=report)
        [record] = runs["a"]
        score, summary = run_summary(record)
        return None, self.recorder.finish(status=record["status"], score=score, summary=summary, result=record)


def task_json(event: Any) -> dict[str, Any] | None:
    """The public JSON of a task's end event (a review's, a change's or a triage's), else None."""
    from app.review.change import ChangeFinished, change_json
    from app.review.report import review_json
    from app.review.task import ReviewFinished
    from app.triage.task import TriageFinished, triage_json

    if isinstance(event, ReviewFinished):
        return review_json(event.outcome)
    if isinstance(event, ChangeFinished):
        return change_json(event.outcome)
    if isinstance(event, TriageFinished):
        return triage_json(event.outcome)
    return None
