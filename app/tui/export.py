"""Export from the TUI: the result a screen shows, as JSON, Markdown or SARIF, to a file;
and the text of one finding or action, for the clipboard.

A screen offers what it shows through attributes the task screens already keep: a
compare's `report`, a review's `result`, or `last_result` (the last run's outcome,
kept by `TaskScreen.close_sides`). The file is written atomically and read back before
the screen says it was saved, so it never claims a file that is not there."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.errors import UsageError

SUFFIX = {"json": "json", "markdown": "md", "sarif": "sarif"}


def shown_result(screen: Any) -> dict[str, Any] | None:
    """The public JSON of what `screen` shows: a compare report, a review or a triage."""
    for name in ("report", "result", "last_result"):
        value = getattr(screen, name, None)
        if isinstance(value, dict) and value:
            return value
    return None


def formats_for(record: dict[str, Any]) -> list[str]:
    """The formats a result can be written in: SARIF is for reviews, Markdown for reviews,
    triages and compares; every result has its JSON."""
    task = record.get("task")
    if task == "review":
        return ["json", "markdown", "sarif"]
    if task in ("compare", "triage"):
        return ["json", "markdown"]
    return ["json"]


def export_text(record: dict[str, Any], fmt: str) -> str:
    if fmt not in formats_for(record):
        raise UsageError(
            f"a {record.get('task')} result cannot be written as {fmt}; it can as {', '.join(formats_for(record))}"
        )
    if fmt == "json":
        from app.render.terminal import json_text

        return json_text(record) + "\n"
    if record.get("task") == "compare":
        from app.render.compare import compare_markdown

        return compare_markdown(record)
    if record.get("task") == "triage":
        from app.render.triage import triage_markdown

        return triage_markdown(record)
    from app.render.review import review_output
    from app.review.stored import outcome_from_json

    return review_output(outcome_from_json(record), fmt)


def default_path(record: dict[str, Any], fmt: str, folder: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"driftcheck-{record.get('task', 'result')}-{stamp}.{SUFFIX[fmt]}"


def write_export(record: dict[str, Any], fmt: str, target: str) -> Path:
    """Write the result to `target` (a file, or a directory to put a named file in) and
    return the file's absolute path once it is there with the text written."""
    from app.source.files import write_atomically

    text = export_text(record, fmt)
    path = Path(target).expanduser()
    if path.is_dir():
        path = default_path(record, fmt, path)
    path = path.absolute()
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        write_atomically(path, text)
        written = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    if written != text:
        raise UsageError(f"{path} does not hold what was written (another program changed it)")
    return path


def item_text(item: Any) -> str:
    """A finding (or a triage action) as plain text, for the clipboard."""
    if hasattr(item, "severity"):
        lines = f"L{item.line_start}" + (f"-{item.line_end}" if item.line_end != item.line_start else "")
        return f"{item.severity.upper()} {item.id} {lines} {item.title}\n{item.explanation}\nFix: {item.suggestion}\n"
    number = getattr(item, "priority", None)
    return (f"{number}. " if number is not None else "") + f"{item.action} ({item.owner}, {item.timeline})\n"
