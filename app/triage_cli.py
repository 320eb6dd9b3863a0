"""`driftcheck triage [FILE | -]`: triage pasted incident text, headless.

Input problems are caught before any provider is contacted: nothing to read, text that
is not an incident, a file that cannot be read. Very long text is trimmed (head and
tail kept) with a notice. Actions print as table rows the moment each is complete;
the severity, cause, escalation, cautions, reference checks and judges follow.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from app.cli import _fail, resolve_provider, spec_text
from app.errors import UsageError

MAX_INCIDENT_CHARS = 40_000
_CONTEXT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def add_parser(sub: Any, positive_int: Any, retries: Any) -> None:
    from app.cli import max_tokens_arg

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
    triage.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    triage.add_argument("--max-tokens", type=max_tokens_arg, default=4096, metavar="N")
    triage.add_argument("--retries", type=retries, metavar="N")
    triage.add_argument("--allow-secrets", action="store_true", help="send secrets in the text as they are")
    triage.add_argument("--no-history", action="store_true", help="do not record this run in history")
    triage.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")
    from app.cli import add_route_options

    add_route_options(triage)


def parse_context(pairs: list[str]) -> dict[str, str]:
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip().lower().replace("-", "_"), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--context {pair!r}: write it as KEY=VALUE, e.g. --context users_affected=30%")
        if not _CONTEXT_KEY.match(key):
            raise UsageError(f"--context {pair!r}: the key must be a short word (letters, digits, _)")
        if len(value) > 300:
            raise UsageError(f"--context {key}: the value is {len(value)} characters; keep it under 300")
        control = next((ch for ch in value if _breaks_the_line(ch)), None)
        if control is not None:
            # Refused, not quoted: each value is one line of a list in the prompt, and a line
            # break would let it start lines of its own that read as the prompt's.
            raise UsageError(
                f"--context {key}: the value holds a control character (U+{ord(control):04X}"
                f"{', a line break' if control in _LINE_BREAKS else ''}); give it on one line "
                f"of plain text"
            )
        context[key] = value
    return context


_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _breaks_the_line(ch: str) -> bool:
    """A line break or any other control character (ESC, NUL, DEL, C1); a tab is let through."""
    return ch in _LINE_BREAKS or (ch != "\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0))


def read_incident(file: str) -> Any:
    from app.source.inputs import decode_text, read_text_file
    from app.errors import InputError

    try:
        if file == "-":
            if sys.stdin is None or sys.stdin.isatty():
                raise UsageError(
                    "paste the incident on standard input (driftcheck triage - < incident.txt), or give a file"
                )
            return decode_text(sys.stdin.buffer.read(), "standard input", what="incident")
        return read_text_file(file, what="incident")
    except InputError as exc:
        raise UsageError(str(exc)) from None


def check_incident_text(text_input: Any) -> Any:
    """Refuse what is clearly not an incident; trim what is too long to send, returning
    the `input_trimmed` check that says so (None when nothing was trimmed)."""
    from providers.types import Check

    text = text_input.text
    words = re.findall(r"[A-Za-z]{2,}", text)
    letters = sum(ch.isalpha() for ch in text)
    visible = sum(not ch.isspace() for ch in text) or 1
    if len(words) < 5 or letters / visible < 0.4:
        raise UsageError(
            f"{text_input.path} does not look like an incident report ({len(text.strip())} characters, "
            f"{len(words)} words): paste the alert, the logs or a description of what is happening"
        )
    if len(text) > MAX_INCIDENT_CHARS:
        head, tail = MAX_INCIDENT_CHARS // 2, MAX_INCIDENT_CHARS // 2 - 200
        dropped = len(text) - head - tail
        text_input.text = f"{text[:head]}\n[... {dropped:,} characters trimmed by driftcheck ...]\n{text[-tail:]}"
        note = (
            f"the incident text is {len(text):,} characters; the first {head:,} and the last "
            f"{tail:,} were sent and {dropped:,} in between were left out"
        )
        text_input.notes.append(note)
        return Check("input_trimmed", "warning", note, "The middle of the text was not seen by the model.")
    return None


def load_incident(text_input: Any, reference_path: str | None) -> tuple[Any, list[Any], Any]:
    """(checked text input, input checks, reference or None) for an incident read from a
    file or standard input; every problem a UsageError."""
    from app.triage.reference import ReferenceError, find_reference, load_reference

    trimmed = check_incident_text(text_input)
    path = text_input.path
    try:
        reference = (
            load_reference(Path(reference_path))
            if reference_path
            else (find_reference(path) if Path(path).is_file() else None)
        )
    except ReferenceError as exc:
        raise UsageError(str(exc)) from None
    return text_input, [trimmed] if trimmed else [], reference


def redacted_for(
    audience: list[Any], text_input: Any, flags: list[Any], context: dict[str, str], *, allow: bool
) -> tuple[Any, list[Any], dict[str, str]]:
    """The incident and its --context as `audience` may see them (the candidates and the
    judges that read their answers; secrets redacted when any of them is remote), and the
    input checks with a note for what was found. The caller's input is unchanged."""
    from dataclasses import replace

    from app.calls.outbound import outbound, outbound_context

    sent = outbound(text_input.text, audience, allow=allow, label="the incident")
    values, context_checks = outbound_context(context, audience, allow=allow)
    checks = [*flags, *([sent.check] if sent.check else []), *context_checks]
    return (replace(text_input, text=sent.text) if sent.redacted else text_input), checks, values


