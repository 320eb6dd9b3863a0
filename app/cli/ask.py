"""`driftcheck ask PROMPT`: stream a plain completion and print its metrics."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.common import (
    add_route_options,
    fail,
    max_tokens_arg,
    print_note,
    print_recording,
    print_route_event,
    retries_arg,
    spec_text,
)
from app.errors import ExitCode, UsageError, exit_code_for

if TYPE_CHECKING:
    from app.cli.common import SubParsers
    from providers import Provider, Request, Response
    from providers.errors import ProviderError


def add_parser(sub: SubParsers) -> None:
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
        "--retries", type=retries_arg, metavar="N", help="retries on transient failures (default from config, else 2)"
    )
    ask.add_argument("--format", choices=("text", "json"), default="text")
    ask.add_argument(
        "--allow-secrets",
        action="store_true",
        help="send text that looks like a secret as it is (default: redacted for remote providers)",
    )
    ask.add_argument("--no-history", action="store_true", help="do not record this run in history")
    add_route_options(ask)


def read_prompt(text: str) -> str:
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


def run(args: argparse.Namespace) -> int:
    import asyncio
    import hashlib
    import json

    from app.ask import ask_failed, ask_json
    from app.calls.metrics import metrics_line
    from app.calls.outbound import outbound
    from app.calls.provenance import labelled
    from app.cli.common import route_options
    from app.config.load import load_config
    from app.history.recording import RunRecorder
    from app.run.providers import ProviderResolver
    from providers import Request

    prompt = read_prompt(args.prompt)
    resolver = ProviderResolver(load_config(), retries=args.retries, notify=print_note)
    provider = resolver.provider(args.provider, route=route_options(args), max_tokens=args.max_tokens)
    prompt = outbound(prompt, [provider], allow=args.allow_secrets, label="the prompt", notify=print_note).text
    system = (
        outbound(args.system, [provider], allow=args.allow_secrets, label="the system prompt", notify=print_note).text
        if args.system
        else None
    )
    request = labelled(
        Request.ask(prompt, system=system, max_tokens=args.max_tokens),
        templates=(),
        input_text=f"{system or ''}\n{prompt}",
    )
    live = args.format == "text"
    # The prompt is referenced by its hash; the answer is what history keeps.
    recorder = RunRecorder.start(
        "ask",
        input_ref="(prompt)",
        input_sha256=hashlib.sha256(prompt.encode()).hexdigest(),
        providers=[provider.spec],
        enabled=not args.no_history,
        notify=print_note,
    )
    try:
        response, error, partial = asyncio.run(stream_answer(recorder.recorded(provider), request, live=live))
    except KeyboardInterrupt:
        recorder.finish(status="cancelled")
        raise
    result = ask_json(provider, response, error, partial)
    recording = recorder.finish(status="failed" if ask_failed(response, error) else "ok", result=result)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    elif response is not None:
        print_checks(response)
        print(metrics_line(response), file=sys.stderr)
    print_recording(recording, quiet_when_recorded=True)
    if error is not None:
        if live:
            fail(error.one_line())
        return exit_code_for(error)
    assert response is not None
    return ExitCode.PROVIDER if ask_failed(response, None) else ExitCode.OK


async def stream_answer(
    provider: Provider, request: Request, *, live: bool
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


def print_checks(response: Response) -> None:
    for check in response.checks:
        print(
            f"driftcheck: {check.severity}: {check.name}: {check.message}. {check.diagnosis}",
            file=sys.stderr,
            flush=True,
        )
