"""The `driftcheck` command line: the parser, and `main(argv)`, the one entry point.

Each command is a module of this package with `add_parser(sub)` and `run(args) -> int`;
commands are thin: parse, call the run builder (app.run) or the domain, render
(app.render), exit. Every module beyond argparse is imported inside the command that
needs it, so `driftcheck --help` stays fast and never loads an SDK. An error reaching
`main` is one line on stderr and the exit code `app.errors.exit_code_for` gives it (see
docs/architecture.md).
"""

from __future__ import annotations

import argparse

from app import __version__
from app.cli import ask, batches, bench, compare, config, history, providers, review, schema, triage
from app.cli import eval as eval_command  # not to shadow the builtin
from app.cli.common import fail, interactive
from app.errors import DriftcheckError, ExitCode, error_line, exit_code_for

# In the order `driftcheck --help` lists them.
COMMANDS = {
    "providers": providers,
    "ask": ask,
    "review": review,
    "triage": triage,
    "compare": compare,
    "bench": bench,
    "eval": eval_command,
    "batches": batches,
    "config": config,
    "history": history,
    "schema": schema,
}


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
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if interactive():
            from app.tui.app import run_tui

            return run_tui()
        parser.print_help()
        return ExitCode.OK
    from app.render.terminal import terminal_streams
    from providers.errors import ProviderError

    with terminal_streams():  # nothing a provider or a file says is obeyed by the terminal
        try:
            return int(COMMANDS[args.command].run(args))
        except (DriftcheckError, ProviderError) as exc:  # one line, and THE exit code for it
            fail(error_line(exc))
            return exit_code_for(exc)
        except KeyboardInterrupt:
            fail("cancelled")
            return ExitCode.CANCELLED
        except BrokenPipeError:  # e.g. `driftcheck ask ... | head -1`
            return ExitCode.OK
