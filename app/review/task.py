"""Running a review: chunks, streamed findings, validation, repair, and the outcome.

`review_events` is the one implementation; the CLI prints its events and the TUI will
render them. It never raises a provider error: a failure ends the stream with an
outcome whose `error` is set and which still holds every finding and every character
received before the failure.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from app.calls.limits import ProviderLimit, Slot
from app.calls.outcome import CallsOutcome
from app.calls.partial import ListStreamer
from app.calls.streams import interleave
from app.calls.structured import final_reply, stream_items
from app.review.answer_key import AnswerKey, score_against_key
from app.review.fingerprint import finding_fingerprint
from app.review.model import Finding, FindingReply, ReviewResult
from app.review.prompt import review_request
from app.review.validate import LineProblems, validate_finding
from app.source.injection import scan_lines
from app.source.inputs import TextInput
from app.source.model import Chunk, SourceFile, estimate_tokens
from providers import Provider, Request, Response, RetryScheduled, Usage
from providers.errors import ProviderError
from providers.pricing import cost_usd
from providers.types import Check

# Source tokens per request. Large enough for ~1,000 lines of ordinary code at once,
# small enough that a model still reads all of it closely and its reply fits the limit.
DEFAULT_CHUNK_TOKENS = 12_000
# What one request costs beyond the code (instructions, outline), and a typical reply.
PROMPT_OVERHEAD_TOKENS = 700
EXPECTED_REPLY_TOKENS = 1_200


@dataclass(frozen=True)
class ChunkStarted:
    index: int
    total: int
    start: int
    end: int


@dataclass(frozen=True)
class FindingFound:
    finding: Finding


@dataclass(frozen=True)
class ReviewFinished:
    outcome: ReviewOutcome


ReviewEvent = ChunkStarted | FindingFound | RetryScheduled | ReviewFinished


@dataclass
class Estimate:
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None


@dataclass
class ReviewOutcome(CallsOutcome):
    provider: str
    model: str
    input: TextInput
    source: SourceFile
    chunks: list[Chunk]
    result: ReviewResult | None = None
    responses: list[Response] = field(default_factory=list)
    error: ProviderError | None = None
    checks: list[Check] = field(default_factory=list)
    partial_text: str = ""
    answer_key: dict[str, Any] | None = None
    repaired: bool = False
    elapsed_s: float = 0.0
    sent: bool = True  # False: not one request went (an earlier failure stopped sending)


def estimate_cost(provider: Provider, source: SourceFile, chunks: list[Chunk]) -> Estimate:
    """What the review will send and roughly cost, before anything is sent."""
    return estimate_requests(provider, [[(source, chunk)] for chunk in chunks])


def estimate_requests(provider: Provider, requests: list[list[tuple[SourceFile, Chunk]]]) -> Estimate:
    """The same for requests that may each send several files' parts (a change's small
    files packed together): the instructions once per request, an outline per file."""
    outlines: dict[int, int] = {}

    def outline(source: SourceFile) -> int:
        return outlines.setdefault(id(source), estimate_tokens(source.outline()))

    input_tokens = sum(PROMPT_OVERHEAD_TOKENS + sum(c.tokens + outline(s) for s, c in parts) for parts in requests)
    output_tokens = len(requests) * EXPECTED_REPLY_TOKENS
    cost = cost_usd(
        provider.price_provider,
        provider.model,
        Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        provider.settings.price_overrides,
    )
    return Estimate(len(requests), input_tokens, output_tokens, cost)


def input_checks(source: SourceFile, text_input: TextInput) -> list[Check]:
    """What is worth knowing about the input before the model's answer arrives."""
    # Anything but UTF-8 was decoded with care, and the decoder's note (always the first) says how.
    checks = (
        []
        if text_input.encoding == "utf-8"
        else [Check("input_decoding", "warning", text_input.notes[0], "Line numbers are unaffected.")]
    )
    flags = scan_lines(source.lines)
    if flags:
        shown = "; ".join(f"line {f.line}: {f.reason} ({f.excerpt})" for f in flags[:8])
        more = f"; and {len(flags) - 8} more" if len(flags) > 8 else ""
        checks.append(
            Check(
                "prompt_injection",
                "warning",
                f"{len(flags)} line(s) in the code address the model: {shown}{more}",
                "They were sent as data with an instruction not to obey them. Check that the score and "
                "findings still make sense, and find out why the text is there.",
            )
        )
    if source.language is None:
        checks.append(
            Check(
                "language_unknown",
                "warning",
                f"no grammar for {source.path}; reviewed as plain numbered text",
                "Findings have no enclosing symbol, and large files are cut at blank lines.",
            )
        )
    elif source.parse_errors:
        checks.append(
            Check(
                "parse_errors",
                "warning",
                f"the {source.language} parser found syntax errors in {source.path}",
                "The file may not compile; symbols near the errors may be missing.",
            )
        )
    return checks


