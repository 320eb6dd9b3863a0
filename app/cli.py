"""The `driftcheck` command line.

Every module beyond argparse is imported inside the command that needs it, so
`driftcheck --help` stays fast and never loads an SDK. Exit codes follow DESIGN.md:
0 done, 1 findings at or above --fail-on, 2 bad usage or input, 3 provider failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from app import __version__
from app.errors import DriftcheckError, ExitCode, UsageError, error_line, exit_code_for

if TYPE_CHECKING:
    from app.notes import Note
    from providers import Provider, Response
    from providers.errors import ProviderError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftcheck",
        description="Review code and triage incidents with LLMs, and see the drift a provider "
        "switch would cause before you make it.",
        epilog="A SPEC is provider:model, e.g. anthropic:claude-haiku-4-5, openai:gpt-5.4-mini, "
        "or NAME:model for an OpenAI-compatible endpoint in the config.",
    )
    parser.add_argument("--version", action="version", version=f"driftcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    providers = sub.add_parser("providers", help="list provider kinds, models, prices and whether each is usable now")
    providers.add_argument("--format", choices=("text", "json"), default="text")
    providers.add_argument("--no-check", action="store_true", help="do not test whether endpoints are reachable")

    ask = sub.add_parser("ask", help="stream a plain completion and print its metrics")
    ask.add_argument("prompt", help="the prompt, or - to read it from standard input")
    ask.add_argument(
        "-p",
        "--provider",
        type=spec_text,
        metavar="SPEC",
        help="provider:model (default: LLM_PROVIDER, config, or a key in the environment)",
    )
    ask.add_argument("--system", metavar="TEXT", help="a system prompt")
    ask.add_argument(
        "--max-tokens",
        type=max_tokens_arg,
        default=1024,
        metavar="N",
        help="output token limit, sent as the parameter the model takes (default 1024)",
    )
    ask.add_argument(
        "--retries", type=_retries, metavar="N", help="retries on transient failures (default from config, else 2)"
    )
    ask.add_argument("--format", choices=("text", "json"), default="text")

    review = sub.add_parser(
        "review",
        help="review one source file: findings with lines, severity and a score",
        description="Review one source file. Findings stream as they arrive; the exit code is 1 when "
        "a finding is at or above --fail-on, 2 for bad input, 3 when the provider failed.",
    )
    review.add_argument("file", help="the file to review")
    review.add_argument(
        "-p",
        "--provider",
        type=spec_text,
        metavar="SPEC",
        help="provider:model (default: LLM_PROVIDER, config, or a key in the environment)",
    )
    review.add_argument(
        "--format",
        choices=("text", "json", "markdown", "sarif"),
        default="text",
        help="text streams findings as they arrive (default); json follows the public contract; "
        "sarif is for code scanning",
    )
    review.add_argument(
        "--out", metavar="PATH", help="write the formatted result to PATH (text still streams to the terminal)"
    )
    review.add_argument(
        "--fail-on",
        choices=(*SEVERITY_CHOICES, "none"),
        default="none",
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above SEVERITY: critical, high, medium, low, info (default none)",
    )
    review.add_argument(
        "--key", metavar="PATH", help="answer key to score against (default: FILE.key.toml when present)"
    )
    review.add_argument(
        "--max-tokens",
        type=max_tokens_arg,
        metavar="N",
        help="output token limit per request (default 4096; 16384 for reasoning models)",
    )
    review.add_argument(
        "--chunk-tokens",
        type=_positive_int,
        metavar="N",
        help="source tokens per request before the file is split at symbol boundaries (default 12000)",
    )
    review.add_argument(
        "--max-requests",
        type=_positive_int,
        default=25,
        metavar="N",
        help="refuse a file that needs more than N requests (default 25)",
    )
    review.add_argument(
        "--retries", type=_retries, metavar="N", help="retries on transient failures (default from config, else 2)"
    )
    review.add_argument(
        "--allow-secrets",
        action="store_true",
        help="send lines that look like secrets as they are (default: redacted for remote providers)",
    )
    ask.add_argument(
        "--allow-secrets",
        action="store_true",
        help="send text that looks like a secret as it is (default: redacted for remote providers)",
    )
    for command in (ask, review):
        command.add_argument("--no-history", action="store_true", help="do not record this run in history")
        add_route_options(command)
    review.add_argument("--no-tui", action="store_true", help="print to the terminal instead of opening the TUI")

    from app.compare_cli import add_parser as add_compare_parser
    from app.history_cli import add_parser as add_history_parser
    from app.triage_cli import add_parser as add_triage_parser

    add_triage_parser(sub, _positive_int, _retries)
    add_compare_parser(sub, _positive_int, _retries)
    from app.bench_cli import add_parser as add_bench_parser
    from app.config_cli import add_parser as add_config_parser

    add_bench_parser(sub, _positive_int)
    from app.eval_cli import add_parser as add_eval_parser

    add_eval_parser(sub, _positive_int, _retries)
    add_config_parser(sub)
    add_history_parser(sub)
    return parser


SEVERITY_CHOICES = ("critical", "high", "medium", "low", "info")


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def max_tokens_arg(text: str) -> int:
    """--max-tokens: a whole number no model would refuse as absurd (each model's own limit
    is checked once the provider is known, in resolve_provider)."""
    from providers.capabilities import OUTPUT_TOKENS_CEILING

    value = _positive_int(text)
    if value > OUTPUT_TOKENS_CEILING:
        raise argparse.ArgumentTypeError(
            f"{value:,} is more than any model writes in one answer (at most {OUTPUT_TOKENS_CEILING:,})"
        )
    return value


def bounded_int(top: int) -> Any:
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


def _retries(text: str) -> int:
    value = _positive_int(text) if text != "0" else 0
    if value > 10:
        raise argparse.ArgumentTypeError("at most 10")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if _interactive():
            from app.tui.app import run_tui

            return run_tui()
        parser.print_help()
        return ExitCode.OK
    handler = {"providers": cmd_providers, "ask": cmd_ask}.get(args.command) or _lazy_command(args.command)
    from app.render.terminal import terminal_streams

    with terminal_streams():  # nothing a provider or a file says is obeyed by the terminal
        from providers.errors import ProviderError

        try:
            return handler(args)
        except (DriftcheckError, ProviderError) as exc:  # one line, and THE exit code for it
            _fail(error_line(exc))
            return exit_code_for(exc)
        except KeyboardInterrupt:
            _fail("cancelled")
            return ExitCode.CANCELLED
        except BrokenPipeError:  # e.g. `driftcheck ask ... | head -1`
            return ExitCode.OK


# Commands whose module is imported only when they run, so `--help` stays fast.
_COMMAND_MODULES = {
    "review": ("app.review_cli", "run_review"),
    "triage": ("app.triage_cli", "run_triage"),
    "compare": ("app.compare_cli", "run_compare"),
    "history": ("app.history_cli", "cmd_history"),
    "config": ("app.config_cli", "cmd_config"),
    "bench": ("app.bench_cli", "run_bench_command"),
    "eval": ("app.eval_cli", "run_eval"),
}


def _lazy_command(name: str) -> Any:
    import importlib

    module, function = _COMMAND_MODULES[name]
    return getattr(importlib.import_module(module), function)


def _interactive() -> bool:
    """A person at a terminal: the TUI opens (unless --no-tui or another format was asked for)."""
    return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()


def use_tui(args: argparse.Namespace) -> bool:
    return (
        _interactive()
        and not getattr(args, "no_tui", False)
        and getattr(args, "format", "text") == "text"
        and not getattr(args, "out", None)
    )


def print_route_event(event: Any) -> None:
    """A retry, fallback, cooldown or hedge decision, on stderr; anything else is ignored."""
    from app.render.text import route_event_line

    line = route_event_line(event)
    if line:
        print(f"driftcheck: {line}", file=sys.stderr, flush=True)


def _fail(message: str) -> None:
    print(f"driftcheck: error: {message}", file=sys.stderr, flush=True)


def print_note(note: Note) -> None:
    """A note from the domain, on stderr, the moment it arrives."""
    label = "" if note.level == "info" else f"{note.level}: "
    print(f"driftcheck: {label}{note.text}", file=sys.stderr, flush=True)


def print_notes(notes: Iterable[Note]) -> None:
    for note in notes:
        print_note(note)


# --- driftcheck providers ------------------------------------------------------------------


def cmd_providers(args: argparse.Namespace) -> int:
    import json

    from app.provider_status import gather

    from app.config.load import load_config

    config = load_config()
    rows = gather(config.endpoints, check=not args.no_check, prices=config.prices)
    default, why = _default_choice(config)
    routes = {
        task: {
            "spec": r.spec,
            "fallback": r.fallback if r.fallback is not None else config.resilience.fallback,
            "hedge_after": r.hedge_after or config.resilience.hedge_after,
        }
        for task, r in config.routes.items()
    }
    health = _health(config)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "providers": [r.to_dict() for r in rows],
                    "default": default,
                    "default_reason": why,
                    "routes": routes,
                    "health": health,
                },
                indent=2,
            )
        )
        return ExitCode.OK

    from rich.table import Table

    from app.render.console import SafeConsole

    status = Table(title="Providers", title_justify="left")
    for column in ("provider", "key", "endpoint", "usable now"):
        status.add_column(column, overflow="fold")
    models = Table(title="Models and prices (USD per million tokens)", title_justify="left")
    for column, justify in (("SPEC", "left"), ("input", "right"), ("output", "right")):
        models.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        key = (
            "none needed"
            if row.key_env is None
            else f"{row.key_env} {'[green]set[/]' if row.key_present else '[red]not set[/]'}"
        )
        if row.kind == "local":
            usable = f"[green]yes[/]: {row.reach_detail}" if row.reachable else f"[red]no[/]: {row.reach_detail}"
        elif row.key_env and not row.key_present:
            usable = "[red]no[/]: key missing"
        elif row.usable is None:
            usable = "[dim]not checked[/]"
        else:
            usable = "[green]yes[/]" if row.usable else f"[red]no[/]: {row.reach_detail}"
        status.add_row(
            f"{row.name} [dim]({row.kind})[/]" if row.kind != row.name else row.name, key, row.base_url, usable
        )
        for m in row.models:
            models.add_row(
                f"{row.name}:{m.model}",
                f"${m.price.input_per_mtok:g}" if m.price else "unknown",
                f"${m.price.output_per_mtok:g}" if m.price else "unknown",
            )
        if not row.models:
            models.add_row(f"{row.name}:MODEL", "unknown", "unknown")
    console = SafeConsole()
    console.print(status)
    console.print(models)
    console.print(f"Without -p, driftcheck uses: [bold]{default or 'nothing'}[/] ({why})")
    if routes:
        table = Table(title="Routes (-p, --fallback and --hedge-after override them)", title_justify="left")
        for column in ("task", "SPEC", "fallback", "hedge after"):
            table.add_column(column)
        for task, r in routes.items():
            table.add_row(task, r["spec"], ", ".join(r["fallback"]) or "none", r["hedge_after"])
        console.print(table)
    if health:
        table = Table(title="Health (recent calls in history)", title_justify="left")
        for column, justify in (
            ("SPEC", "left"),
            ("calls", "right"),
            ("errors", "right"),
            ("first token p50", "right"),
            ("p95", "right"),
            ("state", "left"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for h in health:
            table.add_row(
                h["spec"],
                str(h["calls"]),
                "" if h["error_rate"] is None else f"{h['error_rate']:.0%}",
                "" if h["ttft_p50_ms"] is None else f"{h['ttft_p50_ms']:,} ms",
                "" if h["ttft_p95_ms"] is None else f"{h['ttft_p95_ms']:,} ms",
                h["state"],
            )
        console.print(table)
    return ExitCode.OK


def _health(config: Any) -> list[dict[str, Any]]:
    """Each provider's recent record, and whether a cooldown would skip it now."""
    from app.history.store import Store
    from app.errors import StoreError

    try:
        store = Store.open(for_reading=True).store
    except StoreError:
        return []
    try:
        health = store.provider_health()
    finally:
        store.close()
    for h in health:
        left = cooldown_left(h, config.resilience)
        h["state"] = (
            f"cooling down ({left:.0f} s left)"
            if left
            else (f"{h['failures_in_a_row']} failure(s) in a row" if h["failures_in_a_row"] else "ok")
        )
    return health


