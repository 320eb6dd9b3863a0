"""What every command shares: argument types, the route options, when to open the TUI,
and how the command line speaks — one line per error, note or decision on stderr.

Imported while `--help` is built: nothing heavier than argparse at module level.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app.errors import UsageError

if TYPE_CHECKING:
    from app.history.recording import RecordOutcome
    from app.notes import Note
    from app.run.options import RouteOptions

    # What add_subparsers() returns; argparse has no public name for its type.
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

SEVERITY_CHOICES = ("critical", "high", "medium", "low", "info")


# --- argument types ----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def max_tokens_arg(text: str) -> int:
    """--max-tokens: a whole number no model would refuse as absurd (each model's own limit
    is checked once the provider is known, in app.run.providers)."""
    from providers.capabilities import OUTPUT_TOKENS_CEILING

    value = positive_int(text)
    if value > OUTPUT_TOKENS_CEILING:
        raise argparse.ArgumentTypeError(
            f"{value:,} is more than any model writes in one answer (at most {OUTPUT_TOKENS_CEILING:,})"
        )
    return value


def bounded_int(top: int) -> Callable[[str], int]:
    """An argparse type for a whole number from 1 to `top`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= top:
            raise argparse.ArgumentTypeError(f"between 1 and {top}")
        return value

    return parse


def spec_text(text: str) -> str:
    """An argparse type for a SPEC option: an empty one is refused, never read as "the default"."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the SPEC is empty: give provider:model (e.g. anthropic:claude-haiku-4-5), "
            "or leave the option out to use the default"
        )
    return text


def retries_arg(text: str) -> int:
    value = positive_int(text) if text != "0" else 0
    if value > 10:
        raise argparse.ArgumentTypeError("at most 10")
    return value


def usd_amount(text: str) -> float:
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in USD, e.g. 2.50") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    if value == float("inf"):  # nan is caught above: it is not more than 0
        raise argparse.ArgumentTypeError("must be a finite amount in USD, e.g. 2.50")
    return value


def add_batch_retry_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--batch-retry",
        choices=("live", "batch"),
        default="live",
        help="with --batch: what to do with calls a batch did not run (expired, cancelled, a passing error): "
        "run them live (default) or in a new batch",
    )


MAX_REPEAT = 20  # runs per side, model or input for --repeat


def add_repeat_option(command: argparse.ArgumentParser, help_text: str, *, default: int | None = 1) -> None:
    command.add_argument("--repeat", type=bounded_int(MAX_REPEAT), default=default, metavar="N", help=help_text)


def add_gate_options(command: argparse.ArgumentParser, *, compare: bool, fail_on_help: str) -> None:
    """--fail-on, and --consensus (and --agree for compare): which findings gate the exit
    code, over --repeat N."""
    command.add_argument(
        "--fail-on",
        choices=(*SEVERITY_CHOICES, "none"),
        default="none",
        metavar="SEVERITY",
        help=fail_on_help,
    )
    command.add_argument(
        "--consensus",
        type=positive_int,
        metavar="K",
        help="with --repeat N: only findings reported (at or above --fail-on) in at least K of the N runs "
        "gate the exit code" + (" (on either side; with --agree, on both)" if compare else ""),
    )
    if compare:
        command.add_argument(
            "--agree",
            action="store_true",
            help="gate --fail-on only on findings both providers report (in at least K runs each with --consensus)",
        )


def check_gate_options(args: argparse.Namespace) -> None:
    """The bad combinations of --fail-on, --consensus, --agree and --repeat, each one line."""
    consensus, agree = args.consensus, getattr(args, "agree", False)
    if (consensus is not None or agree) and args.fail_on == "none":
        flag = "--consensus" if consensus is not None else "--agree"
        raise UsageError(f"{flag} chooses which findings gate --fail-on: give --fail-on SEVERITY as well")
    if consensus is None:
        return
    if args.repeat == 1:
        raise UsageError(f"--consensus {consensus} counts runs: give --repeat N (N >= {max(consensus, 2)}) as well")
    if consensus > args.repeat:
        raise UsageError(
            f"--consensus {consensus} is more than --repeat {args.repeat}: a finding cannot be in more runs than ran"
        )


def add_route_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fallback",
        action="append",
        default=None,
        type=spec_text,
        metavar="SPEC",
        help="try SPEC if the provider fails before answering (repeatable, in order; "
        "overrides the route and [resilience] fallback)",
    )
    command.add_argument(
        "--hedge-after",
        metavar="WHEN",
        help="send the same request to the next provider if no first token arrives by WHEN: "
        "p95 (the provider's observed p95), a time such as 2.5s, or off",
    )


def add_change_options(command: argparse.ArgumentParser, *, sides: str = "") -> None:
    """--diff [RANGE], --staged and --concurrency: a git change as the input (review, compare);
    `sides` says how the command runs it ("on both sides")."""
    on = f" {sides}" if sides else ""
    command.add_argument(
        "--diff",
        nargs="?",
        const="",
        metavar="RANGE",
        help=f"review a git change{on}: the working tree against HEAD (no RANGE), a revision (HEAD~1) or a "
        "range (main...HEAD); '-' reads a unified diff from stdin",
    )
    command.add_argument("--staged", action="store_true", help=f"review the staged change (git's index){on}")
    command.add_argument(
        "--concurrency",
        type=positive_int,
        default=4,
        metavar="N",
        help=f"files reviewed at once against a provider{on} (default 4)",
    )


def route_options(args: argparse.Namespace) -> RouteOptions:
    """--fallback and --hedge-after, for commands that have them."""
    from app.run.options import RouteOptions

    return RouteOptions(getattr(args, "fallback", None), getattr(args, "hedge_after", None))


# --- the terminal --------------------------------------------------------------------------------


def interactive() -> bool:
    """A person at a terminal: the TUI opens (unless --no-tui or another format was asked for)."""
    return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()


def use_tui(args: argparse.Namespace) -> bool:
    return (
        interactive()
        and not getattr(args, "no_tui", False)
        and getattr(args, "format", "text") == "text"
        and not getattr(args, "out", None)
    )


def check_writable(out: str) -> None:
    """--out names a file that can be written, checked before anything is sent."""
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name")
    if not path.parent.exists():
        raise UsageError(f"--out {out}: the directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--out {out}: cannot write in {path.parent}")


# --- speaking on stderr ----------------------------------------------------------------------------


def say(line: str) -> None:
    print(f"driftcheck: {line}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    say(f"error: {message}")


def print_note(note: Note) -> None:
    """A note from the domain, on stderr, the moment it arrives."""
    say(note.text if note.level == "info" else f"{note.level}: {note.text}")


_BATCH_SAID: dict[str, str] = {}


def print_batch_progress(progress: Any) -> None:
    """A line on stderr each time a batch's counts change (eval --batch, compare --batch)."""
    status = progress.status
    counts = ", ".join(f"{n} {what}" for what, n in status.counts.items() if n)
    holds = ", ".join(progress.models) or status.provider
    line = (
        f"batch {status.id} ({holds}{', submitted before the resume' if progress.resumed else ''}): "
        f"{status.state}, {counts or 'no items'}, {progress.elapsed_s:.0f} s"
    )
    if _BATCH_SAID.get(status.id) != f"{status.state} {counts}":
        from app.render.terminal import neutralise

        _BATCH_SAID[status.id] = f"{status.state} {counts}"
        say(neutralise(line))  # the id and state are the provider's words


