"""`driftcheck review FILE`: the headless review, for a terminal, a pipe or CI.

Everything the user might have got wrong is checked before a provider is contacted.
Text streams findings to stdout as they arrive; JSON, Markdown and SARIF are written
once the review ends (to stdout, or to --out while the text streams to the terminal).
A provider failure still writes the output, with what arrived before it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.cli import _fail, resolve_provider
from app.config.load import load_config
from app.errors import ExitCode, UsageError, exit_code_for

# Above this many source tokens, the estimate of tokens and cost is printed before sending.
ESTIMATE_ABOVE_TOKENS = 20_000


def default_max_tokens(provider: Any) -> int:
    # Reasoning models spend part of the budget thinking; the seeds' GPT-5.5 spent all of
    # a small one and returned nothing, billed.
    caps = provider.caps
    if caps.reasoning_tokens and caps.token_param == "max_completion_tokens":
        return 16_384
    if caps.context_tokens:  # a small local window: leave at least half of it for the code
        return min(4_096, caps.context_tokens // 2)
    return 4_096


def chunk_budget(provider: Any, source: Any, requested: int | None, max_tokens: int) -> int:
    """Source tokens per request: as asked (or the default), and never more than the
    provider's context window leaves once the instructions and the reply are counted."""
    from app.review.task import DEFAULT_CHUNK_TOKENS, PROMPT_OVERHEAD_TOKENS
    from app.source.model import estimate_tokens

    budget = requested or DEFAULT_CHUNK_TOKENS
    window = provider.caps.context_tokens
    if window:
        room = window - max_tokens - PROMPT_OVERHEAD_TOKENS - estimate_tokens(source.outline())
        if room < 256:
            raise UsageError(
                f"{provider.spec} has a {window:,}-token context, too small for a review with "
                f"--max-tokens {max_tokens:,}; lower --max-tokens or raise [local] context_tokens"
            )
        budget = min(budget, room)
    return budget


def apply_secret_policy(source: Any, audience: list[Any], *, allow: bool) -> tuple[Any, list[Any]]:
    """The code as `audience` (the reviewer, and any judge that reads its findings) may see
    it: app.calls.outbound's one policy for everything that leaves the machine, re-parsed when
    something was redacted (line numbers are unchanged)."""
    from app.calls.outbound import outbound
    from app.source.model import load_source

    sent = outbound(source.text, audience, allow=allow, label=source.path)
    if not sent.redacted:
        return source, [sent.check] if sent.check else []
    clean = load_source(source.path, sent.text, source.language)
    clean.redacted = True
    return clean, [sent.check]


@dataclass
class ReviewPlan:
    """What one provider is sent for a review: the source as it may leave the machine, its
    chunks for this provider's context window, the token limit and the input checks."""

    provider: Any
    source: Any
    chunks: list[Any]
    max_tokens: int
    flags: list[Any]


def load_review_input(file: str, key_path: str | None) -> tuple[Any, Any, Any]:
    """(text input, parsed source, answer key or None); every problem a UsageError."""
    from app.review.answer_key import AnswerKeyError, find_key, load_key
    from app.source.inputs import looks_minified, read_text_file
    from app.errors import InputError
    from app.source.model import load_source

    try:
        text_input = read_text_file(file)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    if key_path and not Path(key_path).is_file():
        raise UsageError(f"{key_path}: no such answer key")
    try:
        key = load_key(Path(key_path)) if key_path else find_key(file)
    except AnswerKeyError as exc:
        raise UsageError(str(exc)) from None
    if looks_minified(text_input.text):
        text_input.notes.append(f"{file} looks minified: findings will cite very long lines")
    return text_input, load_source(file, text_input.text), key


def review_options(**overrides: Any) -> argparse.Namespace:
    """The options `plan_review` reads, at the review command's defaults (for callers
    without a command line: the TUI, eval)."""
    return argparse.Namespace(
        **{"allow_secrets": False, "max_tokens": None, "chunk_tokens": None, "max_requests": 25, **overrides}
    )


def plan_review(provider: Any, source: Any, args: argparse.Namespace, *, judges: Sequence[Any] = ()) -> ReviewPlan:
    """Secrets, token limit, chunks and the request guard for one provider (and the judges
    that will read its findings); the estimate is printed when the review is large or split."""
    from app.review.task import estimate_cost
    from app.source.model import LineTooLongError
    from providers.pricing import format_cost

    source, flags = apply_secret_policy(source, [provider, *judges], allow=args.allow_secrets)
    max_tokens = args.max_tokens or default_max_tokens(provider)
    budget = chunk_budget(provider, source, args.chunk_tokens, max_tokens)
    try:
        chunks = source.chunks(budget)
    except LineTooLongError as exc:
        raise UsageError(
            f"{source.path}: {exc}. It looks minified or generated; review the source it was "
            f"built from, or reformat it first (e.g. prettier, black, gofmt)"
        ) from None
    estimate = estimate_cost(provider, source, chunks)
    if len(chunks) > args.max_requests:
        raise UsageError(
            f"{source.path} needs {len(chunks)} requests to {provider.spec} (~{estimate.input_tokens:,} input "
            f"tokens, {format_cost(estimate.cost_usd)} estimated); the limit is {args.max_requests}. "
            f"Pass --max-requests {len(chunks)} to go ahead, or raise --chunk-tokens"
        )
    if sum(c.tokens for c in chunks) > ESTIMATE_ABOVE_TOKENS or len(chunks) > 1:
        print(
            f"driftcheck: {source.path}: {source.line_count:,} lines, about {estimate.input_tokens:,} input "
            f"tokens in {len(chunks)} request(s) to {provider.spec}; estimated {format_cost(estimate.cost_usd)}"
            f" (at ~{estimate.output_tokens:,} output tokens)",
            file=sys.stderr,
            flush=True,
        )
    return ReviewPlan(provider, source, chunks, max_tokens, flags)