def cooldown_left(record: dict[str, Any], resilience: Any) -> float:
    """Seconds of cooldown still running after the failures history records (0: none)."""
    import time

    if record["failures_in_a_row"] < resilience.cooldown_failures:
        return 0.0
    return max(0.0, resilience.cooldown_s - (time.time() - (record["last_call_at"] or 0)))


def _default_choice(config: Any) -> tuple[str | None, str]:
    """Which SPEC a command without -p would use, and why, for `providers` to show."""
    from providers.errors import ConfigurationError
    from providers.spec import default_choice

    try:
        return default_choice(config_default=config.default, allow_local=config.local.use_when_unconfigured)
    except ConfigurationError as err:
        return None, err.hint or err.message


# --- driftcheck ask --------------------------------------------------------------------------


def _read_prompt(text: str) -> str:
    if text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("ask - reads the prompt from standard input; pipe it in, or pass it as an argument")
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    if "\x00" in text:
        raise UsageError("the prompt contains NUL bytes; it looks like binary data, not text")
    if not text.strip():
        raise UsageError("the prompt is empty")
    return text


_demo_note_shown = False


def resolve_provider(
    spec: str | None,
    config: Any,
    *,
    retries: int | None = None,
    task: str | None = None,
    fallback: list[str] | None = None,
    hedge_after: str | None = None,
    max_tokens: int | None = None,
) -> Provider:
    """The provider for a command: -p, else the task's route, else LLM_PROVIDER, the config
    default or a key in the environment — wrapped in its fallback chain and hedging when
    any is configured (--fallback and --hedge-after override the route and [resilience]).
    A `max_tokens` that a provider of the chain cannot take is refused here, before
    anything is sent."""
    from dataclasses import replace

    from providers import build_provider, default_spec

    route = config.routes.get(task) if task and not spec else None
    chosen = (
        spec
        or (route.spec if route else None)
        or default_spec(config_default=config.default, allow_local=config.local.use_when_unconfigured)
    )
    retry = config.retry if retries is None else replace(config.retry, retries=retries)

    def build(one: str) -> Provider:
        return build_provider(
            one,
            endpoints=config.endpoints,
            timeouts=config.timeouts,
            retry=retry,
            price_overrides=config.prices,
            local=config.local,
        )

    provider = build(chosen)
    check_max_tokens(provider, max_tokens)
    global _demo_note_shown
    if getattr(getattr(provider, "model_ref", None), "bundled", False) and not _demo_note_shown:
        from providers.local import DEMO_GRADE_NOTE

        _demo_note_shown = True  # once per command, however many roles the bundled model plays
        print(f"driftcheck: note: {DEMO_GRADE_NOTE}", file=sys.stderr, flush=True)
    resilience = config.resilience
    chain_specs = (
        fallback
        if fallback is not None
        else (route.fallback if route is not None and route.fallback is not None else resilience.fallback)
    )
    hedge_text = (
        hedge_after
        or (route.hedge_after if route is not None and route.hedge_after else None)
        or resilience.hedge_after
    )
    from providers.resilience import parse_hedge_after

    try:
        hedge = parse_hedge_after(hedge_text, resilience.hedge_budget)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    backups = [build(s) for s in dict.fromkeys(chain_specs) if s != chosen]
    for backup in backups:
        check_max_tokens(backup, max_tokens)
    if hedge is not None and not backups and provider.kind == "local":
        hedge = None  # a second request to an in-process model only queues behind the first
    if not backups and hedge is None:
        return provider
    if hedge is not None and not backups:
        backups = [build(chosen)]  # hedge to a second request to the same provider
    from providers.health import REGISTRY, CooldownPolicy
    from providers.resilience import ResilientProvider

    chain = [provider, *backups]
    _seed_health(REGISTRY, [p.spec for p in chain], resilience)
    return ResilientProvider(
        chain,
        hedge=hedge,
        registry=REGISTRY,
        cooldown=CooldownPolicy(resilience.cooldown_failures, resilience.cooldown_s),
    )


