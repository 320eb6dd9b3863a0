"""`driftcheck compare`: one review or triage on two providers at once, and the drift.

Inputs and providers are checked before anything is sent; each side gets the input as
it may see it (secrets redacted for a remote provider, chunks sized to its context).
While the sides stream, one line per finding or action goes to stderr, tagged A or B;
the report — the two results side by side, then the drift — goes to stdout when both
have finished. A side that fails is shown with its error and the text it sent before
failing, and the other side's result stands.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from app.cli import _fail, bounded_int, resolve_provider
from app.errors import UsageError
from app.cli import spec_text

MAX_REPEAT = 20


def add_parser(sub: Any, positive_int: Any, retries: Any) -> None:
    from app.cli import max_tokens_arg

    compare = sub.add_parser(
        "compare",
        help="the same review or triage on two providers at once, and the drift between them",
        description="Run one review (FILE) or triage (--incident FILE, --incident-text -) on providers A and B "
        "concurrently, show both results side by side, and report what a switch from A to B would "
        "change: findings, scores, severities, latency and cost.",
    )
    compare.add_argument("file", nargs="?", metavar="FILE", help="a source file to review")
    compare.add_argument("--incident", metavar="FILE", help="triage this incident instead of reviewing a file")
    compare.add_argument(
        "--incident-text", metavar="TEXT", help="triage this incident text; - reads it from standard input"
    )
    compare.add_argument(
        "-a",
        type=spec_text,
        metavar="SPEC",
        dest="spec_a",
        help="provider A (default: the config's compare pair, else the first usable provider)",
    )
    compare.add_argument(
        "-b",
        type=spec_text,
        metavar="SPEC",
        dest="spec_b",
        help="provider B (default: the config's compare pair, else the next usable provider)",
    )
    compare.add_argument(
        "--repeat",
        type=bounded_int(MAX_REPEAT),
        default=1,
        metavar="N",
        help="run each side N times and set the spread within each provider against the "
        "difference between them (default 1)",
    )
    compare.add_argument(
        "--baseline",
        metavar="RUN_ID",
        help="use a stored run as side A (same input); B defaults to the baseline's SPEC. "
        "For a stored compare, RUN_ID:a or RUN_ID:b picks the side",
    )
    compare.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    compare.add_argument("--mode", choices=("active", "postmortem"), help="triage mode (default active)")
    compare.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="business context for a triage, repeatable (see `driftcheck triage --help`)",
    )
    compare.add_argument(
        "--judge",
        action="append",
        default=None,
        type=spec_text,
        metavar="SPEC",
        help="grade both triage answers with this model (repeatable; default: judges in the config)",
    )
    compare.add_argument(
        "--judge-optional", action="store_true", help="for a triage: a judge that fails is a warning, not exit 3"
    )
    compare.add_argument("--reference", metavar="PATH", help="reference answer for the incident")
    compare.add_argument("--key", metavar="PATH", help="answer key for the file (default: FILE.key.toml)")
    compare.add_argument("--max-tokens", type=max_tokens_arg, metavar="N", help="output token limit per request")
    compare.add_argument("--chunk-tokens", type=positive_int, metavar="N", help="source tokens per review request")
    compare.add_argument(
        "--max-requests",
        type=positive_int,
        default=25,
        metavar="N",
        help="refuse a file that needs more than N requests per side (default 25)",
    )
    compare.add_argument("--retries", type=retries, metavar="N")
    compare.add_argument("--allow-secrets", action="store_true", help="send secrets in the input as they are")
    compare.add_argument("--no-history", action="store_true", help="do not record this run in history")
    compare.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")


# --- choosing the input, the sides and the baseline ------------------------------------------


def _task_of(args: argparse.Namespace) -> str:
    given = [
        name
        for name, value in (("FILE", args.file), ("--incident", args.incident), ("--incident-text", args.incident_text))
        if value
    ]
    if len(given) != 1:
        raise UsageError(
            "give one input: a FILE to review, --incident FILE, or --incident-text - (stdin)"
            if not given
            else f"give one input, not {' and '.join(given)}"
        )
    if args.file:
        misplaced = [
            flag
            for flag, value in (
                ("--mode", args.mode),
                ("--context", args.context),
                ("--judge", args.judge),
                ("--judge-optional", args.judge_optional),
                ("--reference", args.reference),
            )
            if value
        ]
        if misplaced:
            raise UsageError(f"{', '.join(misplaced)} apply to a triage (--incident); {args.file} is reviewed")
        return "review"
    if args.key or args.chunk_tokens:
        raise UsageError("--key and --chunk-tokens apply to a review (FILE), not to an incident")
    return "triage"


def _incident_input(args: argparse.Namespace) -> Any:
    from app.source.inputs import decode_text
    from app.errors import InputError
    from app.triage_cli import read_incident

    if args.incident:
        return read_incident(args.incident)
    if args.incident_text == "-":
        return read_incident("-")
    try:
        return decode_text(args.incident_text.encode("utf-8", "surrogateescape"), "--incident-text", what="incident")
    except InputError as exc:
        raise UsageError(str(exc)) from None


def pick_sides(spec_a: str | None, spec_b: str | None, config: Any) -> tuple[str, str]:
    """-a and -b as given; else the config's compare pair; else the first usable providers."""
    from providers.spec import usable_specs

    pair = list(config.compare) if len(config.compare) == 2 else []
    usable = usable_specs(endpoints=config.endpoints, allow_local=config.local.use_when_unconfigured)
    a = spec_a or (pair[0] if pair else next((s for s in usable if s != spec_b), None))
    b = spec_b or (pair[1] if pair else next((s for s in usable if s != a), None))
    if a is None or b is None:
        found = ", ".join(usable) or "none"
        raise UsageError(
            f"compare needs two providers and found {found} usable: pass -a SPEC -b SPEC, put "
            f'`compare = ["SPEC_A", "SPEC_B"]` in the config, or set a second key. To see one '
            f"model's own noise, compare it with itself: -a SPEC -b SPEC --repeat 3"
        )
    return a, b


