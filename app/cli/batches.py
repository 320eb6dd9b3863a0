"""`driftcheck batches`: the provider batches evals, compares and reviews submitted and have not
collected yet, and cancelling one (what it had not run is run again when the run resumes)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from app.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    batches = sub.add_parser("batches", help="list the open provider batches of --batch runs, or cancel one")
    batches.add_argument("--all", action="store_true", help="also list batches already collected")
    batches.add_argument("--cancel", metavar="BATCH_ID", help="cancel this batch at its provider")
    batches.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from app.calls.batching import cancel_batch
    from app.cli.common import print_note, say
    from app.history.batches import batches_in_history

    rows = batches_in_history(include_collected=args.all or bool(args.cancel))
    if args.cancel:
        row = next((r for r in reversed(rows) if r["batch_id"] == args.cancel), None)
        if row is None:
            raise UsageError(f"batch {args.cancel!r} is not in history (see `driftcheck batches --all`)")
        if row["state"] != "submitted":
            raise UsageError(f"batch {args.cancel} was already collected by run {row['run_id']}: nothing to cancel")
        from app.config.load import load_config
        from app.run.providers import ProviderResolver

        provider = ProviderResolver(load_config(), notify=print_note).exactly(row["provider"])
        status = asyncio.run(cancel_batch(provider, row))
        from app.render.terminal import neutralise

        say(
            neutralise(
                f"cancelled batch {status.id} ({row['provider']}): {status.state}; what it had not run is run "
                f"again by: driftcheck history resume {row['run_id']}"
            )
        )
        return ExitCode.OK
    if args.format == "json":
        from app.history.contract import BatchesList

        print(json.dumps(BatchesList.model_validate({"batches": rows}).public(), indent=2))
        return ExitCode.OK
    from app.render.batches import print_batches
    from app.render.console import SafeConsole

    print_batches(SafeConsole(), rows)
    return ExitCode.OK
