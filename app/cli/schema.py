"""`driftcheck schema NAME`: the JSON Schema of a public output (or of the config file),
generated from the pydantic model the domain builds that output with, so the schema and
the output cannot drift apart. The models are imported here, inside `run`, never on the
path of `--help`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.errors import ExitCode

if TYPE_CHECKING:
    from app.cli.common import SubParsers

# NAME -> (module, model): what each name describes.
SCHEMAS = {
    "review": ("app.review.contract", "AnyReviewOutput"),
    "triage": ("app.triage.contract", "TriageOutput"),
    "compare": ("app.compare.contract", "CompareOutput"),
    "eval": ("app.eval.contract", "EvalReport"),
    "bench": ("app.bench.contract", "BenchOutput"),
    "history": ("app.eval.contract", "StoredResult"),
    "history-list": ("app.history.contract", "HistoryList"),
    "history-show": ("app.history.contract", "StoredRun"),
    "history-diff": ("app.compare.contract", "HistoryDiff"),
    "config": ("app.config.model", "ConfigFile"),
    "ask": ("app.ask", "AskOutput"),
    "providers": ("app.run.provider_status", "ProvidersOutput"),
    "batches": ("app.history.contract", "BatchesList"),
}
DESCRIPTIONS = {
    "review": "review --format json",
    "triage": "triage --format json",
    "compare": "compare --format json",
    "eval": "eval --format json",
    "bench": "bench latency --format json",
    "history": "history export --format json: the stored result of any run (by its task)",
    "history-list": "history list --format json",
    "history-show": "history show --format json",
    "history-diff": "history diff --format json",
    "config": "the config file, config.toml",
    "ask": "ask --format json",
    "providers": "providers --format json",
    "batches": "batches --format json",
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def add_parser(sub: SubParsers) -> None:
    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of an output or of the config file",
        description="Print the JSON Schema (draft 2020-12) of a public output: "
        + "; ".join(f"{name} ({what})" for name, what in DESCRIPTIONS.items())
        + ".",
    )
    schema.add_argument("name", metavar="NAME", help=", ".join(SCHEMAS))


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema of output NAME; UsageError for a name that is not one."""
    import importlib

    from pydantic import TypeAdapter

    from app.errors import UsageError

    if name not in SCHEMAS:
        raise UsageError(f"no schema named {name!r}; the names are {', '.join(SCHEMAS)}")
    module, attribute = SCHEMAS[name]
    model = getattr(importlib.import_module(module), attribute)
    schema: dict[str, Any] = TypeAdapter(model).json_schema()
    return {"$schema": DIALECT, **schema}


def run(args: argparse.Namespace) -> int:
    from app.render.terminal import json_text

    print(json_text(schema_of(args.name)))
    return ExitCode.OK