def check_max_tokens(provider: Provider, max_tokens: int | None) -> None:
    """Refuse an output limit the model cannot take (UsageError), rather than send it."""
    problem = None if max_tokens is None else provider.caps.output_limit_problem(max_tokens)
    if problem:
        raise UsageError(f"--max-tokens {max_tokens:,} is {problem} for {provider.spec}; lower --max-tokens")


def _seed_health(registry: Any, specs: list[str], resilience: Any) -> None:
    """A fresh process learns each provider's recent record from history: its time to
    first token (so p95 hedging works from the first request) and a cooldown still
    running from failures in earlier commands. History is a record, never a gate."""
    from app.history.store import Store
    from app.errors import StoreError

    try:
        store = Store.open(for_reading=True).store
    except StoreError:
        return
    try:
        for spec in dict.fromkeys(specs):
            health = registry.get(spec)
            record = None if health.ttfts else store.provider_record(spec)
            if record is None:
                continue
            registry.seed(spec, record["ttfts_s"], record["outcomes"])
            health.consecutive_failures = record["failures_in_a_row"]
            left = cooldown_left(record, resilience)
            if left:
                health.cooldown_until = registry.clock() + left
    finally:
        store.close()


def cmd_ask(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from app.config.load import load_config
    from providers import Request

    prompt = _read_prompt(args.prompt)
    config = load_config()
    provider = resolve_provider(
        args.provider,
        config,
        retries=args.retries,
        fallback=args.fallback,
        hedge_after=args.hedge_after,
        max_tokens=args.max_tokens,
    )
    from app.calls.outbound import outbound

    prompt = outbound(prompt, [provider], allow=args.allow_secrets, label="the prompt").text
    system = (
        outbound(args.system, [provider], allow=args.allow_secrets, label="the system prompt").text
        if args.system
        else None
    )
    request = Request.ask(prompt, system=system, max_tokens=args.max_tokens)
    live = args.format == "text"
    import hashlib

    from app.history.recording import RunRecorder, print_recording

    # The prompt is referenced by its hash; the answer is what history keeps.
    recorder = RunRecorder.start(
        "ask",
        input_ref="(prompt)",
        input_sha256=hashlib.sha256(prompt.encode()).hexdigest(),
        providers=[provider.spec],
        enabled=not args.no_history,
    )
    try:
        response, error, partial = asyncio.run(_run_ask(recorder.recorded(provider), request, live=live))
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    failed = error is not None or (response is not None and any(c.severity == "error" for c in response.checks))
    recording = recorder.finish(
        status="failed" if failed else "ok", result=_ask_result(provider, response, error, partial)
    )

    if args.format == "json":
        print(json.dumps(_ask_result(provider, response, error, partial), indent=2))
    elif response is not None:
        _print_checks(response, sys.stderr)
        print(_metrics(response), file=sys.stderr)
    print_recording(recording, quiet_when_recorded=True)
    if error is not None:
        if live:
            _fail(error.one_line())
        return exit_code_for(error)
    assert response is not None
    return ExitCode.PROVIDER if any(c.severity == "error" for c in response.checks) else ExitCode.OK


async def _run_ask(
    provider: Provider, request: Any, *, live: bool
) -> tuple[Response | None, ProviderError | None, str]:
    """Stream the call; in text mode write each delta as it arrives. Never raises a ProviderError."""
    from providers import Completed, TextDelta
    from providers.errors import InterruptedStreamError, ProviderError

    out = sys.stdout
    response = None
    try:
        async for event in provider.stream(request):
            if type(event) is TextDelta:
                if live:
                    out.write(event.text)
                    out.flush()
            elif isinstance(event, Completed):
                response = event.response
            else:
                # Retries and route decisions happen before any text was shown: no newline needed.
                print_route_event(event)
    except InterruptedStreamError as err:
        if live:
            out.write("\n")
        return None, err, err.partial_text
    except ProviderError as err:
        return None, err, ""
    finally:
        await provider.aclose()
    if live:
        out.write("\n")
        out.flush()
    return response, None, ""


def _ask_result(
    provider: Provider, response: Response | None, error: ProviderError | None, partial: str
) -> dict[str, Any]:
    from app.calls.metrics import metrics_dict

    failed_check = response is not None and any(c.severity == "error" for c in response.checks)
    return {
        "task": "ask",
        "provider": provider.name,
        "model": provider.model,
        "status": "failed" if error is not None or failed_check else "ok",
        "error": error.to_dict()
        if error is not None
        else (
            {
                "kind": next(c.name for c in response.checks if c.severity == "error"),
                "message": next(c.message for c in response.checks if c.severity == "error"),
            }
            if failed_check and response is not None
            else None
        ),
        "result": {
            "text": response.text if response is not None else partial,
            "finish_reason": response.finish_reason if response is not None else None,
            "request_id": response.request_id
            if response is not None
            else (error.request_id if error is not None else None),
        },
        "metrics": metrics_dict(response, retries=error.retries if error is not None else 0),
        "checks": [c.to_dict() for c in response.checks] if response is not None else [],
    }


def _print_checks(response: Response, stream: TextIO) -> None:
    for check in response.checks:
        print(
            f"driftcheck: {check.severity}: {check.name}: {check.message}. {check.diagnosis}", file=stream, flush=True
        )


def _metrics(response: Response) -> str:
    from app.calls.metrics import metrics_line

    return metrics_line(response)
