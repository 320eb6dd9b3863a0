"""Reviewing several files, or a change: each file its own review (its own validation,
evidence checks, redaction and injection flags), run concurrently within the provider's
limit, and one outcome over all of them.

A file that fails keeps its failure and what arrived before it; the others go on. When
a failure says the provider cannot be used at all (a wrong key, an unknown model), the
files not yet sent are not sent: they would fail the same way, each billed a request.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.calls.limits import ProviderLimit
from app.calls.outcome import CallsOutcome
from app.calls.streams import interleave
from app.review.contract import (
    ChangeInputOut,
    ChangeReviewOutput,
    CombinedAnswerKey,
    LeftOutFile,
    NotSentFile,
    PublicFinding,
    ReviewedFile,
    ReviewResultOut,
    SeverityCounts,
)
from app.review.files import ChangedFile, ChangeInput, LeftOut
from app.review.model import Finding, ReviewResult
from app.review.pack import PackFinished, PackMember, pack_events
from app.review.plan import ReviewPlan
from app.review.report import review_output
from app.review.task import FileScope, ReviewFinished, ReviewOutcome, Sender
from providers import Provider, Response
from providers.errors import ProviderError
from providers.types import Check

DEFAULT_FILE_CONCURRENCY = 4


@dataclass(frozen=True)
class FileStarted:
    path: str
    index: int
    total: int


@dataclass(frozen=True)
class FileEvent:
    """One of a file's review events (ChunkStarted, FindingFound, a retry ...)."""

    path: str
    event: Any


@dataclass(frozen=True)
class FileFinished:
    file: ChangedFile
    outcome: ReviewOutcome | None  # None: not sent (an earlier failure said the provider cannot be used)
    done: int
    total: int


@dataclass(frozen=True)
class ChangeFinished:
    outcome: ChangeOutcome


@dataclass(frozen=True)
class Baseline:
    """A stored review of the base (--baseline): its run id and its findings' public JSON."""

    run_id: str
    findings: list[dict[str, Any]]

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(str(f["fingerprint"]) for f in self.findings if f.get("fingerprint"))


@dataclass
class ChangeOutcome(CallsOutcome):
    """A review of several files: each file's outcome, and what they add up to."""

    provider: str
    model: str
    change: ChangeInput
    outcomes: dict[str, ReviewOutcome | None] = field(default_factory=dict)  # by path, in the input's order
    responses: list[Response] = field(default_factory=list)
    error: ProviderError | None = None  # the first failure, if any file failed
    checks: list[Check] = field(default_factory=list)
    partial_text: str = ""
    elapsed_s: float = 0.0
    baseline: dict[str, Any] | None = None  # with --baseline: what is new, unchanged and fixed

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes.values() if o is not None and o.result for f in o.result.findings]

    @property
    def result(self) -> ReviewResult:
        """All files as one result; the score is the weakest file's."""
        scores = [o.result.score for o in self.outcomes.values() if o is not None and o.result]
        known = [s for s in scores if s is not None]
        reviewed = sum(1 for o in self.outcomes.values() if o is not None)
        summary = f"{reviewed} of {len(self.change.files)} file(s) reviewed"
        if self.change.left_out:
            summary += f", {len(self.change.left_out)} left out"
        return ReviewResult(score=min(known) if known else None, summary=summary, findings=self.findings)