def resolve_judges(specs: list[str] | None, config: Any, retries: int | None) -> list[Any]:
    """--judge, else the config's judges, else the `judge` route. Named judges run as they
    are — a judge that silently fell back to another model would grade differently."""
    if specs is None and not config.judges and "judge" in config.routes:
        return [resolve_provider(None, config, retries=retries, task="judge")]
    return [
        resolve_provider(spec, config, retries=retries, fallback=[], hedge_after="off")
        for spec in (specs if specs is not None else config.judges)
    ]


def run_triage(args: argparse.Namespace) -> int:
    from app.history.recording import RunRecorder, print_recording
    from app.review_cli import print_input_notes
    from app.triage.task import triage_json

    context = parse_context(args.context)
    text_input, flags, reference = load_incident(read_incident(args.file), args.reference)
    from app.config.load import load_config

    config = load_config()
    from app.cli import use_tui

    if use_tui(args) and args.file != "-" and not args.reference:
        return open_triage_tui(text_input, args, specs=[args.provider or ""])
    provider = resolve_provider(
        args.provider,
        config,
        retries=args.retries,
        task=f"triage.{args.mode}",
        fallback=args.fallback,
        hedge_after=args.hedge_after,
        max_tokens=args.max_tokens,
    )
    judges = resolve_judges(args.judge, config, args.retries)
    print_input_notes(text_input)
    text_input, flags, context = redacted_for([provider, *judges], text_input, flags, context, allow=args.allow_secrets)

    recorder = RunRecorder.start(
        "triage",
        input_ref=str(Path(args.file).resolve()) if args.file != "-" else "(stdin)",
        input_sha256=text_input.sha256,
        providers=[provider.spec, *(j.spec for j in judges)],
        enabled=not args.no_history,
    )
    try:
        outcome = asyncio.run(
            _stream(
                recorder.recorded(provider),
                [recorder.recorded(j, "judge") for j in judges],
                text_input,
                args,
                context,
                reference,
                flags,
            )
        )
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    data = triage_json(outcome)
    summary = (
        f"{outcome.result.severity} ({outcome.mode}): {outcome.result.root_cause.summary}" if outcome.result else None
    )
    recording = recorder.finish(status=outcome.status, summary=summary, result=data)
    if args.format == "json":
        from app.render.terminal import json_text

        print(json_text(data))
    elif args.format == "markdown":
        from app.render.triage import triage_markdown

        sys.stdout.write(triage_markdown(outcome))
    print_recording(recording)
    if outcome.error is not None:
        _fail(outcome.error.one_line())
    from app.cli import print_notes
    from app.task_exit import failed_judge_notes, outcome_exit

    print_notes(failed_judge_notes({"": data}, judge_optional=args.judge_optional))
    return outcome_exit([data], judge_optional=args.judge_optional)


async def _stream(
    provider: Any,
    judges: list[Any],
    text_input: Any,
    args: argparse.Namespace,
    context: dict[str, str],
    reference: Any,
    flags: list[Any],
) -> Any:
    from app.render.console import SafeConsole
    from app.render.triage import ItemRows, print_triage
    from app.triage.task import ItemFound, JudgingStarted, TriageFinished, triage_events
    from app.cli import print_route_event

    console = SafeConsole(highlight=False, soft_wrap=False)
    live = args.format == "text"
    rows = ItemRows(console, args.mode)
    outcome = None
    try:
        async for event in triage_events(
            provider,
            text_input,
            mode=args.mode,
            context=context,
            max_tokens=args.max_tokens,
            reference=reference,
            judges=judges,
            input_flags=flags,
        ):
            if isinstance(event, ItemFound) and live:
                rows.add(event.item)
            elif isinstance(event, JudgingStarted):
                print(f"driftcheck: judging with {', '.join(event.judges)}", file=sys.stderr, flush=True)
            elif isinstance(event, TriageFinished):
                outcome = event.outcome
            else:
                print_route_event(event)
    finally:
        await provider.aclose()
        for judge in judges:
            await judge.aclose()
    assert outcome is not None
    if live:
        print_triage(console, outcome)
    return outcome


def open_triage_tui(text_input: Any, args: argparse.Namespace, *, specs: list[str]) -> int:
    """The triage screen with the incident loaded and the run started."""
    from app.tui.app import run_tui
    from app.tui.runs import RouteOptions
    from app.tui.triage_screen import TriageScreen

    record = not args.no_history
    # A compare's sides stay pinned to their SPECs; one provider gets its route options.
    route = RouteOptions(getattr(args, "fallback", None), getattr(args, "hedge_after", None))
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
        ),
        record=record,
        judge_optional=getattr(args, "judge_optional", False),
    )
