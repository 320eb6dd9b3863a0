"""`driftcheck review` of several files or of a change (--diff, --staged): the files read
and planned before anything is sent, reviewed concurrently, a progress bar on a terminal
(one line per file otherwise), findings printed by file as each file finishes, and the
output written once the review ends, whatever failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import fail, print_note, print_recording, say, write_output

if TYPE_CHECKING:
    from app.review.change import ChangeOutcome
    from app.review.files import ChangeInput
    from app.review.plan import ReviewOptions
    from providers import Provider


def load_change(args: argparse.Namespace) -> ChangeInput:
    from app.run.change import STDIN, load_git_change, load_paths, load_stdin_change
    from app.source.git import ChangeSpec

    if args.diff == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            from app.errors import UsageError

            raise UsageError(
                "--diff - reads a unified diff from stdin: pipe one in (git diff main | driftcheck review --diff -)"
            )
        return load_stdin_change(sys.stdin.read(), Path.cwd())
    if args.diff is not None or args.staged:
        return load_git_change(ChangeSpec(args.diff or None, args.staged), args.paths, Path.cwd())
    return load_paths(args.paths)


def run_change(args: argparse.Namespace, options: ReviewOptions) -> int:
    import asyncio

    from app.cli.common import check_writable, route_options, use_tui
    from app.config.load import load_config
    from app.errors import exit_code_for
    from app.review.change import change_json
    from app.run.change import STDIN, check_reviewable, load_review_baseline, prepare_change
    from app.run.providers import ProviderResolver
    from app.task_exit import findings_exit

    baseline = load_review_baseline(args.baseline) if args.baseline else None
    change = load_change(args)
    if args.out:
        check_writable(args.out)
    nothing = check_reviewable(change)
    if nothing is not None:
        say(nothing)
        return 0
    if change.is_change and use_tui(args) and args.diff != STDIN:
        return open_change_tui(args, change, options)
    prepared = prepare_change(
        change,
        args.provider,
        resolver=ProviderResolver(load_config(), retries=args.retries, notify=print_note),
        options=options,
        route=route_options(args),
        record=not args.no_history,
        changed_only=args.changed_only,
        concurrency=args.concurrency,
        baseline=baseline,
        new_only=args.new_only,
    )
    live = args.format == "text" or bool(args.out)
    try:
        outcome = asyncio.run(stream_change(prepared.start(), prepared.provider, live=live))
    except KeyboardInterrupt:
        prepared.recorder.finish(status="cancelled")
        raise
    record = change_json(outcome)
    recording = prepared.finish(record)  # in history before the run is reported done
    from app.render.change import change_output

    write_output(args, lambda fmt: change_output(outcome, fmt))
    print_recording(recording, args.out or "this command's output")
    if outcome.error is not None:
        failed = [path for path, o in outcome.outcomes.items() if o is None or o.error is not None]
        fail(f"{len(failed)} of {len(outcome.outcomes)} file(s) not reviewed in full: {outcome.error.one_line()}")
        say("the other files' findings are in the output" + (f" and in {args.out}" if args.out else ""))
        return exit_code_for(outcome.error)
    return findings_exit(outcome.result, args.fail_on)


def open_change_tui(args: argparse.Namespace, change: ChangeInput, options: ReviewOptions) -> int:
    from app.cli.common import route_options
    from app.tui.app import run_tui
    from app.tui.change_screen import ChangeScreen

    record = not args.no_history
    return run_tui(
        lambda app: ChangeScreen(
            change,
            args.provider,
            record=record,
            route=route_options(args),
            options=options,
            changed_only=args.changed_only,
        ),
        record=record,
    )


async def stream_change(events: AsyncIterator[Any], provider: Provider, *, live: bool) -> ChangeOutcome:
    """The files' events as they happen: a progress bar on a terminal (a line per file
    otherwise), each file's findings printed when it finishes (live); the outcome."""
    from app.cli.common import print_route_event
    from app.render.change import file_heading, print_change_verdict, print_file
    from app.render.console import SafeConsole
    from app.review.change import ChangeFinished, FileEvent, FileFinished, FileStarted

    console = SafeConsole(highlight=False, soft_wrap=True)
    # The bar shares the console the findings print on when both reach the same terminal,
    # so each file's findings appear above the bar rather than through it.
    if live and sys.stdout.isatty():
        progress = _Progress(console)
    elif sys.stderr.isatty():
        progress = _Progress(SafeConsole(stderr=True))
    else:
        progress = _Progress(None)
    outcome = None
    try:
        async for event in events:
            if isinstance(event, FileStarted):
                progress.started(event.path, event.total)
            elif isinstance(event, FileFinished):
                progress.advance(event, file_heading(event.file, event.outcome))
                if live:
                    print_file(console, event.file, event.outcome)
            elif isinstance(event, FileEvent):
                print_route_event(event.event)
            elif isinstance(event, ChangeFinished):
                outcome = event.outcome
    finally:
        progress.stop()
        await provider.aclose()
    assert outcome is not None
    if live:
        print_change_verdict(console, outcome)
    return outcome


class _Progress:
    """A bar on a terminal (`console`); with none, one line per finished file on stderr."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.bar: Any = None
        self.task: Any = None

    def started(self, path: str, total: int) -> None:
        if self.console is not None:
            self._bar(total)
            self.bar.update(self.task, description=path)

    def advance(self, event: Any, line: str) -> None:
        if self.console is None:
            say(f"[{event.done}/{event.total}] {line}")
            return
        self._bar(event.total)
        self.bar.update(self.task, completed=event.done)

    def _bar(self, total: int) -> None:
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("reviewing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