def print_input_notes(text_input: Any) -> None:
    for note in text_input.notes:
        print(f"driftcheck: note: {note}", file=sys.stderr, flush=True)


def run_review(args: argparse.Namespace) -> int:
    text_input, source, key = load_review_input(args.file, args.key)
    if args.out:
        _check_writable(args.out)
    config = load_config()
    from app.cli import use_tui

    if use_tui(args) and not args.key:
        from app.tui.app import run_tui
        from app.tui.review_screen import ReviewScreen

        from app.tui.runs import RouteOptions

        route = RouteOptions(args.fallback, args.hedge_after)
        return run_tui(
            lambda app: ReviewScreen(args.file, args.provider, record=not args.no_history, route=route),
            record=not args.no_history,
        )
    provider = resolve_provider(
        args.provider,
        config,
        retries=args.retries,
        task="review",
        fallback=args.fallback,
        hedge_after=args.hedge_after,
        max_tokens=args.max_tokens,
    )
    plan = plan_review(provider, source, args)
    print_input_notes(text_input)

    live = args.format == "text" or bool(args.out)
    from app.history.recording import RunRecorder, print_recording
    from app.review.report import review_json

    recorder = RunRecorder.start(
        "review",
        input_ref=str(Path(args.file).resolve()),
        input_sha256=text_input.sha256,
        providers=[provider.spec],
        enabled=not args.no_history,
    )
    try:
        outcome = asyncio.run(
            _stream_review(
                recorder.recorded(provider),
                plan.source,
                text_input,
                plan.chunks,
                max_tokens=plan.max_tokens,
                key=key,
                live=live,
                input_flags=plan.flags,
            )
        )
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    # Written to history before the run is reported done.
    recording = recorder.finish(
        status=outcome.status,
        score=outcome.result.score if outcome.result else None,
        summary=outcome.result.summary if outcome.result else None,
        result=review_json(outcome),
    )
    _write_output(args, outcome)
    print_recording(recording, args.out or "this command's output")

    if outcome.error is not None:
        _fail(outcome.error.one_line())
        if outcome.partial_text or (outcome.result and outcome.result.findings):
            print(
                "driftcheck: what arrived before the failure is kept in the output above"
                + (f" and in {args.out}" if args.out else ""),
                file=sys.stderr,
            )
        return exit_code_for(outcome.error)
    return _exit_for_findings(outcome, args.fail_on)


def _exit_for_findings(outcome: Any, fail_on: str) -> int:
    from app.review.model import severity_rank

    if fail_on == "none" or outcome.result is None:
        return ExitCode.OK
    worst = outcome.result.worst()
    return ExitCode.FINDINGS if worst is not None and severity_rank(worst) <= severity_rank(fail_on) else ExitCode.OK


async def _stream_review(
    provider: Any,
    source: Any,
    text_input: Any,
    chunks: Any,
    *,
    max_tokens: int,
    key: Any,
    live: bool,
    input_flags: Any = None,
) -> Any:
    from app.cli import print_route_event
    from app.render.console import SafeConsole
    from app.render.text import print_finding, print_verdict
    from app.review.task import ChunkStarted, FindingFound, ReviewFinished, review_events

    console = SafeConsole(highlight=False, soft_wrap=True)
    outcome = None
    try:
        async for event in review_events(
            provider, source, text_input, chunks, max_tokens=max_tokens, key=key, input_flags=input_flags
        ):
            if isinstance(event, FindingFound):
                if live:
                    print_finding(console, event.finding)
            elif isinstance(event, ChunkStarted):
                if event.total > 1:
                    print(
                        f"driftcheck: reviewing lines {event.start}-{event.end} "
                        f"(part {event.index + 1} of {event.total})",
                        file=sys.stderr,
                        flush=True,
                    )
            elif isinstance(event, ReviewFinished):
                outcome = event.outcome
            else:
                print_route_event(event)
    finally:
        await provider.aclose()
    assert outcome is not None
    if live:
        print_verdict(console, outcome)
    return outcome


def render(outcome: Any, fmt: str) -> str:
    if fmt == "json":
        from app.review.report import review_json

        from app.render.terminal import json_text

        return json_text(review_json(outcome)) + "\n"
    if fmt == "sarif":
        from app.render.sarif import review_sarif

        from app.render.terminal import json_text

        return json_text(review_sarif(outcome)) + "\n"
    if fmt == "markdown":
        from app.render.markdown import review_markdown

        return review_markdown(outcome)
    from app.render.console import SafeConsole
    from app.render.text import print_finding, print_verdict

    console = SafeConsole(record=True, file=open(os.devnull, "w"), width=100, color_system=None)  # noqa: SIM115
    for finding in outcome.result.findings if outcome.result else []:
        print_finding(console, finding)
    print_verdict(console, outcome)
    console.file.close()
    return console.export_text()


def _write_output(args: argparse.Namespace, outcome: Any) -> None:
    if not args.out:
        if args.format != "text":
            sys.stdout.write(render(outcome, args.format))
            sys.stdout.flush()
        return
    from app.source.files import write_atomically

    write_atomically(Path(args.out), render(outcome, args.format))
    print(f"driftcheck: wrote {args.format} to {args.out}", file=sys.stderr)


def _check_writable(out: str) -> None:
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name")
    if not path.parent.exists():
        raise UsageError(f"--out {out}: the directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--out {out}: cannot write in {path.parent}")
