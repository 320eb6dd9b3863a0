"""`driftcheck triage [FILE | -]`: triage pasted incident text, headless.

Input problems are caught before any provider is contacted: nothing to read, text that
is not an incident, a file that cannot be read. Very long text is trimmed (head and
tail kept) with a notice. Actions print as table rows the moment each is complete;
the severity, cause, escalation, cautions, reference checks and judges follow.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import (
    add_route_options,
    fail,
    max_tokens_arg,
    print_note,
    print_notes,
    print_recording,
    print_route_event,
    retries_arg,
    say,
    spec_text,
    use_tui,
)
from app.errors import UsageError
from app.triage import DEFAULT_MAX_TOKENS

if TYPE_CHECKING:
    from app.cli.common import SubParsers
    from app.run.prepared import PreparedRun
    from app.source.inputs import TextInput
    from app.triage.task import TriageOutcome


def add_parser(sub: SubParsers) -> None:
    triage = sub.add_parser(
        "triage",
        help="triage an incident: severity, cause, actions with owners, escalation",
        description="Triage incident text from FILE, or pasted on standard input (-).",
    )
    triage.add_argument("file", nargs="?", default="-", metavar="FILE", help="the incident text, or - for stdin")
    triage.add_argument("-p", "--provider", type=spec_text, metavar="SPEC", help="provider:model")
    triage.add_argument(
        "--mode",
        choices=("active", "postmortem"),
        default="active",
        help="active: what to do now (default); postmortem: thorough analysis afterwards",
    )
    triage.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="business context, repeatable: users_affected=30%%, revenue_impact=high, "
        "sla_at_risk=yes, customer_facing=yes, customers_affected=...",
    )
    triage.add_argument(
        "--judge",
        action="append",
        default=None,
        type=spec_text,
        metavar="SPEC",
        help="grade the answer with this model (repeatable; default: judges in the config)",
    )
    triage.add_argument("--reference", metavar="PATH", help="reference answer (default: FILE.reference.toml)")
    triage.add_argument(
        "--judge-optional",
        action="store_true",
        help="a judge that fails is a warning: exit 0 with the answer ungraded by it (default: "
        "exit 3, as for a provider failure)",
    )
    triage.add_argument(
        "--no-self-judging",
        action="store_true",
        help="do not ask a judge of the answering model's own family (models favour their own)",
    )
    triage.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    triage.add_argument("--max-tokens", type=max_tokens_arg, default=DEFAULT_MAX_TOKENS, metavar="N")
    triage.add_argument("--retries", type=retries_arg, metavar="N")
    triage.add_argument("--allow-secrets", action="store_true", help="send secrets in the text as they are")
    triage.add_argument("--no-history", action="store_true", help="do not record this run in history")
    triage.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")
    add_route_options(triage)


def incident_input(file: str) -> TextInput:
    """The incident from FILE, or from standard input for `-` (which must be piped in)."""
    from app.run.triage import incident_from_bytes, read_incident

    if file == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError(
                "paste the incident on standard input (driftcheck triage - < incident.txt), or give a file"
            )
        return incident_from_bytes(sys.stdin.buffer.read(), "standard input")
    return read_incident(file)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from app.cli.common import route_options
    from app.config.load import load_config
    from app.run.providers import ProviderResolver
    from app.run.triage import load_incident, parse_context, prepare_triage
    from app.task_exit import failed_judge_notes, outcome_exit
    from app.triage.task import triage_json

    context = parse_context(args.context)
    incident = load_incident(incident_input(args.file), args.reference)
    config = load_config()
    if use_tui(args) and args.file != "-" and not (args.reference or args.no_self_judging):
        return open_triage_tui(incident.text_input, args, specs=[args.provider or ""])
    prepared = prepare_triage(
        incident,
        {"a": args.provider},
        resolver=ProviderResolver(config, retries=args.retries, notify=print_note),
        mode=args.mode,
        context=context,
        judges=args.judge,
        self_judging=not args.no_self_judging,
        max_tokens=args.max_tokens,
        allow_secrets=args.allow_secrets,
        route=route_options(args),
        record=not args.no_history,
        input_ref=str(Path(args.file).resolve()) if args.file != "-" else "(stdin)",
    )
    try:
        outcome = asyncio.run(
            stream_triage(prepared.starts["a"](0), prepared, mode=args.mode, live=args.format == "text")
        )
    except KeyboardInterrupt:
        prepared.recorder.finish(status="cancelled")
        raise
    data = triage_json(outcome)
    _, recording = prepared.finish({"a": [data]})
    if args.format == "json":
        from app.render.terminal import json_text

        print(json_text(data))
    elif args.format == "markdown":
        from app.render.triage import triage_markdown

        sys.stdout.write(triage_markdown(data))
    print_recording(recording)
    if outcome.error is not None:
        fail(outcome.error.one_line())
    print_notes(failed_judge_notes({"": data}, judge_optional=args.judge_optional))
    return outcome_exit([data], judge_optional=args.judge_optional)


async def stream_triage(events: AsyncIterator[Any], prepared: PreparedRun, *, mode: str, live: bool) -> TriageOutcome:
    """The triage's events as they happen: each action a table row (live), judging and
    route decisions said on stderr; the outcome when it ends."""
    from app.render.console import SafeConsole
    from app.render.triage import ItemRows, print_triage
    from app.triage.task import ItemFound, JudgingStarted, TriageFinished

    console = SafeConsole(highlight=False, soft_wrap=False)
    rows = ItemRows(console, mode)
    outcome = None
    try:
        async for event in events:
            if isinstance(event, ItemFound) and live:
                rows.add(event.item)
            elif isinstance(event, JudgingStarted):
                say(f"judging with {', '.join(event.judges)}")
            elif isinstance(event, TriageFinished):
                outcome = event.outcome
            else:
                print_route_event(event)
    finally:
        for provider in prepared.closing:
            await provider.aclose()
    assert outcome is not None
    if live:
        print_triage(console, outcome)
    return outcome


def open_triage_tui(text_input: TextInput, args: argparse.Namespace, *, specs: list[str]) -> int:
    """The triage screen with the incident loaded and the run started."""
    from app.cli.common import route_options
    from app.run.triage import parse_context
    from app.tui.app import run_tui
    from app.tui.triage_screen import TriageScreen

    record = not args.no_history
    # A compare's sides stay pinned to their SPECs; one provider gets its route options.
    route = route_options(args)
    return run_tui(
        lambda app: TriageScreen(
            text=text_input.text,
            label=text_input.path,
            spec_a=specs[0],
            spec_b=specs[1] if len(specs) > 1 else "",
            mode=args.mode or "active",
            judges=args.judge,
            context=parse_context(args.context),
            start=True,
            record=record,
            route=route,
            judge_mode=getattr(args, "judge_mode", None) or "pointwise",
            self_judging=not getattr(args, "no_self_judging", False),
        ),
        record=record,
        judge_optional=getattr(args, "judge_optional", False),
    )