# Provider failures that no other request would escape: stop sending.
FATAL_KINDS = frozenset(
    {"configuration", "unknown_provider", "missing_key", "authentication", "permission_denied", "model_not_found"}
)


@dataclass
class Sender:
    """How a review's requests take their turn: each within the provider's `limit` (so a
    file's parts go concurrently, beside other files'), and none once `stopped` holds a
    failure no request would escape (a wrong key, an unknown model)."""

    limit: ProviderLimit
    stopped: list[ProviderError] = field(default_factory=list)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Slot | None]:
        """A place in the limit, or None when sending has stopped."""
        async with self.limit.slot() as slot:
            yield None if self.stopped else slot

    def answered(self, slot: Slot, error: ProviderError | None) -> None:
        slot.rate_limited = error is not None and error.kind == "rate_limited"
        if error is not None and error.kind in FATAL_KINDS:
            self.stopped.append(error)


@dataclass
class Answer:
    """What one request brought back: the final reply, or the items that streamed before
    it failed (or the failure that kept it from being sent)."""

    streamed: list[Any] = field(default_factory=list)
    reply: Any = None
    responses: list[Response] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    repaired: bool = False
    error: ProviderError | None = None
    failed: Response | None = None  # the reply of a request that failed after it came back
    sent: bool = True


async def ask(
    provider: Provider, request: Request, streamer: ListStreamer[Any], answer: Answer
) -> AsyncIterator[tuple[str, Any]]:
    """One request: ("item", reply item) as each streams, ("event", a retry ...) as they
    happen; `answer` holds the rest when the stream ends. Never raises a provider error."""
    response: Response | None = None
    try:
        async for kind, value in stream_items(provider, request, streamer):
            if kind == "item":
                answer.streamed.append(value)
                yield kind, value
            elif kind == "event":
                yield kind, value
            else:
                response = value
        assert response is not None
        answer.responses.append(response)
        answer.reply, answer.checks, answer.repaired = await final_reply(
            provider,
            request,
            response,
            answer.responses,
            what="review",
            limit_hint="Raise --max-tokens, or review a smaller part of the file (--chunk-tokens).",
        )
    except ProviderError as error:
        answer.error, answer.failed = error, response


async def review_events(
    provider: Provider,
    source: SourceFile,
    text_input: TextInput,
    chunks: list[Chunk],
    *,
    max_tokens: int,
    key: AnswerKey | None = None,
    input_flags: list[Check] | None = None,
    scope: FileScope | None = None,
    sender: Sender | None = None,
) -> AsyncIterator[ReviewEvent]:
    """One file's review. With a `scope` (a review of several files or of a change) each
    finding carries its path and fingerprint, and, for a change, whether it cites a
    changed line; `scope.changed_only` drops those that do not. Without a `sender` the
    parts go one after another and a failure stops the rest; with one, each part takes
    its own turn in the sender's limit, all at once, and the findings keep the parts' order."""
    started = time.perf_counter()
    answers: dict[int, Answer] = {}

    def part(chunk: Chunk, offset: int) -> AsyncIterator[ReviewEvent]:
        return _part_events(provider, source, chunk, len(chunks), max_tokens, scope, answers, offset, sender)

    if sender is None:
        for chunk in chunks:
            offset = sum(len(replies_of(a)) for a in answers.values())
            async for event in part(chunk, offset):
                yield event
            if answers[chunk.index].error is not None:
                break
    else:
        async for event in interleave([part(chunk, 0) for chunk in chunks]):
            yield event
    outcome = ReviewOutcome(
        provider=provider.name,
        model=provider.model,
        input=text_input,
        source=source,
        chunks=chunks,
        checks=[*(input_flags or []), *input_checks(source, text_input)],
        sent=any(a.sent for a in answers.values()),
    )
    parts = [
        (chunk, answers[chunk.index], replies_of(answers[chunk.index])) for chunk in chunks if chunk.index in answers
    ]
    assemble(outcome, parts, key=key, scope=scope)
    outcome.elapsed_s = time.perf_counter() - started
    yield ReviewFinished(outcome)


def replies_of(answer: Answer) -> list[Any]:
    """The findings of an answer: the final reply's, or what streamed before a failure."""
    return list(answer.reply.findings) if answer.reply is not None else answer.streamed


