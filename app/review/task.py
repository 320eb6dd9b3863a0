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

from app.answer_key import AnswerKey, score_against_key
from app.injection import scan_lines
from app.inputs import TextInput
from app.metrics import combined_response
from app.partial import ListStreamer
from app.review.model import Finding, FindingReply, ReviewReply, ReviewResult
from app.review.prompt import repair_request, review_request
from app.review.validate import LineProblems, validate_finding
from app.source import Chunk, SourceFile, estimate_tokens
from providers import Completed, Provider, Request, Response, RetryScheduled, TextDelta, Usage
from providers.checks import Check
from providers.errors import InterruptedStreamError, InvalidOutputError, ProviderError
from providers.pricing import cost_usd

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
class ReviewOutcome:
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

    @property
    def status(self) -> str:
        return "failed" if self.error is not None else "ok"

    @property
    def response(self) -> Response | None:
        """All calls of this review as one set of metrics."""
        combined = combined_response(self.responses)
        if combined is not None and len(self.responses) > 1:
            combined.total_s = self.elapsed_s
        return combined


def estimate_cost(provider: Provider, source: SourceFile, chunks: list[Chunk]) -> Estimate:
    """What the review will send and roughly cost, before anything is sent."""
    input_tokens = sum(c.tokens for c in chunks) + len(chunks) * (
        PROMPT_OVERHEAD_TOKENS + estimate_tokens(source.outline()))
    output_tokens = len(chunks) * EXPECTED_REPLY_TOKENS
    cost = cost_usd(provider.price_provider, provider.model,
                    Usage(input_tokens=input_tokens, output_tokens=output_tokens),
                    provider.settings.price_overrides)
    return Estimate(len(chunks), input_tokens, output_tokens, cost)


def input_checks(source: SourceFile, text_input: TextInput) -> list[Check]:
    """What is worth knowing about the input before the model's answer arrives."""
    checks = [Check("input_decoding", "warning", note, "Line numbers are unaffected.")
              for note in text_input.notes if "not valid UTF-8" in note or "UTF-16" in note]
    flags = scan_lines(source.lines)
    if flags:
        shown = "; ".join(f"line {f.line}: {f.reason} ({f.excerpt})" for f in flags[:8])
        more = f"; and {len(flags) - 8} more" if len(flags) > 8 else ""
        checks.append(Check(
            "prompt_injection", "warning", f"{len(flags)} line(s) in the code address the model: {shown}{more}",
            "They were sent as data with an instruction not to obey them. Check that the score and "
            "findings still make sense, and find out why the text is there."))
    if source.language is None:
        checks.append(Check("language_unknown", "warning",
                            f"no grammar for {source.path}; reviewed as plain numbered text",
                            "Findings have no enclosing symbol, and large files are cut at blank lines."))
    elif source.parse_errors:
        checks.append(Check("parse_errors", "warning",
                            f"the {source.language} parser found syntax errors in {source.path}",
                            "The file may not compile; symbols near the errors may be missing."))
    return checks