def load_baseline(ref: str, task: str, sha256: str, mode: str | None) -> tuple[str, dict[str, Any]]:
    """(run id, the stored side's public JSON) for --baseline, checked against this input."""
    from app.history.store import Store
    from app.errors import StoreError

    run_id, _, side = ref.partition(":")
    try:
        opened = Store.open(for_reading=True)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        run = opened.store.get_run(run_id)
    except StoreError as exc:  # an id prefix of several runs
        raise UsageError(f"--baseline {ref}: {exc}") from None
    finally:
        opened.store.close()
    if run is None:
        raise UsageError(f"--baseline {ref}: no run {run_id!r} in history (see `driftcheck history list`)")
    record = run["result"]
    if run["task"] == "compare" and record:
        if side not in ("a", "b"):
            raise UsageError(
                f"--baseline {ref}: run {run['id']} is a compare; say which side, {run['id']}:a or {run['id']}:b"
            )
        record = record[side]
    elif side:
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {run['task']}, not a compare; give its id alone")
    if not record or record.get("task") != task:
        kind = record.get("task") if record else run["task"]
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {kind}; this compare is a {task}")
    if record.get("status") != "ok" or record.get("result") is None:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} did not finish ({record.get('status')}); "
            f"a baseline has to be a complete answer"
        )
    if run["input_sha256"] != sha256:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} was made on different input "
            f"({run['input_ref']}, sha256 {str(run['input_sha256'])[:12]}…); this input is "
            f"{sha256[:12]}…. A baseline must be the same file or incident, byte for byte"
        )
    if task == "triage" and mode is not None and record.get("mode") != mode:
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {record.get('mode')} triage, not {mode}")
    return run["id"], record


# --- running -----------------------------------------------------------------------------------


