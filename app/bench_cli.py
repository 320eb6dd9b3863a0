"""`driftcheck bench latency -p SPEC`: how a provider's latency spreads, measured."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from app.cli import resolve_provider
from app.errors import ExitCode, UsageError
from app.cli import spec_text

MAX_REQUESTS = 1000


def add_parser(sub: Any, positive_int: Any) -> None:
    from app.cli import max_tokens_arg

    bench = sub.add_parser("bench", help="measure a provider: latency spread, with and without hedging")
    kinds = bench.add_subparsers(dest="bench_kind", metavar="KIND")
    latency = kinds.add_parser(
        "latency",
        help="N identical requests: time to first token and total, median / p95 / max, histogram",
        description="Send the same short request N times and report how time to first token and total time "
        "spread, whether slow calls were long ones, and what it cost; with --hedge-after, how "
        "often a hedge was sent and what the extra calls cost.",
    )
    latency.add_argument(
        "-p", "--provider", type=spec_text, metavar="SPEC", help="provider:model (default as for every command)"
    )
    latency.add_argument("-n", type=positive_int, default=50, metavar="N", help="requests (default 50)")
    latency.add_argument("--prompt", metavar="TEXT", help="the prompt (default: a short on-call question)")
    latency.add_argument("--max-tokens", type=max_tokens_arg, default=256, metavar="N")
    latency.add_argument(
        "--concurrency",
        type=positive_int,
        default=1,
        metavar="C",
        help="requests in flight at once (default 1: latency without queueing)",
    )
    latency.add_argument(
        "--hedge-after",
        metavar="WHEN",
        default="off",
        help="p95, a time such as 2.5s, or off (default); hedges go to --fallback, else a "
        "second request to the same provider",
    )
    latency.add_argument("--fallback", action="append", default=None, type=spec_text, metavar="SPEC")
    latency.add_argument(
        "--warmup",
        type=int,
        default=1,
        metavar="N",
        help="untimed requests first (default 1: the first call pays for lazy imports and a "
        "new connection, which is not the provider's latency)",
    )
    latency.add_argument("--format", choices=("text", "json"), default="text")
    latency.add_argument("--no-history", action="store_true", help="do not record this bench in history")


def run_bench_command(args: argparse.Namespace) -> int:
    from app.bench.latency import DEFAULT_PROMPT, BenchResult
    from app.history.recording import RunRecorder, print_recording
    from app.config.load import load_config
    from providers import Request

    if args.bench_kind != "latency":
        raise UsageError("say what to measure: driftcheck bench latency -p SPEC")
    if args.n > MAX_REQUESTS:
        raise UsageError(f"-n {args.n}: at most {MAX_REQUESTS} requests per bench")
    prompt = args.prompt or DEFAULT_PROMPT
    if not prompt.strip():
        raise UsageError("--prompt is empty")
    config = load_config()
    provider = resolve_provider(
        args.provider,
        config,
        fallback=args.fallback or [],
        hedge_after=args.hedge_after,
        max_tokens=args.max_tokens,
    )
    recorder = RunRecorder.start(
        "bench", input_ref="(bench latency)", input_sha256=None, providers=[provider.spec], enabled=not args.no_history
    )
    from app.calls.outbound import outbound

    request = Request.ask(outbound(prompt, [provider], allow=False, label="--prompt").text, max_tokens=args.max_tokens)
    result = BenchResult(provider.spec, hedge_after=args.hedge_after)
    try:
        result.samples = asyncio.run(_measure(recorder.recorded(provider), request, args))
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    data = result.to_dict()
    status = "ok" if data["ok"] else "failed"
    recording = recorder.finish(status=status, summary=_summary(data), result={"task": "bench", **data})
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        _print(data, [s.total_s for s in result.samples if s.ok and s.total_s is not None])
    print_recording(recording)
    return ExitCode.OK if data["ok"] else ExitCode.PROVIDER


async def _measure(provider: Any, request: Any, args: argparse.Namespace) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.bench.latency import run_bench

    with Progress(
        TextColumn("[dim]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=_stderr_console(),
    ) as progress:
        task = progress.add_task(f"{provider.spec}", total=args.n)
        try:
            if args.warmup > 0:
                await run_bench(provider, request, count=args.warmup, concurrency=1)
            return await run_bench(
                provider,
                request,
                count=args.n,
                concurrency=args.concurrency,
                progress=lambda sample: progress.advance(task),
            )
        finally:
            await provider.aclose()


def _stderr_console() -> Any:
    from app.render.console import SafeConsole

    return SafeConsole(stderr=True)


def _summary(data: dict[str, Any]) -> str:
    ttft = data["ttft"]
    return (
        f"{data['ok']}/{data['requests']} ok; first token median {ttft['median']} s, p95 {ttft['p95']} s"
        if ttft["median"] is not None
        else f"{data['ok']}/{data['requests']} ok"
    )


def _print(data: dict[str, Any], totals: list[float]) -> None:
    from rich.table import Table

    from app.bench.latency import histogram
    from app.render.console import SafeConsole
    from providers.pricing import format_cost

    console = SafeConsole(highlight=False)
    table = Table(
        title=f"{data['spec']}: {data['ok']} of {data['requests']} requests answered"
        + (f" (hedge after {data['hedge_after']})" if data["hedge_after"] != "off" else ""),
        title_justify="left",
    )
    for column in ("", "median", "p95", "max", "p95 / median"):
        table.add_column(column, justify="right" if column else "left")
    for label, key in (("time to first token", "ttft"), ("total time", "total")):
        s = data[key]
        table.add_row(
            label,
            *(f"{s[k]:.2f} s" if s[k] is not None else "n/a" for k in ("median", "p95", "max")),
            f"{s['p95_over_median']:.2f}×" if s["p95_over_median"] else "n/a",
        )
    console.print(table)
    console.print("[bold]Total time[/]")
    for line in histogram(totals):
        console.print(line)
    length = data["length"]
    if length:
        console.print(
            f"Slowest tenth wrote {length['slowest_tenth_output_tokens']} output tokens on average, the "
            f"others {length['others_output_tokens']} (r = {length['r_total_vs_output']}): "
            + (
                "slowness follows length"
                if (length["r_total_vs_output"] or 0) >= 0.5
                else "slowness is not explained by length"
            )
        )
    hedged = data["hedged"]
    console.print(
        f"Cost {format_cost(data['cost_usd'])}"
        + (
            f" · hedged {hedged['requests']} ({hedged['share']:.0%}), extra {format_cost(hedged['extra_cost_usd'])}"
            if data["hedge_after"] != "off"
            else ""
        )
    )
    if hedged["withheld_by_budget"]:
        console.print(
            f"[yellow]{hedged['withheld_by_budget']} slow request(s) were not hedged: the hedge budget "
            f"was spent (raise [resilience] hedge_budget to hedge more often)[/]"
        )
    if data["failed"]:
        console.print(f"[red]{data['failed']} request(s) failed: {', '.join(data['errors'])}[/]")
