"""Small files of a change reviewed in one request.

Every file of a change costs at least one request, so a change of forty small files would
need forty. When a change needs more requests than the guard allows, the planner
(app.review.plan) packs files that fit one request each into shared requests, up to the
request's token budget and split at file boundaries. Each file keeps its own numbering
between its own markers; each finding names its file and is validated against that
file alone, and each file gets its own outcome, as if it had been sent by itself. The
request's calls are counted once, with the first file of the pack.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from app.calls.partial import ListStreamer
from app.review.files import ChangedFile
from app.review.model import PackedFindingReply
from app.review.plan import ReviewPlan
from app.review.prompt import pack_request
from app.review.task import (
    Answer,
    ChunkStarted,
    FileScope,
    FindingFound,
    ReviewOutcome,
    Sender,
    ask,
    assemble,
    in_scope,
    input_checks,
    replies_of,
)
from app.review.validate import LineProblems, validate_finding
from providers import Provider
from providers.types import Check


@dataclass(frozen=True)
class PackMember:
    file: ChangedFile
    plan: ReviewPlan  # one chunk
    scope: FileScope


@dataclass(frozen=True)
class PackFinished:
    outcomes: dict[str, ReviewOutcome]  # by path, every member's


def _path(reply: PackedFindingReply) -> str:
    return reply.path.strip().removeprefix("./")


async def pack_events(
    provider: Provider, members: list[PackMember], *, max_tokens: int, sender: Sender
) -> AsyncIterator[tuple[str, Any]]:
    """(path, event) for each member's events as they happen, then (first path,
    PackFinished) with every member's outcome."""
    started = time.perf_counter()
    by_path = {m.file.path: m for m in members}
    first = members[0].file.path
    answer = Answer()
    async with sender.turn() as slot:
        if slot is None:  # a failure said the provider cannot be used: not sent
            answer.sent, answer.error = False, sender.stopped[0]
        else:
            for m in members:
                chunk = m.plan.chunks[0]
                yield m.file.path, ChunkStarted(0, 1, chunk.start, chunk.end)
            request = pack_request(
                [(m.plan.source, m.plan.chunks[0], m.file.changed) for m in members], max_tokens=max_tokens
            )
            async for kind, value in ask(provider, request, ListStreamer("findings", PackedFindingReply), answer):
                if kind == "event":
                    yield first, value
                elif (member := by_path.get(_path(value))) is not None:
                    finding = validate_finding(value, "F?", member.plan.source, LineProblems())
                    if in_scope(finding, member.plan.source, member.scope):
                        yield member.file.path, FindingFound(finding)
            sender.answered(slot, answer.error)
    replies: list[PackedFindingReply] = replies_of(answer)
    unknown = [r for r in replies if _path(r) not in by_path]
    outcomes: dict[str, ReviewOutcome] = {}
    for n, m in enumerate(members):
        outcome = ReviewOutcome(
            provider=provider.name,
            model=provider.model,
            input=m.file.text_input,
            source=m.plan.source,
            chunks=m.plan.chunks,
            checks=[*m.plan.flags, *input_checks(m.plan.source, m.file.text_input)],
            sent=answer.sent,
        )
        share = answer if n == 0 else replace(answer, responses=[], checks=[])  # the calls count once
        own = [r for r in replies if _path(r) == m.file.path]
        assemble(outcome, [(m.plan.chunks[0], share, own)], key=m.file.key, scope=m.scope)
        if n == 0 and unknown:
            outcome.checks.append(_unknown_paths(unknown, list(by_path)))
        outcome.elapsed_s = time.perf_counter() - started
        outcomes[m.file.path] = outcome
    yield first, PackFinished(outcomes)


def _unknown_paths(unknown: list[PackedFindingReply], paths: list[str]) -> Check:
    named = sorted({r.path for r in unknown})
    return Check(
        "finding_path_unknown",
        "warning",
        f"{len(unknown)} finding(s) named a file that was not in their request ({', '.join(named[:5])}); "
        f"left out: their lines cannot be checked",
        f"The request held {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''}. Review those files "
        f"alone (a narrower change, or a higher --max-requests) to have them sent one per request.",
    )
