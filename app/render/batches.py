"""The batches of `driftcheck batches`, as a table."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def print_batches(console: Console, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(
            "No open batches. `eval --batch` and `compare --batch` submit them; `--all` lists collected ones too."
        )
        return
    table = Table()
    for name in ("batch", "models", "run", "state", "items", "submitted"):
        table.add_column(name, overflow="fold", no_wrap=name in ("batch", "run"))
    for row in rows:
        ago = time.time() - (row["stored_at"] or time.time())
        table.add_row(
            escape(str(row["batch_id"])),
            escape(", ".join(row.get("models") or [str(row["provider"])])),
            escape(str(row["run_id"])),
            escape(str(row["state"])),
            str(row["items"]),
            f"{ago / 60:.0f} min ago",
        )
    console.print(table)
    console.print(
        "Cancel one with `driftcheck batches --cancel BATCH_ID`; collect with `driftcheck history resume RUN`."
    )
