"""Running a review: chunks, streamed findings, validation, repair, and the outcome.

`review_events` is the one implementation; the CLI prints its events and the TUI will
render them. It never raises a provider error: a failure ends the stream with an
outcome whose `error` is set and which still holds every finding and every character
received before the failure.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.calls.outcome import CallsOutcome
from app.calls.partial import ListStreamer
from app.calls.structured import final_reply, stream_items
from app.review.answer_key import AnswerKey, score_against_key
from app.review.fingerprint import finding_fingerprint
from app.review.model import Finding, FindingReply, ReviewResult
from app.review.prompt import review_request
from app.review.validate import LineProblems, validate_finding
from app.source.injection import scan_lines
from app.source.inputs import TextInput
from app.source.model import Chunk, SourceFile, estimate_tokens
from providers import Provider, Response, RetryScheduled, Usage
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


def estimate_cost(provider: Provider, source: SourceFile, chunks: list[Chunk]) -> Estimate:
    """What the review will send and roughly cost, before anything is sent."""
    input_tokens = sum(c.tokens for c in chunks) + len(chunks) * (
        PROMPT_OVERHEAD_TOKENS + estimate_tokens(source.outline())
    )
    output_tokens = len(chunks) * EXPECTED_REPLY_TOKENS
    cost = cost_usd(
        provider.price_provider,
        provider.model,
        Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        provider.settings.price_overrides,
    )
    return Estimate(len(chunks), input_tokens, output_tokens, cost)


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
) -> AsyncIterator[ReviewEvent]:
    """One file's review. With a `scope` (a review of several files or of a change) each
    finding carries its path and fingerprint, and, for a change, whether it cites a
    changed line; `scope.changed_only` drops those that do not."""
    outcome = ReviewOutcome(
        provider=provider.name,
        model=provider.model,
        input=text_input,
        source=source,
        chunks=chunks,
        checks=[*(input_flags or []), *input_checks(source, text_input)],
    )
    started = time.perf_counter()
    problems = LineProblems()
    findings: list[Finding] = []
    summaries: list[tuple[Chunk, str, int]] = []
    for chunk in chunks:
        yield ChunkStarted(chunk.index, len(chunks), chunk.start, chunk.end)
        request = review_request(
            source, chunk, len(chunks), max_tokens=max_tokens, changed=scope.changed if scope else None
        )
        streamer: ListStreamer[FindingReply] = ListStreamer("findings", FindingReply)
        streamed: list[Finding] = []
        response: Response | None = None
        try:
            async for kind, value in stream_items(provider, request, streamer):
                if kind == "item":
                    finding = validate_finding(value, f"F{len(findings) + len(streamed) + 1}", source, LineProblems())
                    streamed.append(finding)
                    if _in_scope(finding, source, scope):
                        yield FindingFound(finding)
                elif kind == "event":
                    yield value
                else:
                    response = value
            assert response is not None
            outcome.responses.append(response)
            reply, response_checks, repaired = await final_reply(
                provider,
                request,
                response,
                outcome.responses,
                what="review",
                limit_hint="Raise --max-tokens, or review a smaller part of the file (--chunk-tokens).",
            )
            outcome.repaired = outcome.repaired or repaired
        except ProviderError as error:
            outcome.record_failure(error, response)
            findings.extend(streamed)  # what arrived is kept, marked partial by the error
            break
        outcome.checks.extend(response_checks)
        # The final parse is canonical; findings not yet streamed are emitted now.
        final = [
            validate_finding(r, f"F{len(findings) + n + 1}", source, problems) for n, r in enumerate(reply.findings)
        ]
        if not outcome.repaired:
            for finding in final[len(streamed) :]:
                if _in_scope(finding, source, scope):
                    yield FindingFound(finding)
        findings.extend(final)
        summaries.append((chunk, reply.summary, reply.score))

    outcome.elapsed_s = time.perf_counter() - started
    outcome.checks.extend(problems.checks(source.line_count))
    findings = [f for f in findings if _in_scope(f, source, scope)]
    outcome.result = _merge(summaries, findings, partial=outcome.error is not None)
    if key is not None:
        outcome.answer_key = score_against_key(key, outcome.result.findings, source.symbol_at)
    yield ReviewFinished(outcome)


@dataclass(frozen=True)
class FileScope:
    """A file's place in a review of several files or of a change."""

    path: str
    changed: frozenset[int] | None = None  # the new lines a change touched; None: the whole file
    changed_only: bool = False  # drop findings that cite no changed line
    baseline: frozenset[str] | None = None  # the fingerprints of a stored review (--baseline)
    new_only: bool = False  # drop findings the baseline already had
    seen: set[str] = field(default_factory=set, compare=False)  # fingerprints found, dropped ones too


def _in_scope(finding: Finding, source: SourceFile, scope: FileScope | None) -> bool:
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