def parse_command(module: Any, argv: list[str], *, one_line: bool = False) -> argparse.Namespace:
    """`argv` (starting with the command's name) parsed by that command's own parser, with
    its defaults: how `history resume` hands a stored run to the command that resumes it.
    `one_line`: a complaint is a UsageError (one line, exit 2), not argparse's usage block."""
    parser = (OneLineParser if one_line else argparse.ArgumentParser)(prog="driftcheck")
    module.add_parser(parser.add_subparsers(dest="command"))  # its parsers are of the same class
    return parser.parse_args(argv)


class OneLineParser(argparse.ArgumentParser):
    """A parser whose every complaint is a UsageError: one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def print_notes(notes: Iterable[Note]) -> None:
    for note in notes:
        print_note(note)


def print_route_event(event: Any) -> None:
    """A retry, fallback, cooldown or hedge decision, on stderr; anything else is ignored."""
    from app.render.text import route_event_line

    line = route_event_line(event)
    if line:
        say(line)


def print_recording(
    outcome: RecordOutcome, result_in: str = "this command's output", *, quiet_when_recorded: bool = False
) -> None:
    """The end of every recording command: what history holds of its run. A command whose
    output ends with its own footer (ask's metrics line) may say only what went wrong."""
    line = outcome.message(result_in)
    if line is not None and not (quiet_when_recorded and outcome.complete):
        say(line if outcome.complete else f"warning: {line}")


def write_output(args: argparse.Namespace, formatted: Callable[[str], str]) -> None:
    """The result in --format: to stdout (text has streamed already), or to --out, written
    atomically while the text streamed to the terminal."""
    if not args.out:
        if args.format != "text":
            sys.stdout.write(formatted(args.format))
            sys.stdout.flush()
        return
    from app.source.files import write_atomically

    write_atomically(Path(args.out), formatted(args.format))
    print(f"driftcheck: wrote {args.format} to {args.out}", file=sys.stderr)