async def change_events(
    plans: list[ReviewPlan],
    provider: Provider,
    change: ChangeInput,
    *,
    limit: ProviderLimit | None = None,
    changed_only: bool = False,
    baseline: Baseline | None = None,
    new_only: bool = False,
) -> AsyncIterator[Any]:
    """Every file's review events as they happen (FileStarted, FileEvent, FileFinished),
    then ChangeFinished. `provider` is the one every file is sent to (recorded, routed).
    Every request takes its own turn in `limit`: files, a large file's parts and packs of
    small files (app.review.pack) all go at once, as far as the limit lets them."""
    sender = Sender(limit or ProviderLimit(DEFAULT_FILE_CONCURRENCY))
    outcome = ChangeOutcome(provider=provider.name, model=provider.model, change=change)
    outcome.outcomes = dict.fromkeys(change.paths)
    seen: set[str] = set()
    known = baseline.fingerprints if baseline is not None else None
    total = len(plans)
    index = {file.path: n for n, file in enumerate(change.files)}
    started = time.perf_counter()

    def scope(file: ChangedFile) -> FileScope:
        return FileScope(
            file.path,
            file.changed,
            changed_only=changed_only and file.changed is not None,
            baseline=known,
            new_only=new_only,
            seen=seen,
        )

    async def one_file(plan: ReviewPlan, file: ChangedFile) -> AsyncIterator[Any]:
        result: ReviewOutcome | None = None
        events = plan.events(provider, file.text_input, key=file.key, scope=scope(file), sender=sender)
        async for event in events:
            if isinstance(event, ReviewFinished):
                result = event.outcome
            else:
                yield event
        assert result is not None
        yield _Reviewed(file, result if result.sent else None)

    async def one_pack(members: list[PackMember]) -> AsyncIterator[Any]:
        events = pack_events(provider, members, max_tokens=members[0].plan.max_tokens, sender=sender)
        async for path, event in events:
            if isinstance(event, PackFinished):
                for m in members:
                    reviewed = event.outcomes[m.file.path]
                    yield _Reviewed(m.file, reviewed if reviewed.sent else None)
            else:
                yield FileEvent(path, event)

    units: list[AsyncIterator[Any]] = []
    packs: dict[int, list[PackMember]] = {}
    for plan, file in zip(plans, change.files, strict=True):
        if plan.pack is None:
            units.append(_tagged(file.path, one_file(plan, file)))
        elif plan.pack in packs:
            packs[plan.pack].append(PackMember(file, plan, scope(file)))
        else:
            packs[plan.pack] = [PackMember(file, plan, scope(file))]
            units.append(one_pack(packs[plan.pack]))
    begun: set[str] = set()
    done = 0
    async for item in interleave(units):
        if isinstance(item, _Reviewed):
            outcome.outcomes[item.file.path] = item.outcome
            done += 1
            yield FileFinished(item.file, item.outcome, done, total)
            continue
        if item.path not in begun:  # its first request has its turn
            begun.add(item.path)
            yield FileStarted(item.path, index[item.path], total)
        yield item
    outcome.elapsed_s = time.perf_counter() - started
    for path, file_outcome in outcome.outcomes.items():
        if file_outcome is None:
            continue
        outcome.responses.extend(file_outcome.responses)
        outcome.checks.extend(_labelled(path, c) for c in file_outcome.checks)
        if file_outcome.error is not None and outcome.error is None:
            outcome.error = file_outcome.error
    if sender.stopped and outcome.error is None:
        outcome.error = sender.stopped[0]
    if baseline is not None:
        reviewed = {
            file.path: _symbols_sent(plan, file)
            for plan, file in zip(plans, change.files, strict=True)
            if (o := outcome.outcomes.get(file.path)) is not None and o.error is None
        }
        outcome.baseline = _against_baseline(baseline, outcome.findings, seen, reviewed, new_only)
    yield ChangeFinished(outcome)


@dataclass(frozen=True)
class _Reviewed:
    file: ChangedFile
    outcome: ReviewOutcome | None  # None: not sent