def run_compare(args: argparse.Namespace) -> int:
    from app.compare.report import compare_report, report_summary
    from app.history.recording import RunRecorder, print_recording
    from app.review_cli import load_review_input, plan_review, print_input_notes
    from app.triage_cli import load_incident, parse_context, redacted_for, resolve_judges

    task = _task_of(args)
    if args.baseline and args.spec_a:
        raise UsageError("--baseline is side A; drop -a (use -b for the provider to run now)")
    if task == "review":
        text_input, source, key = load_review_input(args.file, args.key)
    else:
        context = parse_context(args.context)
        text_input, flags, reference = load_incident(_incident_input(args), args.reference)
    baseline_id, baseline = (
        load_baseline(args.baseline, task, text_input.sha256, args.mode) if args.baseline else (None, None)
    )
    mode = args.mode or (baseline.get("mode") if baseline else None) or "active"
    from app.config.load import load_config

    config = load_config()
    if baseline is not None:
        specs = {"b": args.spec_b or f"{baseline['provider']}:{baseline['model']}"}
    else:
        specs = dict(zip(("a", "b"), pick_sides(args.spec_a, args.spec_b, config), strict=True))
    from app.cli import use_tui

    if use_tui(args) and baseline is None and args.repeat == 1 and not (args.key or args.reference):
        return _open_tui(task, args, text_input, specs)
    # Each side is exactly its SPEC: a side that fell back or hedged to another model
    # would report someone else's drift.
    providers = {
        side: resolve_provider(
            spec, config, retries=args.retries, fallback=[], hedge_after="off", max_tokens=args.max_tokens
        )
        for side, spec in specs.items()
    }
    judges = resolve_judges(args.judge, config, args.retries) if task == "triage" else []
    print_input_notes(text_input)

    if task == "review":
        plans = {side: plan_review(p, source, args) for side, p in providers.items()}
    else:
        # Both sides see the same text: judges grade each side's answer, and a side that saw
        # more than the other would show drift that is not the provider's.
        side_input, side_flags, context = redacted_for(
            [*providers.values(), *judges], text_input, flags, context, allow=args.allow_secrets
        )
        max_tokens = args.max_tokens or 4096

    input_ref = str(Path(args.file or args.incident).resolve()) if (args.file or args.incident) else "(stdin)"
    recorder = RunRecorder.start(
        "compare",
        input_ref=input_ref,
        input_sha256=text_input.sha256,
        providers=[p.spec for p in providers.values()] + [j.spec for j in judges],
        enabled=not args.no_history,
    )
    recorded = {side: recorder.recorded(p, side) for side, p in providers.items()}

    def starter(side: str) -> Callable[[int], AsyncIterator[Any]]:
        if task == "review":
            from app.review.task import review_events

            plan = plans[side]
            return lambda run: review_events(
                recorded[side],
                plan.source,
                text_input,
                plan.chunks,
                max_tokens=plan.max_tokens,
                key=key,
                input_flags=plan.flags,
            )
        from app.triage.task import triage_events

        side_judges = [recorder.recorded(j, f"{side}-judge") for j in judges]
        return lambda run: triage_events(
            recorded[side],
            side_input,
            mode=mode,
            context=context,
            max_tokens=max_tokens,
            reference=reference,
            judges=side_judges,
            input_flags=side_flags,
        )

    live = args.format == "text"
    try:
        runs = asyncio.run(
            _run_sides(
                {side: starter(side) for side in providers},
                args.repeat,
                live=live,
                closing=[*providers.values(), *judges],
            )
        )
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    if baseline is not None:
        runs["a"] = [baseline]
    report = compare_report(task, {"a": runs["a"], "b": runs["b"]}, baseline=baseline_id)
    recording = recorder.finish(status=report["status"], summary=report_summary(report), result=report)
    _print_report(report, args.format)
    print_recording(recording)
    from app.cli import print_notes
    from app.task_exit import failed_judge_notes, outcome_exit

    # What ran now: a baseline side was read from history, not asked.
    labelled = {
        side.upper() + (f" run {number}" if len(runs[side]) > 1 else ""): run
        for side in (("b",) if baseline is not None else ("a", "b"))
        for number, run in enumerate(runs[side], start=1)
    }
    for where, run in labelled.items():
        if run["status"] != "ok":
            _fail(f"{where}: {run['error']['message']}")
    print_notes(failed_judge_notes(labelled, judge_optional=args.judge_optional))
    return outcome_exit(labelled.values(), judge_optional=args.judge_optional)


def _open_tui(task: str, args: argparse.Namespace, text_input: Any, specs: dict[str, str]) -> int:
    if task == "triage":
        from app.triage_cli import open_triage_tui

        return open_triage_tui(text_input, args, specs=[specs["a"], specs["b"]])
    from app.tui.app import run_tui
    from app.tui.compare_screen import CompareScreen

    record = not args.no_history
    return run_tui(lambda app: CompareScreen(args.file, specs["a"], specs["b"], record=record), record=record)


async def _run_sides(
    starts: dict[str, Callable[[int], AsyncIterator[Any]]], repeat: int, *, live: bool, closing: list[Any]
) -> dict[str, list[dict[str, Any]]]:
    """Both sides to the end; each run's public JSON, per side, in run order."""
    from app.compare.events import compare_events
    from app.render.console import SafeConsole
    from app.render.compare import progress_line
    from app.review.report import review_json
    from app.review.task import ReviewFinished
    from app.triage.task import TriageFinished, triage_json

    console = SafeConsole(stderr=True, highlight=False, soft_wrap=True)
    runs: dict[str, dict[int, dict[str, Any]]] = {side: {} for side in starts}
    try:
        async for item in compare_events(starts, repeat=repeat):
            event = item.event
            if isinstance(event, ReviewFinished):
                runs[item.side][item.run] = review_json(event.outcome)
            elif isinstance(event, TriageFinished):
                runs[item.side][item.run] = triage_json(event.outcome)
            if live or isinstance(event, ReviewFinished | TriageFinished):
                line = progress_line(item, repeat)
                if line:
                    console.print(line)
    finally:
        for provider in closing:
            await provider.aclose()
    return {side: [done[run] for run in sorted(done)] for side, done in runs.items()}


def _print_report(report: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        from app.render.terminal import json_text

        print(json_text(report))
        return
    if fmt == "markdown":
        from app.render.compare import compare_markdown

        sys.stdout.write(compare_markdown(report))
        return
    from app.render.compare import print_compare
    from app.render.console import SafeConsole

    print_compare(SafeConsole(highlight=False), report)
