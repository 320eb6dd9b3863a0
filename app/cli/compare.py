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
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import (
    add_batch_retry_option,
    add_change_options,
    add_gate_options,
    add_repeat_option,
    check_gate_options,
    fail,
    max_tokens_arg,
    positive_int,
    print_note,
    print_notes,
    print_recording,
    retries_arg,
    say,
    spec_text,
    use_tui,
)
from app.errors import UsageError
from app.review import DEFAULT_MAX_REQUESTS

if TYPE_CHECKING:
    from app.cli.common import SubParsers
    from app.run.prepared import PreparedRun, Start
    from app.source.inputs import TextInput


def add_parser(sub: SubParsers) -> None:
    compare = sub.add_parser(
        "compare",
        help="the same review or triage on two providers at once, and the drift between them",
        description="Run one review (FILE) or triage (--incident FILE, --incident-text -) on providers A and B "
        "concurrently, show both results side by side, and report what a switch from A to B would "
        "change: findings, scores, severities, latency and cost.",
    )
    compare.add_argument("file", nargs="?", metavar="FILE", help="a source file to review")
    add_change_options(compare, sides="on both sides")
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
    add_repeat_option(
        compare,
        "run each side N times and set the spread within each provider against the difference between them, "
        "finding by finding (default 1)",
    )
    compare.add_argument(
        "--batch",
        action="store_true",
        help="send every run of both sides through their providers' batch APIs, all at once (half price, "
        "results within 24 h; a killed compare resumes with `driftcheck history resume ID`); "
        "providers without one run live",
    )
    add_batch_retry_option(compare)
    compare.add_argument(
        "--baseline",
        metavar="RUN_ID",
        help="use a stored run as side A (same input); B defaults to the baseline's SPEC. "
        "For a stored compare, RUN_ID:a or RUN_ID:b picks the side",
    )
    compare.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    add_gate_options(
        compare,
        compare=True,
        fail_on_help="for a review: exit 1 when a finding of either side is at or above SEVERITY (default none)",
    )
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
    compare.add_argument(
        "--judge-mode",
        choices=("pointwise", "pairwise"),
        default=None,
        help="pointwise (default): each judge grades each answer on the rubric; pairwise: each judge says "
        "which of A and B is better, asked in both orders, and the report gives position consistency",
    )
    compare.add_argument(
        "--no-self-judging",
        action="store_true",
        help="for a triage: a judge does not grade an answer from its own model family",
    )
    compare.add_argument("--reference", metavar="PATH", help="reference answer for the incident")
    compare.add_argument("--key", metavar="PATH", help="answer key for the file (default: FILE.key.toml)")
    compare.add_argument("--max-tokens", type=max_tokens_arg, metavar="N", help="output token limit per request")
    compare.add_argument("--chunk-tokens", type=positive_int, metavar="N", help="source tokens per review request")
    compare.add_argument(
        "--max-requests",
        type=positive_int,
        default=DEFAULT_MAX_REQUESTS,
        metavar="N",
        help=f"refuse a file that needs more than N requests per side (default {DEFAULT_MAX_REQUESTS})",
    )
    compare.add_argument("--retries", type=retries_arg, metavar="N")
    compare.add_argument("--allow-secrets", action="store_true", help="send secrets in the input as they are")
    compare.add_argument("--no-history", action="store_true", help="do not record this run in history")
    compare.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")
    compare.set_defaults(resume=None)  # a stored compare --batch's id, set by `history resume`


# --- choosing the input ------------------------------------------------------------------------


def task_of(args: argparse.Namespace) -> str:
    change = args.diff is not None or args.staged
    given = [
        name
        for name, value in (
            ("FILE", args.file),
            ("--diff/--staged", change),
            ("--incident", args.incident),
            ("--incident-text", args.incident_text),
        )
        if value
    ]
    if len(given) != 1:
        raise UsageError(
            "give one input: a FILE to review, --diff [RANGE] or --staged, --incident FILE, or --incident-text - (stdin)"
            if not given
            else f"give one input, not {' and '.join(given)}"
        )
    if args.staged and args.diff:
        raise UsageError("--staged reviews the index; it does not take a --diff RANGE as well")
    if change and (args.baseline or args.key):
        raise UsageError("--baseline and --key apply to a FILE or an incident, not to --diff / --staged")
    if args.file or change:
        misplaced = [
            flag
            for flag, value in (
                ("--mode", args.mode),
                ("--context", args.context),
                ("--judge", args.judge),
                ("--judge-optional", args.judge_optional),
                ("--judge-mode", args.judge_mode),
                ("--no-self-judging", args.no_self_judging),
                ("--reference", args.reference),
            )
            if value
        ]
        if misplaced:
            raise UsageError(
                f"{', '.join(misplaced)} apply to a triage (--incident); {args.file or 'the change'} is reviewed"
            )
        return "review"
    if args.key or args.chunk_tokens or args.fail_on != "none":
        flags = [
            f
            for f, v in (
                ("--key", args.key),
                ("--chunk-tokens", args.chunk_tokens),
                ("--fail-on", args.fail_on != "none"),
            )
            if v
        ]
        raise UsageError(f"{', '.join(flags)} apply to a review (FILE), not to an incident")
    return "triage"


