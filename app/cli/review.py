"""`driftcheck review FILE`: the headless review, for a terminal, a pipe or CI.

Everything the user might have got wrong is checked before a provider is contacted.
Text streams findings to stdout as they arrive; JSON, Markdown and SARIF are written
once the review ends (to stdout, or to --out while the text streams to the terminal).
A provider failure still writes the output, with what arrived before it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import (
    add_batch_retry_option,
    add_change_options,
    add_gate_options,
    add_repeat_option,
    add_route_options,
    check_gate_options,
    fail,
    max_tokens_arg,
    positive_int,
    print_note,
    print_recording,
    print_route_event,
    retries_arg,
    say,
    spec_text,
    use_tui,
    write_output,
)
from app.errors import UsageError, exit_code_for
from app.review import DEFAULT_MAX_REQUESTS

if TYPE_CHECKING:
    from app.cli.batch_run import BatchRun
    from app.cli.common import SubParsers
    from app.review.plan import ReviewOptions
    from app.review.task import ReviewOutcome
    from app.run.prepared import PreparedRun
    from providers import Provider


def add_parser(sub: SubParsers) -> None:
    review = sub.add_parser(
        "review",
        help="review source files or a change: findings with lines, severity and a score",
        description="Review a source file, several files and directories, or a change (--diff, --staged). "
        "Findings stream as they arrive; the exit code is 1 when a finding is at or above --fail-on, 2 for "
        "bad input, 3 when the provider failed.",
    )
    review.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files and directories to review (directories are walked with their .gitignore); with "
        "--diff or --staged, the parts of the change to review",
    )
    add_change_options(review)
    review.add_argument(
        "--changed-only",
        action="store_true",
        help="with a change: drop findings that cite no changed line (default: kept, marked outside_change)",
    )
    review.add_argument(
        "--baseline",
        metavar="RUN_ID",
        help="a stored review of the base (from history): say which findings are new, unchanged or fixed, "
        "by fingerprint",
    )
    review.add_argument(
        "--new-only", action="store_true", help="with --baseline: report (and --fail-on) only the new findings"
    )
    review.add_argument(
        "-p",
        "--provider",
        type=spec_text,
        metavar="SPEC",
        help="provider:model (default: LLM_PROVIDER, config, or a key in the environment)",
    )
    review.add_argument(
        "--format",
        choices=("text", "json", "markdown", "sarif", "codequality"),
        default="text",
        help="text streams findings as they arrive (default); json follows the public contract; "
        "sarif is for code scanning; codequality is GitLab's report (several files or a change)",
    )
    review.add_argument(
        "--out", metavar="PATH", help="write the formatted result to PATH (text still streams to the terminal)"
    )
    add_gate_options(
        review,
        compare=False,
        fail_on_help="exit 1 when a finding is at or above SEVERITY: critical, high, medium, low, info (default none)",
    )
    add_repeat_option(
        review, "review N times and report which findings every run makes and which come and go (default 1)"
    )
    review.add_argument(
        "--batch",
        action="store_true",
        help="with --repeat N: send all N runs through the provider's batch API at once (half price, results "
        "within 24 h; exactly the provider asked for, no fallback; a killed review resumes with `driftcheck "
        "history resume ID`); a provider without one runs live",
    )
    add_batch_retry_option(review)
    review.add_argument(
        "--key", metavar="PATH", help="answer key to score against (default: FILE.key.toml when present)"
    )
    review.add_argument(
        "--max-tokens",
        type=max_tokens_arg,
        metavar="N",
        help="output token limit per request (default 4096; 16384 for reasoning models)",
    )
    review.add_argument(
        "--chunk-tokens",
        type=positive_int,
        metavar="N",
        help="source tokens per request before the file is split at symbol boundaries (default 12000)",
    )
    review.add_argument(
        "--max-requests",
        type=positive_int,
        default=DEFAULT_MAX_REQUESTS,
        metavar="N",
        help=f"refuse a file or change that needs more than N requests (default {DEFAULT_MAX_REQUESTS}); "
        "a change's small files are packed together to fit first",
    )
    review.add_argument(
        "--retries", type=retries_arg, metavar="N", help="retries on transient failures (default from config, else 2)"
    )
    review.add_argument(
        "--allow-secrets",
        action="store_true",
        help="send lines that look like secrets as they are (default: redacted for remote providers)",
    )
    review.add_argument("--no-history", action="store_true", help="do not record this run in history")
    add_route_options(review)
    review.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")
    review.set_defaults(resume=None)  # a stored review --batch's id, set by `history resume`


def review_options(args: argparse.Namespace) -> ReviewOptions:
    """The review command's options as the plan reads them (review and compare FILE)."""
    from app.review.plan import ReviewOptions

    return ReviewOptions(
        allow_secrets=args.allow_secrets,
        max_tokens=args.max_tokens,
        chunk_tokens=args.chunk_tokens,
        max_requests=args.max_requests,
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from app.cli.common import check_writable, route_options
    from app.config.load import load_config
    from app.run.options import EXACT
    from app.run.providers import ProviderResolver
    from app.run.review import load_review_input, prepare_review
    from app.task_exit import findings_exit

    check_gate_options(args)
    if is_many(args):
        from app.cli.review_change import run_change

        return run_change(args, review_options(args))
    args.file = args.paths[0]
    review = load_review_input(args.file, args.key)
    if args.out:
        check_writable(args.out)
    input_ref = str(Path(args.file).resolve())
    batch = batch_run(args, review.text_input.sha256, input_ref) if args.batch else None
    config = load_config()
    if use_tui(args) and not args.key and args.repeat == 1:
        return open_review_tui(args)
    prepared = prepare_review(
        review,
        {"a": args.provider},
        resolver=ProviderResolver(
            config, retries=args.retries, notify=print_note, wrap_exact=batch.wrap if batch else None
        ),
        options=review_options(args),
        route=EXACT if batch else route_options(args),
        record=not args.no_history,
        input_ref=input_ref,
        resume=args.resume,
    )
    live = args.format == "text" or bool(args.out)
    if args.repeat > 1:
        if batch:
            batch.started(prepared, {"provider": prepared.providers["a"].spec})
        return run_repeated(args, prepared, live=live, batch=batch)
    try:
        outcome = asyncio.run(stream_review(prepared.starts["a"](0), prepared.providers["a"], live=live))
    except KeyboardInterrupt:
        prepared.recorder.finish(status="cancelled")
        raise
    from app.review.report import review_json

    # Written to history before the run is reported done.
    _, recording = prepared.finish({"a": [review_json(outcome)]})
    from app.render.review import review_output

    write_output(args, lambda fmt: review_output(outcome, fmt))
    print_recording(recording, args.out or "this command's output")
    if outcome.error is not None:
        fail(outcome.error.one_line())
        if outcome.partial_text or (outcome.result and outcome.result.findings):
            say(
                "what arrived before the failure is kept in the output above"
                + (f" and in {args.out}" if args.out else "")
            )
        return exit_code_for(outcome.error)
    return findings_exit(outcome.result, args.fail_on)


def batch_run(args: argparse.Namespace, sha256: str, input_ref: str) -> BatchRun:
    """--batch: exactly the provider asked for (a fallback has no place in a batch), behind
    the batch executor compare --batch uses, its batches kept in history as compare keeps
    them (`history resume` collects them after a kill). UsageError for what does not fit."""
    from app.cli.batch_run import BatchRun

    if args.repeat < 2:
        raise UsageError("--batch sends the runs of --repeat N (N of 2 or more) as one batch; add --repeat")
    if args.fallback or args.hedge_after:
        raise UsageError("--batch runs exactly the provider asked for; drop --fallback and --hedge-after")
    return BatchRun("review", args, sha256, input_ref)


def run_repeated(args: argparse.Namespace, prepared: PreparedRun, *, live: bool, batch: BatchRun | None = None) -> int:
    """`review --repeat N`: N reviews one after another on the same provider; the output
    holds every run and the stability of each finding, and --fail-on gates on the
    findings in at least --consensus K of the runs (any run without it)."""
    import asyncio

    from app.compare.stability import review_gate, review_repeat_record
    from app.render.review import repeat_output
    from app.review.report import review_json
    from app.task_exit import gate_exit

    try:
        runs = batched_runs(prepared, args.repeat) if args.batch else stream_runs(prepared, args.repeat, live=live)
        outcomes = asyncio.run(runs)
    except KeyboardInterrupt:
        if batch:  # its batch runs on: say how to collect it rather than pay twice
            batch.cancelled()
        else:
            prepared.recorder.finish(status="cancelled")
        raise
    record = review_repeat_record([review_json(o) for o in outcomes])
    _, recording = prepared.finish({"a": [record]})
    text = repeat_output(outcomes, record, args.format)
    if args.out:
        from app.source.files import write_atomically

        write_atomically(Path(args.out), text)
        say(f"wrote {args.format} to {args.out}")
    elif args.format != "text":
        sys.stdout.write(text)
    else:
        from app.render.review import stability_lines
        from app.render.terminal import neutralise

        print(neutralise("\n".join(stability_lines(record))))
    print_recording(recording, args.out or "this command's output")
    failed = [(n, o) for n, o in enumerate(outcomes, start=1) if o.error is not None]
    for n, outcome in failed:
        assert outcome.error is not None
        fail(f"run {n} of {args.repeat}: {outcome.error.one_line()}")
    if failed:
        assert failed[0][1].error is not None
        return exit_code_for(failed[0][1].error)
    clusters = record["stability"]["clusters"]
    consensus = args.consensus or 1
    gating = review_gate(clusters, args.fail_on, consensus=consensus)
    candidates = len(review_gate(clusters, args.fail_on, consensus=1))
    code, notes = gate_exit(gating, candidates, args.fail_on, consensus=consensus, repeat=args.repeat)
    for note in notes:
        print_note(note)
    return code


async def stream_runs(prepared: PreparedRun, repeat: int, *, live: bool) -> list[ReviewOutcome]:
    """Each run's review streamed in turn (one provider, so no run skews another's latency)."""
    outcomes = []
    try:
        for run in range(repeat):
            say(f"run {run + 1} of {repeat}")
            outcomes.append(await stream_review(prepared.starts["a"](run), None, live=live))
    finally:
        await prepared.providers["a"].aclose()
    return outcomes


async def batched_runs(prepared: PreparedRun, repeat: int) -> list[ReviewOutcome]:
    """Every run at once, as compare --batch runs a side's: their calls wait in one batch."""
    from app.compare.events import compare_events
    from app.review.task import ReviewFinished

    outcomes: dict[int, ReviewOutcome] = {}
    try:
        async for item in compare_events({"a": prepared.starts["a"]}, repeat=repeat, together=True):
            if isinstance(item.event, ReviewFinished):
                outcomes[item.run] = item.event.outcome
            else:
                print_route_event(item.event)
    finally:
        await prepared.providers["a"].aclose()
    return [outcomes[n] for n in sorted(outcomes)]


def is_many(args: argparse.Namespace) -> bool:
    """A review of a change or of several files (not today's one file); UsageError for
    options that do not fit together."""
    change = args.diff is not None or args.staged
    if args.staged and args.diff:
        raise UsageError("--staged reviews the index; it does not take a --diff RANGE as well")
    if args.diff == "-" and args.paths:
        raise UsageError("--diff - reads the change from stdin; it takes no PATH")
    if not change and not args.paths:
        raise UsageError("give a file or directory to review, or --diff / --staged for a git change")
    if args.changed_only and not change:
        raise UsageError("--changed-only needs a change to compare against: use it with --diff or --staged")
    many = change or len(args.paths) > 1 or Path(args.paths[0]).is_dir()
    if args.format == "codequality" and not many:
        raise UsageError("--format codequality is for several files or a change (--diff, --staged, PATH...)")
    if args.new_only and not args.baseline:
        raise UsageError("--new-only needs --baseline RUN_ID: the stored review to compare with")
    if args.baseline and not many:
        raise UsageError("--baseline compares a review of a change or of several files (--diff, --staged, PATH...)")
    if many and (args.repeat > 1 or args.batch):
        raise UsageError(
            "--repeat (and --batch) review one file N times; a change or several files are reviewed once "
            "(drop --repeat)"
        )
    if many and args.key:
        raise UsageError("--key names one file's answer key; for several files, each FILE.key.toml beside it is used")
    return many


def open_review_tui(args: argparse.Namespace) -> int:
    from app.cli.common import route_options
    from app.tui.app import run_tui
    from app.tui.review_screen import ReviewScreen

    route = route_options(args)
    return run_tui(
        lambda app: ReviewScreen(args.file, args.provider, record=not args.no_history, route=route),
        record=not args.no_history,
    )


async def stream_review(events: AsyncIterator[Any], provider: Provider | None, *, live: bool) -> ReviewOutcome:
    """The review's events as they happen: findings printed (live), parts and route
    decisions said on stderr; the outcome when it ends. `provider` is closed at the end
    (None: the caller closes it)."""
    from app.render.console import SafeConsole
    from app.render.text import print_finding, print_verdict
    from app.review.task import ChunkStarted, FindingFound, ReviewFinished

    console = SafeConsole(highlight=False, soft_wrap=True)
    outcome = None
    try:
        async for event in events:
            if isinstance(event, FindingFound):
                if live:
                    print_finding(console, event.finding)
            elif isinstance(event, ChunkStarted):
                if event.total > 1:
                    say(f"reviewing lines {event.start}-{event.end} (part {event.index + 1} of {event.total})")
            elif isinstance(event, ReviewFinished):
                outcome = event.outcome
            else:
                print_route_event(event)
    finally:
        if provider is not None:
            await provider.aclose()
    assert outcome is not None
    if live:
        print_verdict(console, outcome)
    return outcome