async def review_events(provider: Provider, source: SourceFile, text_input: TextInput, chunks: list[Chunk], *,
                        max_tokens: int, key: AnswerKey | None = None,
                        input_flags: list[Check] | None = None) -> AsyncIterator[ReviewEvent]:
    outcome = ReviewOutcome(provider=provider.name, model=provider.model, input=text_input, source=source,
                            chunks=chunks, checks=[*(input_flags or []), *input_checks(source, text_input)])
    started = time.perf_counter()
    problems = LineProblems()
    findings: list[Finding] = []
    summaries: list[tuple[Chunk, str, int]] = []
    for chunk in chunks:
        yield ChunkStarted(chunk.index, len(chunks), chunk.start, chunk.end)
        request = review_request(source, chunk, len(chunks), max_tokens=max_tokens)
        streamer: ListStreamer[FindingReply] = ListStreamer("findings", FindingReply)
        streamed: list[Finding] = []
        response: Response | None = None
        try:
            async for event in provider.stream(request):
                if type(event) is TextDelta:
                    for reply in streamer.feed(event.text):
                        finding = validate_finding(reply, f"F{len(findings) + len(streamed) + 1}", source,
                                                   LineProblems())
                        streamed.append(finding)
                        yield FindingFound(finding)
                elif isinstance(event, RetryScheduled):
                    yield event
                elif isinstance(event, Completed):
                    response = event.response
            assert response is not None
            outcome.responses.append(response)
            reply, response_checks = await _final_reply(provider, request, response, outcome)
        except ProviderError as error:
            outcome.error = error
            outcome.partial_text += error.partial_text if isinstance(error, InterruptedStreamError) else (
                response.text if response is not None else "")
            if isinstance(error, InvalidOutputError) and error.response is not None:
                outcome.checks.extend(error.response.checks)  # type: ignore[attr-defined]
            findings.extend(streamed)  # what arrived is kept, marked partial by the error
            break
        outcome.checks.extend(response_checks)
        # The final parse is canonical; findings not yet streamed are emitted now.
        final = [validate_finding(r, f"F{len(findings) + n + 1}", source, problems)
                 for n, r in enumerate(reply.findings)]
        if not outcome.repaired:
            for finding in final[len(streamed):]:
                yield FindingFound(finding)
        findings.extend(final)
        summaries.append((chunk, reply.summary, reply.score))

    outcome.elapsed_s = time.perf_counter() - started
    outcome.checks.extend(problems.checks(source.line_count))
    outcome.result = _merge(summaries, findings, partial=outcome.error is not None)
    if key is not None:
        outcome.answer_key = score_against_key(key, outcome.result.findings, source.symbol_at)
    yield ReviewFinished(outcome)


async def _final_reply(provider: Provider, request: Request, response: Response,
                       outcome: ReviewOutcome) -> tuple[ReviewReply, list[Check]]:
    """The validated reply, repaired once if it does not match the schema.

    Raises EmptyResponseError for the silent failures (empty, billed, null) and
    InvalidOutputError when the reply stays unusable after one repair.
    """
    from providers.checks import raise_for_checks

    schema_check = next((c for c in response.checks if c.name == "schema_invalid"), None)
    others = [c for c in response.checks if c is not schema_check]
    raise_for_checks(response.with_checks(others))
    if schema_check is None:
        return response.parsed, others
    if response.finish_reason == "length":
        raise InvalidOutputError(
            f"the review was cut off at the token limit ({request.max_tokens}) and is incomplete",
            provider=response.spec, request_id=response.request_id, response=response,
            hint="Raise --max-tokens, or review a smaller part of the file (--chunk-tokens).")
    repair = await provider.complete(repair_request(request, response.text, schema_check.message))
    outcome.responses.append(repair)
    outcome.repaired = True
    repair_schema = next((c for c in repair.checks if c.name == "schema_invalid"), None)
    raise_for_checks(repair.with_checks([c for c in repair.checks if c is not repair_schema]))
    if repair_schema is not None:
        raise InvalidOutputError(
            f"the reply did not match the review schema, even after one repair: {repair_schema.message}",
            provider=repair.spec, request_id=repair.request_id, response=repair,
            hint="Try again, or use a provider with native structured output.")
    note = Check("repaired", "warning", f"the first reply did not match the schema ({schema_check.message})",
                 "A repair request produced a valid reply; the findings shown are from the repaired reply.")
    return repair.parsed, [*others, *repair.checks, note]


def _merge(summaries: list[tuple[Chunk, str, int]], findings: list[Finding], *, partial: bool) -> ReviewResult:
    """One result for the whole file. The score is the weakest part's: a file is as safe
    to ship as its worst section, however clean the rest."""
    if not summaries:
        return ReviewResult(score=None, summary="(incomplete: the review failed before a complete answer arrived)" if partial else "",
                            findings=findings)
    if len(summaries) == 1:
        chunk, summary, score = summaries[0]
    else:
        summary = " ".join(f"Lines {c.start}-{c.end}: {s}" for c, s, _ in summaries)
        score = min(s for _, _, s in summaries)
    if partial:
        summary = f"(incomplete: the review failed part way) {summary}"
    return ReviewResult(score=score, summary=summary, findings=findings)