def incident_of(args: argparse.Namespace) -> TextInput:
    from app.cli.triage import incident_input
    from app.run.triage import incident_from_text

    if args.incident:
        return incident_input(args.incident)
    if args.incident_text == "-":
        return incident_input("-")
    return incident_from_text(args.incident_text, "--incident-text")


# --- running -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    import asyncio

    from app.config.load import load_config
    from app.run.compare import load_baseline, pick_sides
    from app.run.providers import ProviderResolver
    from app.task_exit import failed_judge_notes, outcome_exit

    task = task_of(args)
    check_gate_options(args)
    if args.diff is not None or args.staged:
        if args.fail_on != "none":
            raise UsageError("--fail-on gates a compare of one FILE; for a change, gate each side with review --diff")
        return run_change_compare(args)
    if args.baseline and args.spec_a:
        raise UsageError("--baseline is side A; drop -a (use -b for the provider to run now)")
    if task == "review":
        from app.run.review import load_review_input

        review = load_review_input(args.file, args.key)
        text_input = review.text_input
    else:
        from app.run.triage import load_incident, parse_context

        context = parse_context(args.context)
        incident = load_incident(incident_of(args), args.reference)
        text_input = incident.text_input
    baseline_id, baseline = (
        load_baseline(args.baseline, task, text_input.sha256, args.mode) if args.baseline else (None, None)
    )
    mode = args.mode or (baseline.get("mode") if baseline else None) or "active"
    config = load_config()
    specs: dict[str, str | None]
    if baseline is not None:
        specs = {"b": args.spec_b or f"{baseline['provider']}:{baseline['model']}"}
    else:
        specs = dict(zip(("a", "b"), pick_sides(args.spec_a, args.spec_b, config), strict=True))
    if (
        use_tui(args)
        and baseline is None
        and args.repeat == 1
        # The TUI's triage compare takes --judge-mode and --no-self-judging as the CLI does.
        and not (args.key or args.reference or args.fail_on != "none" or args.batch)
    ):
        return open_compare_tui(task, args, text_input, specs)
    input_ref = str(Path(args.file or args.incident).resolve()) if (args.file or args.incident) else "(stdin)"
    # Each side is exactly its SPEC: a side that fell back or hedged to another model
    # would report someone else's drift.
    batch = None
    if args.batch:  # every run of both sides (and the judges) in one batch per provider, at half the price
        from app.cli.batch_run import BatchRun

        batch = BatchRun("compare", args, text_input.sha256, input_ref)
    resolver = ProviderResolver(
        config,
        retries=args.retries,
        notify=print_note,
        prompt_cache=args.repeat > 1,
        wrap_exact=batch.wrap if batch else None,
    )
    prepared: PreparedRun
    if task == "review":
        from app.cli.review import review_options
        from app.run.review import prepare_review

        prepared = prepare_review(
            review,
            specs,
            resolver=resolver,
            compare=True,
            options=review_options(args),
            record=not args.no_history,
            input_ref=input_ref,
            resume=args.resume,
        )
    else:
        from app.run.triage import prepare_triage

        prepared = prepare_triage(
            incident,
            specs,
            resolver=resolver,
            compare=True,
            mode=mode,
            context=context,
            judges=args.judge,
            judge_mode=args.judge_mode or "pointwise",
            self_judging=not args.no_self_judging,
            max_tokens=args.max_tokens,
            allow_secrets=args.allow_secrets,
            record=not args.no_history,
            input_ref=input_ref,
            resume=args.resume,
        )
    if batch:
        batch.started(prepared, {"spec_a": specs.get("a"), "spec_b": specs.get("b")})
    try:
        runs = asyncio.run(
            run_sides(prepared.starts, args.repeat, live=args.format == "text", prepared=prepared, together=args.batch)
        )
    except KeyboardInterrupt:
        if batch:  # its batches run on: say how to collect them rather than pay twice
            batch.cancelled()
        else:
            prepared.recorder.finish(status="cancelled")
        raise
    if baseline is not None:
        runs["a"] = [baseline]
    pairwise = asyncio.run(prepared.pairwise(runs["a"][0], runs["b"][0])) if prepared.pairwise else None
    report, recording = prepared.finish(runs, baseline=baseline_id, pairwise=pairwise)
    assert report is not None
    gate_code, gate_notes = compare_gate_exit(report, args)
    print_report(report, args.format)
    print_recording(recording)
    # What ran now: a baseline side was read from history, not asked.
    labelled = {
        side.upper() + (f" run {number}" if len(runs[side]) > 1 else ""): run
        for side in (("b",) if baseline is not None else ("a", "b"))
        for number, run in enumerate(runs[side], start=1)
    }
    for where, run in labelled.items():
        if run["status"] != "ok":
            fail(f"{where}: {run['error']['message']}")
    if report.get("pairwise"):  # a pairwise judge that failed counts as a failed grade does
        labelled["pairwise"] = {"status": "ok", "judges": report["pairwise"]["judges"]}
    print_notes(failed_judge_notes(labelled, judge_optional=args.judge_optional))
    code = outcome_exit(labelled.values(), judge_optional=args.judge_optional)
    if code != 0:
        return code
    print_notes(gate_notes)
    return gate_code