async def _part_events(
    provider: Provider,
    source: SourceFile,
    chunk: Chunk,
    total: int,
    max_tokens: int,
    scope: FileScope | None,
    answers: dict[int, Answer],
    offset: int,
    sender: Sender | None,
) -> AsyncIterator[ReviewEvent]:
    """One part's request, in its turn. Findings are shown as they stream, numbered from
    `offset` (provisionally, when parts run at once: `assemble` numbers them for good)."""
    answer = answers[chunk.index] = Answer()
    async with sender.turn() if sender is not None else nullcontext(Slot()) as slot:
        if slot is None:  # a failure said the provider cannot be used: not sent
            assert sender is not None
            answer.sent, answer.error = False, sender.stopped[0]
            return
        yield ChunkStarted(chunk.index, total, chunk.start, chunk.end)
        request = review_request(source, chunk, total, max_tokens=max_tokens, changed=scope.changed if scope else None)
        shown = 0
        async for kind, value in ask(provider, request, ListStreamer("findings", FindingReply), answer):
            if kind == "item":
                shown += 1
                finding = validate_finding(value, f"F{offset + shown}", source, LineProblems())
                if in_scope(finding, source, scope):
                    yield FindingFound(finding)
            else:
                yield value
        if sender is not None:
            sender.answered(slot, answer.error)
    if answer.reply is not None and not answer.repaired:  # the final parse is canonical: the rest now
        for n, reply in enumerate(answer.reply.findings[shown:], start=shown + 1):
            finding = validate_finding(reply, f"F{offset + n}", source, LineProblems())
            if in_scope(finding, source, scope):
                yield FindingFound(finding)


def assemble(
    outcome: ReviewOutcome,
    parts: list[tuple[Chunk, Answer, list[Any]]],
    *,
    key: AnswerKey | None,
    scope: FileScope | None,
) -> None:
    """A file's result from its parts' answers, in the parts' order: findings validated and
    numbered, those the scope drops left out together with every check that named them,
    the first failure (with everything that arrived), one score and summary, the key."""
    source = outcome.source
    problems = LineProblems()
    findings: list[Finding] = []
    summaries: list[tuple[Chunk, str, int]] = []
    for chunk, answer, replies in parts:
        outcome.responses.extend(answer.responses)
        if answer.error is not None:
            first = outcome.error
            outcome.record_failure(answer.error, answer.failed)
            outcome.error = first or answer.error
        else:
            outcome.checks.extend(answer.checks)
            outcome.repaired = outcome.repaired or answer.repaired
            summaries.append((chunk, answer.reply.summary, answer.reply.score))
        for reply in replies:
            found = LineProblems()
            finding = validate_finding(reply, f"F{len(findings) + 1}", source, found)
            if in_scope(finding, source, scope):
                findings.append(finding)
                if answer.error is None:  # what streamed before a failure is not checked
                    problems.add(found)
    outcome.checks.extend(problems.checks(source.line_count))
    outcome.result = _merge(summaries, findings, partial=outcome.error is not None)
    if key is not None:
        outcome.answer_key = score_against_key(key, outcome.result.findings, source.symbol_at)


@dataclass(frozen=True)
class FileScope:
    """A file's place in a review of several files or of a change."""

    path: str
    changed: frozenset[int] | None = None  # the new lines a change touched; None: the whole file
    changed_only: bool = False  # drop findings that cite no changed line
    baseline: frozenset[str] | None = None  # the fingerprints of a stored review (--baseline)
    new_only: bool = False  # drop findings the baseline already had
    seen: set[str] = field(default_factory=set, compare=False)  # fingerprints found, dropped ones too


def in_scope(finding: Finding, source: SourceFile, scope: FileScope | None) -> bool:
    """Mark `finding` with what its scope says of it; False when it is to be dropped."""
    if scope is None:
        return True
    finding.path = scope.path
    finding.fingerprint = finding_fingerprint(finding, source)
    scope.seen.add(finding.fingerprint)
    if scope.baseline is not None:
        finding.baseline = "unchanged" if finding.fingerprint in scope.baseline else "new"
        if scope.new_only and finding.baseline == "unchanged":
            return False
    if scope.changed is not None:
        cited = range(finding.line_start, finding.line_end + 1)
        finding.outside_change = not (finding.lines_valid and any(line in scope.changed for line in cited))
        return not (scope.changed_only and finding.outside_change)
    return True


def _merge(summaries: list[tuple[Chunk, str, int]], findings: list[Finding], *, partial: bool) -> ReviewResult:
    """One result for the whole file. The score is the weakest part's: a file is as safe
    to ship as its worst section, however clean the rest."""
    if not summaries:
        return ReviewResult(
            score=None,
            summary="(incomplete: the review failed before a complete answer arrived)" if partial else "",
            findings=findings,
        )
    if len(summaries) == 1:
        _chunk, summary, score = summaries[0]
    else:
        summary = " ".join(f"Lines {c.start}-{c.end}: {s}" for c, s, _ in summaries)
        score = min(s for _, _, s in summaries)
    if partial:
        summary = f"(incomplete: the review failed part way) {summary}"
    return ReviewResult(score=score, summary=summary, findings=findings)