async def _tagged(path: str, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for event in events:
        yield event if isinstance(event, _Reviewed) else FileEvent(path, event)


def _symbols_sent(plan: ReviewPlan, file: ChangedFile) -> set[str | None] | None:
    """The symbols a file's requests showed the model whole, or that the change touched
    (None in the set: module level); None when the whole file was sent."""
    if file.changed is None:
        return None
    parts = sorted(part for chunk in plan.chunks for part in chunk.parts)  # disjoint ranges
    starts = [a for a, _ in parts]
    changed = sorted(file.changed)

    def touched(start: int, end: int) -> bool:  # a changed line within start..end, by bisection
        at = bisect_left(changed, start)
        return at < len(changed) and changed[at] <= end

    def shown_whole(start: int, end: int) -> bool:  # inside one part, found by bisection
        at = bisect_right(starts, start) - 1
        return at >= 0 and end <= parts[at][1]

    return {None} | {s.name for s in plan.source.symbols if touched(s.start, s.end) or shown_whole(s.start, s.end)}


def _against_baseline(
    baseline: Baseline,
    findings: list[Finding],
    seen: set[str],
    reviewed: dict[str, set[str | None] | None],
    new_only: bool,
) -> dict[str, Any]:
    """New, unchanged and fixed by fingerprint. Fixed is what the base had where this
    review looked again (the same file, and for a change the same symbol) and no longer
    finds: code the change left alone was not looked at, so it has fixed nothing."""

    def looked_again(stored: dict[str, Any]) -> bool:
        path = stored.get("path")
        if path not in reviewed:
            return False
        symbols = reviewed[path]
        return symbols is None or stored.get("symbol") in symbols

    fixed = [f for f in baseline.findings if f.get("fingerprint") and f["fingerprint"] not in seen and looked_again(f)]
    unchanged = len({fp for fp in seen if fp in baseline.fingerprints})
    return {
        "run_id": baseline.run_id,
        "new": sum(1 for f in findings if f.baseline == "new"),
        "unchanged": unchanged,
        "fixed": len(fixed),
        "new_only": new_only,
        "fixed_findings": [
            {k: f.get(k) for k in ("path", "line_start", "severity", "category", "title", "fingerprint")} for f in fixed
        ],
    }


def _labelled(path: str, check: Check) -> Check:
    return Check(check.name, check.severity, f"{path}: {check.message}", check.diagnosis)


def change_json(outcome: ChangeOutcome) -> dict[str, Any]:
    return change_output(outcome).public()


def change_output(outcome: ChangeOutcome) -> ChangeReviewOutput:
    """The public JSON of a review of several files: today's keys over all of them
    (findings carry `path`), plus `files`, one entry per file reviewed or left out."""
    change = outcome.change
    result = outcome.result
    files: list[ReviewedFile | NotSentFile | LeftOutFile] = [
        _file_entry(f, outcome.outcomes.get(f.path)) for f in change.files
    ]
    files += [_left_out_entry(left) for left in change.left_out]
    return ChangeReviewOutput.model_validate(
        {
            "task": "review",
            "input": ChangeInputOut(
                kind="change" if change.is_change else "files",
                label=change.label,
                range=change.range,
                root=change.root,
                files=len(change.files),
                left_out=len(change.left_out),
            ),
            "result": ReviewResultOut(
                score=result.score,
                summary=result.summary,
                counts=SeverityCounts(**result.counts()),
                findings=[PublicFinding.of(f) for f in result.findings],
            ),
            "answer_key": combined_answer_key(outcome),
            "files": files,
            **({"baseline": outcome.baseline} if outcome.baseline is not None else {}),
            **outcome.envelope(),
        }
    )


def _file_entry(file: ChangedFile, outcome: ReviewOutcome | None) -> ReviewedFile | NotSentFile:
    entry = {
        "path": file.path,
        "change": file.status,
        "old_path": file.old_path,
        "changed_lines": len(file.changed) if file.changed is not None else None,
        "hunks_only": file.known is not None,
    }
    if outcome is None:
        return NotSentFile(**entry, status="not_sent", reason="an earlier failure showed the provider cannot be used")
    review = review_output(outcome)
    result = review.result
    return ReviewedFile(
        **entry,
        status=review.status,
        error=review.error,
        language=review.input.language,
        lines=review.input.lines,
        sha256=review.input.sha256,
        chunks=review.input.chunks,
        score=None if result is None else result.score,
        summary=None if result is None else result.summary,
        counts=None if result is None else result.counts,
        checks=review.checks,
        partial_text=review.partial_text,
        answer_key=review.answer_key,
    )


def _left_out_entry(left: LeftOut) -> LeftOutFile:
    return LeftOutFile(path=left.path, change=left.status, status="left_out", reason=left.reason)


def combined_answer_key(outcome: ChangeOutcome) -> CombinedAnswerKey | None:
    """The answer keys of the keyed files as one: recall over every planted issue, precision
    over every finding in the keyed files."""
    keyed = [o.answer_key for o in outcome.outcomes.values() if o is not None and o.answer_key]
    if not keyed:
        return None
    expected = sum(k["expected"] for k in keyed)
    matched = sum(k["matched"] for k in keyed)
    findings = sum(k["matched"] + len(k["unexpected"]) for k in keyed)
    return CombinedAnswerKey(
        key=f"{len(keyed)} keyed file(s)",
        expected=expected,
        matched=matched,
        recall=round(matched / expected, 3) if expected else 0.0,
        precision=round(matched / findings, 3) if findings else None,
        missed=[
            f"{path}:{issue}"
            for path, o in outcome.outcomes.items()
            if o is not None and o.answer_key
            for issue in o.answer_key["missed"]
        ],
    )