def compare_gate_exit(report: dict[str, Any], args: argparse.Namespace) -> tuple[int, list[Any]]:
    """--fail-on over the findings clustered across both sides' runs (with --consensus K:
    in at least K runs; with --agree: on both sides). The gate goes in the report too."""
    from app.compare.contract import Gate, GateFinding
    from app.compare.stability import compare_gate
    from app.task_exit import gate_exit

    if args.fail_on == "none" or report["compared"] != "review":
        return 0, []
    clusters = report["noise"]["clusters"]
    consensus = args.consensus or 1
    gating = compare_gate(clusters, args.fail_on, consensus=consensus, agree=args.agree)
    candidates = len(compare_gate(clusters, args.fail_on, consensus=1, agree=False))
    code, notes = gate_exit(gating, candidates, args.fail_on, consensus=consensus, repeat=args.repeat, agree=args.agree)
    report["gate"] = Gate(
        fail_on=args.fail_on,
        consensus=consensus,
        agree=args.agree,
        findings=[
            GateFinding(item=c["item"], line=c["line"], found_a=c["found_a"], found_b=c["found_b"]) for c in gating
        ],
        exit=int(code),
    ).public()
    return code, notes


def run_change_compare(args: argparse.Namespace) -> int:
    """compare --diff / --staged: the same change on A and B, the drift per file and in total."""
    import asyncio

    from app.cli.review import review_options
    from app.cli.review_change import load_change
    from app.config.load import load_config
    from app.run.change import check_reviewable, prepare_change_compare
    from app.run.compare import pick_sides
    from app.run.providers import ProviderResolver
    from app.task_exit import outcome_exit

    args.paths = []
    change = load_change(args)
    nothing = check_reviewable(change)
    if nothing is not None:
        say(nothing)
        return 0
    config = load_config()
    specs = dict(zip(("a", "b"), pick_sides(args.spec_a, args.spec_b, config), strict=True))
    prepared = prepare_change_compare(
        change,
        specs,
        # With --repeat, runs 2 to N resend each file's prompt: worth marking for the caches.
        resolver=ProviderResolver(config, retries=args.retries, notify=print_note, prompt_cache=args.repeat > 1),
        options=review_options(args),
        record=not args.no_history,
        concurrency=args.concurrency,
    )
    try:
        runs = asyncio.run(run_sides(prepared.starts, args.repeat, live=args.format == "text", prepared=prepared))
    except KeyboardInterrupt:
        prepared.recorder.finish(status="cancelled")
        raise
    report, recording = prepared.finish(runs)
    assert report is not None
    print_report(report, args.format)
    print_recording(recording)
    # Every run of each side (--repeat): a later run that failed fails the compare too.
    labelled = {
        side.upper() + (f" run {n}" if args.repeat > 1 else ""): run
        for side in ("a", "b")
        for n, run in enumerate(runs[side], start=1)
    }
    for where, run in labelled.items():
        if run["status"] != "ok":
            fail(f"{where}: {run['error']['message']}")
    return outcome_exit(labelled.values())


def open_compare_tui(task: str, args: argparse.Namespace, text_input: TextInput, specs: dict[str, str | None]) -> int:
    if task == "triage":
        from app.cli.triage import open_triage_tui

        return open_triage_tui(text_input, args, specs=[specs["a"] or "", specs["b"] or ""])
    from app.tui.app import run_tui
    from app.tui.compare_screen import CompareScreen

    record = not args.no_history
    return run_tui(
        lambda app: CompareScreen(args.file, specs["a"] or "", specs["b"] or "", record=record), record=record
    )


async def run_sides(
    starts: dict[str, Start], repeat: int, *, live: bool, prepared: PreparedRun, together: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Both sides to the end; each run's public JSON, per side, in run order."""
    from app.compare.events import compare_events
    from app.render.compare import progress_line
    from app.render.console import SafeConsole
    from app.run.prepared import task_json

    console = SafeConsole(stderr=True, highlight=False, soft_wrap=True)
    runs: dict[str, dict[int, dict[str, Any]]] = {side: {} for side in starts}
    try:
        async for item in compare_events(starts, repeat=repeat, together=together):
            data = task_json(item.event)
            if data is not None:
                runs[item.side][item.run] = data
            if live or data is not None:
                line = progress_line(item, repeat)
                if line:
                    console.print(line)
    finally:
        for provider in prepared.closing:
            await provider.aclose()
    return {side: [done[run] for run in sorted(done)] for side, done in runs.items()}


def print_report(report: dict[str, Any], fmt: str) -> None:
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
