"""The history screen: past runs with task, providers, status, score, cost and latency,
and under the table the provenance of the highlighted run's calls (who served each one,
with what, and hashes of what was sent). Enter opens a run as it was; space marks runs
and `d` compares the two marked."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from app.tui.dialogs import DocumentScreen
from app.tui.runs import shown


def run_markdown(run: dict[str, Any]) -> str:
    """A stored run as Markdown, rebuilt from what was recorded at the time."""
    record = run.get("result")
    head = f"# {run['id']} · {run['task']} · {run['status']}\n\n`{run.get('input_ref') or ''}`\n\n"
    if record is None:
        texts = [c for c in run["calls"] if c.get("text")]
        body = "No result was recorded." + "".join(
            f"\n\n**{c['role']} · {c['provider']}:{c['model']} · {c['status']}**\n\n```\n{c['text']}\n```"
            for c in texts
        )
        return head + body
    if record.get("task") == "review":
        from app.render.markdown import review_markdown
        from app.review.stored import change_from_json, is_change_record, outcome_from_json

        if is_change_record(record):
            from app.render.change import change_markdown

            return head + change_markdown(change_from_json(record))
        return head + review_markdown(outcome_from_json(record))
    if record.get("task") == "compare":
        from app.render.compare import compare_markdown

        return head + compare_markdown(record)
    from app.render.terminal import json_text

    return head + "```json\n" + json_text(record.get("result")) + "\n```\n"


def run_screen(run: dict[str, Any]) -> Screen[None]:
    """A finished review of one file, or a review compare, opens in its own screen, as it
    was; anything else (a review of a change, a triage, a failed run, an ask) as a document."""
    record = run.get("result") or {}
    path = run.get("input_ref") or ""
    if record.get("task") == "review" and record.get("result") and "files" not in record:
        from app.tui.review_screen import ReviewScreen

        return ReviewScreen(path, f"{record['provider']}:{record['model']}", stored=record)
    if record.get("task") == "compare" and record.get("compared") == "review":
        from app.tui.compare_screen import CompareScreen

        a, b = record["a"], record["b"]
        return CompareScreen(path, f"{a['provider']}:{a['model']}", f"{b['provider']}:{b['model']}", stored=record)
    return DocumentScreen(run_markdown(run))


PROVENANCE_SHOWN = 3  # calls whose provenance is listed under the table


def provenance_lines(run: dict[str, Any]) -> str:
    """The provenance of a run's calls, one line each (as markup: the values are escaped)."""
    from rich.markup import escape

    from app.render.history import provenance_text

    calls = run.get("calls") or []
    lines = [
        f"call {call['seq']} · {escape(call['role'])} · {escape(call['provider'])}:{escape(call['model'])}: "
        + escape(provenance_text(call.get("provenance")) or "no provenance recorded (a run from before it was kept)")
        for call in calls[:PROVENANCE_SHOWN]
    ]
    if len(calls) > PROVENANCE_SHOWN:
        lines.append(f"… and {len(calls) - PROVENANCE_SHOWN} more call(s): enter opens the run")
    return "\n".join(lines) or "no calls recorded"


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open", "Open", id="history.open", priority=True),
        Binding("space", "mark", "Mark", id="history.mark"),
        Binding("d", "diff", "Compare marked", id="history.diff"),
        Binding("f5", "refresh", "Refresh", id="history.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.marked: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-note")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="history-provenance")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "history"
        table = self.query_one(DataTable)
        for column in ("", "id", "when", "task", "input", "providers", "status", "score", "cost", "latency"):
            table.add_column(column, key=column or "mark")
        self.action_refresh()

    def _store(self) -> Any:
        from app.history.store import Store

        return Store.open(for_reading=True).store

    def action_refresh(self) -> None:
        from app.errors import StoreError
        from app.render.history import cost_text, short_ref

        table = self.query_one(DataTable)
        table.clear()
        try:
            store = self._store()
        except StoreError as exc:
            self.query_one("#history-note", Static).update(f"[red]{exc}[/]")
            return
        try:
            store.mark_dead_runs()
            self.runs = shown(store.list_runs(limit=200))
            where = store.path
        finally:
            store.close()
        for run in self.runs:
            latency = "" if run["latency_ms"] is None else f"{run['latency_ms'] / 1000:.1f} s"
            table.add_row(
                "●" if run["id"] in self.marked else "",
                run["id"],
                time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created_at"])),
                run["task"],
                short_ref(run["input_ref"]),
                run["providers"],
                run["status"],
                "" if run["score"] is None else str(run["score"]),
                cost_text(run["cost_usd"], run["calls_without_cost"] or 0),
                latency,
                key=run["id"],
            )
        self.query_one("#history-note", Static).update(
            f"{len(self.runs)} run(s) in {where} · enter opens · space marks · d compares two marked reviews"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the provenance of the highlighted run's calls."""
        from rich.markup import escape

        from app.errors import StoreError

        panel = self.query_one("#history-provenance", Static)
        try:
            run = self._get(event.row_key.value) if event.row_key.value else None
        except StoreError as exc:  # the database went away since the list was read
            panel.update(f"[red]{escape(str(exc))}[/]")
            return
        panel.update(provenance_lines(run) if run else "")

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row is None or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row]

    def _get(self, run_id: str) -> dict[str, Any] | None:
        store = self._store()
        try:
            run: dict[str, Any] | None = shown(store.get_run(run_id))  # as recorded, control characters made visible
            return run
        finally:
            store.close()

    def action_open(self) -> None:
        current = self._current()
        if current is not None:
            run = self._get(current["id"])
            if run is not None:
                self.app.push_screen(run_screen(run))

    def action_mark(self) -> None:
        current = self._current()
        if current is None:
            return
        run_id = current["id"]
        self.marked = [m for m in self.marked if m != run_id] if run_id in self.marked else [*self.marked, run_id][-2:]
        table = self.query_one(DataTable)
        for run in self.runs:
            table.update_cell(run["id"], "mark", "●" if run["id"] in self.marked else "")

    def action_diff(self) -> None:
        from app.compare.report import compare_report
        from app.render.compare import compare_markdown

        if len(self.marked) != 2:
            self.notify("Mark two runs with space first.", severity="warning")
            return
        runs = [self._get(run_id) for run_id in self.marked]
        first, second = (r["result"] if r else None for r in runs)
        if (
            first is None
            or second is None
            or first.get("task") not in ("review", "triage")
            or second.get("task") != first["task"]
        ):
            self.notify("Compare two finished reviews, or two finished triages.", severity="warning")
            return
        report = compare_report(first["task"], {"a": [first], "b": [second]})
        self.app.push_screen(DocumentScreen(f"# {self.marked[0]} → {self.marked[1]}\n\n" + compare_markdown(report)))
