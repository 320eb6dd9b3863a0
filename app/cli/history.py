"""`driftcheck history`: list, show, diff, export and prune past runs.

Everything shown comes from the store as it was written at the time: `show` and
`export` never re-read the reviewed file, so a run looks as it did even after the file
has changed or gone.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from app.cli.common import positive_int, say, usd_amount
from app.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from app.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    history = sub.add_parser(
        "history",
        help="past runs: list, show, diff, export, resume, prune",
        description="Every run and provider call driftcheck made, from the history database.",
    )
    actions = history.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="recent runs with cost and latency (the default)")
    _list_options(listing)
    _list_options(history)
    show = actions.add_parser("show", help="one run, its calls and its result")
    show.add_argument("run_id", metavar="ID")
    show.add_argument("--format", choices=("text", "json"), default="text")
    diff = actions.add_parser("diff", help="two review runs: findings matched, only in one, score and cost")
    diff.add_argument("run_a", metavar="ID")
    diff.add_argument("run_b", metavar="ID")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    export = actions.add_parser("export", help="a run's result as JSON, Markdown or SARIF")
    export.add_argument("run_id", metavar="ID")
    export.add_argument("--format", choices=("json", "markdown", "sarif"), default="json")
    resume = actions.add_parser(
        "resume",
        help="carry on an interrupted eval, compare --batch or review --repeat N --batch, collecting the "
        "batches it submitted",
        description="Carry on a run that did not finish with the command that made it. The options below "
        "are passed through to that command where it has them (--budget, --retry-failed: an eval); any "
        "other is refused.",
    )
    resume.add_argument("run_id", metavar="ID")
    resume_options(resume)
    # What follows the ID, parsed by `resume_options` again: an option that does not fit is
    # one line naming it, not argparse's usage block.
    resume.add_argument("after_id", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    prune = actions.add_parser("prune", help="delete runs older than DAYS")
    prune.add_argument("--older-than", type=float, required=True, metavar="DAYS")


#: What `history resume` passes through to the command that resumes the run.
RESUME_OPTIONS = ("format", "out", "budget", "retry_failed", "batch_retry")


def resume_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", help="the output format (one the resuming command has; default: what the run was asked, or text)"
    )
    parser.add_argument("--out", metavar="PATH", help="write the result to PATH (eval, review)")
    parser.add_argument("--budget", type=usd_amount, metavar="USD", help="an eval's new budget")
    parser.add_argument("--retry-failed", action="store_true", default=None, help="an eval: ask again what failed")
    parser.add_argument(
        "--batch-retry",
        choices=("live", "batch"),
        help="calls a batch did not run: run them live or in a new batch (default: as the run was asked, else live)",
    )


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="only this task (review, ask, ...)")
    parser.add_argument("--provider", metavar="SPEC", help="only runs with a call to this provider or SPEC")
    parser.add_argument(
        "--status", choices=("ok", "failed", "partial", "stopped", "interrupted", "cancelled", "running")
    )
    parser.add_argument("--limit", type=positive_int, default=30, metavar="N", help="at most N runs, newest first")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from app.errors import StoreError
    from app.history.store import Store

    action = args.action or "list"
    if action == "resume":
        return _resume(args)
    try:
        opened = Store.open(for_reading=action != "prune")
    except StoreError as exc:
        raise UsageError(f"cannot prune: {exc}" if action == "prune" else str(exc)) from None
    if opened.moved_aside is not None:
        say(
            f"warning: the history database was damaged; it was moved to {opened.moved_aside} "
            f"and a new, empty one started"
        )
    store = opened.store
    try:
        store.mark_dead_runs()
        handler = {"list": _list, "show": _show, "diff": _diff, "export": _export, "prune": _prune}[action]
        return handler(store, args)
    finally:
        store.close()


def _resume(args: argparse.Namespace) -> int:
    """One entry point for every resumable run: the command that made it carries it on,
    with the options given here that it has."""
    from app.cli import compare, review
    from app.cli import eval as eval_command
    from app.cli.common import parse_command
    from app.history.resume import COMMAND_PART, find_resumable

    given = _resume_given(args)
    target = find_resumable(args.run_id)
    run_id = target.run["id"]
    module = {"eval": eval_command, "compare": compare, "review": review}[target.command]
    passed = _passed_on(module, target.command, run_id, given)
    batches = f", {target.open_batches} batch(es) to collect" if target.open_batches else ""
    say(f"resuming {target.command} {run_id} ({target.run['status']}{batches})")
    resumed = parse_command(module, [target.command])  # today's defaults, then what the run was given
    if target.command == "eval":
        resumed.resume = run_id
    else:
        vars(resumed).update(target.parts[COMMAND_PART]["args"])
        resumed.resume, resumed.no_tui = run_id, True
    vars(resumed).update(passed)
    return int(module.run(resumed))


def _resume_given(args: argparse.Namespace) -> dict[str, list[str]]:
    """The options given to `history resume`, before or after the ID, each as its words
    (`--budget 5`); one line for anything else."""
    from app.cli.common import OneLineParser

    after = OneLineParser(prog="driftcheck history resume", add_help=False)
    resume_options(after)
    parsed, unknown = after.parse_known_args(args.after_id, namespace=argparse.Namespace(**vars(args)))
    if unknown:
        raise UsageError(
            f"history resume does not take {unknown[0]}: it passes on only --format, --out, --budget, "
            f"--retry-failed and --batch-retry"
        )
    given: dict[str, list[str]] = {}
    for key in RESUME_OPTIONS:
        value = getattr(parsed, key)
        flag = "--" + key.replace("_", "-")
        if value is True:
            given[key] = [flag]
        elif value is not None:
            given[key] = [flag, str(value)]
    return given


def _passed_on(module: Any, command: str, run_id: str, given: dict[str, list[str]]) -> dict[str, Any]:
    """Each option given, parsed by the resuming command's own parser: one it does not have,
    or a value it does not take (eval --format html, not compare's), is refused in one line."""
    from app.cli.common import parse_command

    passed: dict[str, Any] = {}
    for key, words in given.items():
        try:
            passed[key] = getattr(parse_command(module, [command, *words], one_line=True), key)
        except UsageError as exc:
            if "unrecognized arguments" in str(exc):
                raise UsageError(f"{words[0]} does not apply to resuming {command} {run_id}") from None
            raise UsageError(f"resuming {command} {run_id}: {exc}") from None
    return passed


def _run_or_fail(store: Any, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] | None = store.get_run(run_id)  # an ambiguous prefix is an error that lists the runs
    if run is None:
        raise UsageError(f"no run {run_id!r} in history (see `driftcheck history list`)")
    return run


def _list(store: Any, args: argparse.Namespace) -> int:
    from app.render.history import cost_text

    runs = store.list_runs(task=args.task, provider=args.provider, status=args.status, limit=args.limit)
    if args.format == "json":
        from app.history.contract import HistoryList

        print(json.dumps(HistoryList.model_validate({"runs": runs, "database": str(store.path)}).public(), indent=2))
        return ExitCode.OK
    from rich.markup import escape

    from app.render.console import SafeConsole
    from app.render.history import RUN_COLUMNS, run_cells
    from app.render.listing import print_listing

    console = SafeConsole(highlight=False)
    if not runs:
        filtered = args.task or args.provider or args.status
        console.print(
            ("No runs match these filters" if filtered else "No runs yet")
            + f". History lives in {escape(str(store.path))}."
        )
        return ExitCode.OK
    print_listing(console, RUN_COLUMNS, [run_cells(run) for run in runs], title=f"History ({store.path})")
    total = sum(r["cost_usd"] or 0 for r in runs)
    unknown = sum(r["calls_without_cost"] or 0 for r in runs)
    latencies = sorted(r["latency_ms"] for r in runs if r["latency_ms"] is not None)
    median = f"{latencies[len(latencies) // 2] / 1000:.1f} s" if latencies else "n/a"
    console.print(
        f"{len(runs)} run(s) · {sum(r['calls'] for r in runs)} call(s) · total cost {cost_text(total)}"
        + (f" (+{unknown} call(s) of unknown cost)" if unknown else "")
        + f" · median latency {median}"
    )
    return ExitCode.OK


def _show(store: Any, args: argparse.Namespace) -> int:
    from app.render.history import cost_text, provenance_text, when_text

    run = _run_or_fail(store, args.run_id)
    if args.format == "json":
        from app.history.contract import StoredRun
        from app.render.terminal import json_text

        print(json_text(StoredRun.model_validate(run).public()))
        return ExitCode.OK
    from rich.markup import escape

    from app.render.console import SafeConsole

    console = SafeConsole(highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{run['id']}[/] · {run['task']} · {escape(run['input_ref'] or '')} · "
        f"{run['status']} · {when_text(run['created_at'])}"
    )
    if run["input_sha256"]:
        console.print(f"[dim]input sha256 {run['input_sha256']}[/]")
    if run["score"] is not None:
        console.print(f"Score {run['score']}/10  {escape(run['summary'] or '')}")
    elif run["summary"]:
        console.print(escape(run["summary"]))
    if run["result"] is None and run["status"] not in ("running", "interrupted", "cancelled"):
        console.print("[yellow]its result was not stored (history could not write it when the run ended)[/]")
    metrics = (run["result"] or {}).get("metrics") or {}
    if metrics.get("fallback_from"):
        console.print(f"[yellow]fell back from {escape(metrics['fallback_from'])}[/]")
    if metrics.get("hedged"):
        console.print(
            f"[yellow]hedged: the first of two calls to stream answered; the other cost "
            f"{cost_text(metrics.get('hedge_cost_usd'))}[/]"
        )
    for call in run["calls"]:
        cost = cost_text(call["cost_usd"], int(call["cost_usd"] is None))
        ttft = "?" if call["ttft_ms"] is None else f"{call['ttft_ms']:.0f} ms"
        total = "?" if call["latency_ms"] is None else f"{call['latency_ms'] / 1000:.2f} s"
        console.print(
            f"  call {call['seq']} · {call['role']} · {escape(call['provider'])}:{escape(call['model'])}"
            f" · {call['status']} · first token {ttft} · total {total} · tokens in "
            f"{call['input_tokens'] if call['input_tokens'] is not None else '?'} / out "
            f"{call['output_tokens'] if call['output_tokens'] is not None else '?'} · {cost}"
            + (f" · retries {call['retries']}" if call["retries"] else "")
        )
        provenance = provenance_text(call.get("provenance"))
        if provenance:
            console.print(f"    [dim]{escape(provenance)}[/]")
        if call["error_message"]:
            console.print(f"    [red]{escape(call['error_message'])}[/]")
        if call["status"] != "ok" and call["text"]:
            console.print(f"    [dim]text received ({len(call['text'])} characters):[/]")
            console.print(escape(call["text"]), markup=False)
    if run["task"] == "eval" and run["result"]:
        from app.render.eval import print_eval

        console.print()
        print_eval(console, run["result"])
        if run["status"] != "ok":
            console.print(f"Resume it with: driftcheck eval --resume {run['id']}")
    from app.history.resume import COMMAND_PART, UNFINISHED

    resumable = run["task"] in ("compare", "review") and run["status"] in UNFINISHED
    if resumable and COMMAND_PART in store.parts(run["id"]):
        console.print(f"Resume it, collecting its batches, with: driftcheck history resume {run['id']}")
    result = (run["result"] or {}).get("result") or {}
    for finding in result.get("findings", []):
        lines = f"L{finding['line_start']}" + (
            f"-{finding['line_end']}" if finding["line_end"] != finding["line_start"] else ""
        )
        console.print(f"  {finding['severity']:>8} {finding['id']:<4} {lines:<9} {escape(finding['title'])}")
    return ExitCode.OK


def _diff(store: Any, args: argparse.Namespace) -> int:
    from app.compare.attribution import attribute
    from app.compare.drift import review_drift
    from app.render.history import cost_text

    a, b = _run_or_fail(store, args.run_a), _run_or_fail(store, args.run_b)
    if a["task"] != b["task"]:
        raise UsageError(f"{a['id']} is a {a['task']} and {b['id']} a {b['task']}; diff compares runs of one task")
    if a["task"] != "review" or a["result"] is None or b["result"] is None:
        raise UsageError("diff compares two finished reviews; `history show ID --format json` shows any run")
    drift = review_drift(a["result"], b["result"])
    cost = {r["id"]: sum(c["cost_usd"] or 0 for c in r["calls"]) for r in (a, b)}
    same_input = a["input_sha256"] == b["input_sha256"]
    attribution = attribute(a["result"].get("provenance"), b["result"].get("provenance"))
    if args.format == "json":
        from app.compare.contract import HistoryDiff

        head = {"a": a["id"], "b": b["id"], "same_input": same_input, "cost_usd": [cost[a["id"]], cost[b["id"]]]}
        report = HistoryDiff.model_validate({**head, **drift, "attribution": attribution})
        print(json.dumps(report.public(), indent=2))
        return ExitCode.OK
    score = drift["score"]
    print(
        f"{a['id']} ({a['providers']}) vs {b['id']} ({b['providers']})" + ("" if same_input else " — different inputs")
    )
    print(f"score {score['a']} → {score['b']} · cost {cost_text(cost[a['id']])} → {cost_text(cost[b['id']])}")
    print(
        f"{len(drift['matched'])} matched · {len(drift['only_a'])} only in {a['id']} · "
        f"{len(drift['only_b'])} only in {b['id']} · agreement {drift['agreement']:.0%} · "
        f"{len(drift['severity_disagreements'])} severity disagreement(s)"
    )
    print(f"why: {attribution['text']}")
    for pair in drift["matched"]:
        sev = pair["severity"]
        print(f"  = {pair['a']} ~ {pair['b']}" + (f"  severity {sev[0]} → {sev[1]}" if sev[0] != sev[1] else ""))
    for side, sign in (("only_a", "-"), ("only_b", "+")):
        for f in drift[side]:
            print(f"  {sign} {f['id']} L{f['line']} {f['severity']} {f['title']}")
    return ExitCode.OK


def _export(store: Any, args: argparse.Namespace) -> int:
    run = _run_or_fail(store, args.run_id)
    record = run["result"]
    if record is None:
        raise UsageError(
            f"run {run['id']} has no result to export (status {run['status']}); "
            f"`driftcheck history show {run['id']}` shows what it received"
        )
    if args.format == "json":
        from app.render.terminal import json_text

        sys.stdout.write(json_text(record) + "\n")
        return ExitCode.OK
    if record.get("task") == "triage" and args.format == "markdown":
        from app.render.triage import triage_markdown

        sys.stdout.write(triage_markdown(record))
        return ExitCode.OK
    if record.get("task") != "review":
        raise UsageError(
            f"--format {args.format} exports reviews (and triages as markdown); run {run['id']} is a {record.get('task')}"
        )
    from app.review.stored import change_from_json, is_change_record, outcome_from_json

    if is_change_record(record):
        from app.render.change import change_output

        sys.stdout.write(change_output(change_from_json(record), args.format))
        return ExitCode.OK
    from app.render.review import repeat_output, review_output

    if record.get("stability") and record.get("runs"):  # review --repeat N: every run, and the stability
        sys.stdout.write(repeat_output([outcome_from_json(r) for r in record["runs"]], record, args.format))
        return ExitCode.OK
    sys.stdout.write(review_output(outcome_from_json(record), args.format))
    return ExitCode.OK


def _prune(store: Any, args: argparse.Namespace) -> int:
    if args.older_than < 0:
        raise UsageError("--older-than takes a number of days, 0 or more")
    pruned = store.prune(args.older_than)
    print(
        f"deleted {pruned.deleted} run(s) older than {args.older_than:g} day(s) from {store.path}"
        + (f"; kept {pruned.kept_in_progress} whose process is still running" if pruned.kept_in_progress else "")
    )
    return ExitCode.OK
