"""`driftcheck bench latency -p SPEC`: how a provider's latency spreads, measured."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from app.cli.common import max_tokens_arg, positive_int, print_note, print_recording, spec_text
from app.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from app.bench.latency import Sample
    from app.cli.common import SubParsers
    from providers import Provider, Request

MAX_REQUESTS = 1000


def add_parser(sub: SubParsers) -> None:
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


def run(args: argparse.Namespace) -> int:
    import asyncio  # not at module level: about 100 ms, and --help never runs anything

    from app.bench.latency import DEFAULT_PROMPT, BenchResult, bench_summary
    from app.calls.outbound import outbound
    from app.config.load import load_config
    from app.history.recording import RunRecorder
    from app.run.options import RouteOptions
    from app.run.providers import ProviderResolver
    from providers import Request

    if args.bench_kind != "latency":
        raise UsageError("say what to measure: driftcheck bench latency -p SPEC")
    if args.n > MAX_REQUESTS:
        raise UsageError(f"-n {args.n}: at most {MAX_REQUESTS} requests per bench")
    prompt = args.prompt or DEFAULT_PROMPT
    if not prompt.strip():
        raise UsageError("--prompt is empty")
    resolver = ProviderResolver(load_config(), notify=print_note)
    # Without --fallback a bench measures the provider alone, whatever the config's fallback.
    route = RouteOptions(fallback=args.fallback or [], hedge_after=args.hedge_after)
    provider = resolver.provider(args.provider, route=route, max_tokens=args.max_tokens)
    recorder = RunRecorder.start(
        "bench",
        input_ref="(bench latency)",
        input_sha256=None,
        providers=[provider.spec],
        enabled=not args.no_history,
        notify=print_note,
    )
    sent = outbound(prompt, [provider], allow=False, label="--prompt", notify=print_note).text
    request = Request.ask(sent, max_tokens=args.max_tokens)
    result = BenchResult(provider.spec, hedge_after=args.hedge_after)
    try:
        result.samples = asyncio.run(measure(recorder.recorded(provider), request, args))
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    output = result.output()
    data = output.public()
    status = "ok" if output.ok else "failed"
    # History keeps it with its task first, as every stored result has (schema history).
    stored = output.model_copy(update={"task": "bench"}).public()
    recording = recorder.finish(status=status, summary=bench_summary(data), result=stored)
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        from app.render.bench import print_bench
        from app.render.console import SafeConsole

        totals = [s.total_s for s in result.samples if s.ok and s.total_s is not None]
        print_bench(SafeConsole(highlight=False), data, totals)
    print_recording(recording)
    return ExitCode.OK if data["ok"] else ExitCode.PROVIDER


async def measure(provider: Provider, request: Request, args: argparse.Namespace) -> list[Sample]:
    """The warm-up, then the timed requests, with a progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.bench.latency import run_bench
    from app.render.console import SafeConsole

    with Progress(
        TextColumn("[dim]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=SafeConsole(stderr=True),
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
