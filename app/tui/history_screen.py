"""The history screen: past runs with task, providers, status, score, cost and latency,
and under the table the provenance of the highlighted run's calls (who served each one,
with what, and hashes of what was sent). Enter opens a run as it was; space marks runs
and `d` compares the two marked.

The columns are those of `driftcheck history list` (app.render.history.RUN_COLUMNS),
chosen for the screen's width by the same rule: at 80 columns the id, time, task,
status, score, cost and latency stay, and the input and providers come back as the
screen widens."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from app.tui.dialogs import DocumentScreen
from app.tui.runs import shown
from app.tui.triage_screen import TriageScreen

MARK = "●"


def _streamed_items(mode: str, texts: list[str]) -> list[Any]:
    """The actions (or follow-ups) a triage had streamed before it stopped, read back from
    the text its calls received: the same items its screen showed."""
    from app.calls.partial import ListStreamer
    from app.triage.model import streamed_list

    field, model = streamed_list(mode)
    for text in texts:
        streamer = ListStreamer(field, model)
        items = streamer.feed(text)
        if items:
            return items
    return []


def _not_finished_markdown(run: dict[str, Any]) -> str:
    """A run without a result (cancelled, failed, interrupted): what was recorded of it."""
    texts = [c for c in run["calls"] if c.get("text")]
    if not texts:
        return "Nothing was recorded: the run stopped before any text arrived."
    body = ""
    if run["task"] == "triage":
        for mode in ("active", "postmortem"):
            items = _streamed_items(mode, [c["text"] for c in texts])
            if items:
                what = "action" if mode == "active" else "follow-up"
                body += (
                    f"The run stopped ({run['status']}) before the triage finished. The {len(items)} {what}(s) "
                    "that had arrived were recorded:\n\n"
                    + "".join(f"{n}. {i.action} ({i.owner}, {i.timeline})\n" for n, i in enumerate(items, 1))
                )
                break
    if not body:
        body = f"The run stopped ({run['status']}) before a result; the text its calls received was recorded."
    return body + "".join(
        f"\n\n**{c['role']} · {c['provider']}:{c['model']} · {c['status']}**\n\n```\n{c['text']}\n```" for c in texts
    )


def run_markdown(run: dict[str, Any]) -> str:
    """A stored run as Markdown, rebuilt from what was recorded at the time."""
    record = run.get("result")
    head = f"# {run['id']} · {run['task']} · {run['status']}\n\n`{run.get('input_ref') or ''}`\n\n"
    if record is None:
        return head + _not_finished_markdown(run)
    if record.get("task") == "review":
        from app.render.markdown import review_markdown
        from app.review.stored import change_from_json, is_change_record, outcome_from_json

        if is_change_record(record):
            from app.render.change import change_markdown

            return head + change_markdown(change_from_json(record))
        return head + review_markdown(outcome_from_json(record))
    if record.get("task") == "compare":
        from app.render.compare import compare_markdown

        return head + compare_markdown(record, lists_below=True)
    if record.get("task") == "triage":
        from app.render.triage import triage_markdown

        return head + triage_markdown(record)
    from app.render.terminal import json_text

    return head + "```json\n" + json_text(record.get("result")) + "\n```\n"


class StoredTriageScreen(TriageScreen):
    """A recorded triage (or a triage compare) on the triage screen, as it was: the form
    as it was filled in, each side's actions, verdict, judges and metrics, and the drift.
    The incident text is not kept in history: it is read from its file only when the
    file still has the recorded sha256, and otherwise the box says so."""

    def __init__(self, run: dict[str, Any]) -> None:
        record = run["result"]
        sides = {"a": record["a"], "b": record["b"]} if record.get("task") == "compare" else {"a": record}
        first = sides["a"]
        super().__init__(
            text=_recorded_incident(run, first),
            label=run.get("input_ref") or "pasted incident",
            spec_a=f"{first['provider']}:{first['model']}",
            spec_b=f"{sides['b']['provider']}:{sides['b']['model']}" if "b" in sides else "",
            mode=first.get("mode") or "active",
            judges=[str(j["judge"]) for j in first.get("judges") or [] if j.get("judge")] or None,
            context={k: str(v) for k, v in (first.get("context") or {}).items()},
            record=False,
        )
        self.run_id = run["id"]
        self.shows_record = True
        self.record_sides = sides
        self.report = record if record.get("task") == "compare" else None
        self.last_result = record  # what export writes

    def on_mount(self) -> None:
        from app.triage.model import streamed_list

        # After the triage screen's own on_mount, which names the screen "triage".
        self.call_after_refresh(setattr, self, "title", f"triage · {self.run_id} (from history)")
        # A recorded triage is there to be read: the keys go to its results (on a narrow
        # screen the form makes room), not to the incident box, where `e` would be typed.
        self.call_after_refresh(self.make_room)
        self.call_after_refresh(self.pane("a").findings.focus)
        for side, data in self.record_sides.items():
            pane = self.pane(side)
            pane.set_class(False, "hidden")
            pane.border_title = f"{side.upper()} · {data['provider']}:{data['model']}"
            field, model = streamed_list(data.get("mode") or "active")
            for number, item in enumerate((data.get("result") or {}).get(field) or [], 1):
                pane.findings.add_item(model.model_validate(item), number)
            pane.show_triage(data)
        if self.report is not None:
            from app.render.compare import drift_lines
            from app.tui.widgets import escape

            self.query_one("#triage-drift", Static).update(
                "[b]Drift from A to B[/]\n" + "\n".join(escape(line) for line in drift_lines(self.report))
            )


def _recorded_incident(run: dict[str, Any], record: dict[str, Any]) -> str:
    import hashlib
    from pathlib import Path

    where = (record.get("input") or {}).get("path") or run.get("input_ref")
    sha = run.get("input_sha256")
    if where and sha:
        try:
            data = Path(where).read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() == sha:
            from app.render.terminal import neutralise

            return neutralise(data.decode("utf-8", errors="replace"))
    return (
        f"(History keeps the result, not the incident text. It was {where or 'pasted'}"
        + (f", sha256 {sha[:12]}…" if sha else "")
        + ", and that text is not available as it was.)"
    )


def run_screen(run: dict[str, Any]) -> Screen[None]:
    """A finished review of one file, a triage or a compare opens in its own screen, as it
    was; anything else (a review of a change, a failed or cancelled run, an ask, an eval)
    as a document."""
    record = run.get("result") or {}
    path = run.get("input_ref") or ""
    if record.get("task") == "review" and record.get("result") and "files" not in record:
        from app.tui.review_screen import ReviewScreen

        return ReviewScreen(path, f"{record['provider']}:{record['model']}", stored=record)
    if record.get("task") == "compare" and record.get("compared") == "review":
        from app.tui.compare_screen import CompareScreen

        a, b = record["a"], record["b"]
        return CompareScreen(path, f"{a['provider']}:{a['model']}", f"{b['provider']}:{b['model']}", stored=record)
    if (record.get("task") == "triage" and record.get("result")) or (
        record.get("task") == "compare" and record.get("compared") == "triage"
    ):
        return StoredTriageScreen(run)
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


def _style(column: Any, text: str) -> str:
    return column.style(text) if column.style else ""


class RunTable(DataTable[Any]):
    """The runs; Home and End go to the first and the last run."""

    KEYS_WHERE = "the run list"
    BINDINGS = [
        Binding("home", "first", "First", show=False, tooltip="The first run", id="history.first"),
        Binding("end", "last", "Last", show=False, tooltip="The last run", id="history.last"),
    ]

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0))


class HistoryScreen(Screen[None]):
    BINDINGS = [
        # The app's escape, listed first so the footer shows it even at 80 columns.
        Binding("escape", "app.leave", "Back", tooltip="Back to the screen before", id="history.back"),
        Binding("enter", "open", "Open", tooltip="Open the run as it was", id="history.open", priority=True),
        Binding("space", "mark", "Mark", tooltip="Mark the run (two marked can be compared)", id="history.mark"),
        Binding("d", "diff", "Diff", tooltip="Compare the two marked runs", id="history.diff"),
        Binding("f5", "refresh", "Refresh", tooltip="Read the history again", id="history.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.marked: list[str] = []
        self.where = ""
        self.provenance_of: str | None = None  # the run whose provenance the panel shows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-note")
        yield RunTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="history-provenance")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = "history"
        self.action_refresh()

    def _store(self) -> Any:
        from app.history.store import Store

        return Store.open(for_reading=True).store

    def on_resize(self, event: events.Resize) -> None:
        self._fill_table()

    def _fill_table(self) -> None:
        """The columns that fit the screen's width, and every run, the cursor kept on the
        run it was on."""
        from app.render.history import RUN_COLUMNS, run_cells
        from app.render.listing import fit_columns, shorten

        table = self.query_one(RunTable)
        current = self._current()
        cells = [run_cells(run, short_time=True) for run in self.runs]
        # Each cell takes its padding (2); the mark column 3, the scroll bar 2.
        width = (self.size.width or self.app.size.width) - 3 - 2
        shown, widths = fit_columns(RUN_COLUMNS, cells, width, gap=2)
        table.clear(columns=True)
        table.add_column(" ", key="mark", width=1)
        for i, w in zip(shown, widths, strict=True):
            column = RUN_COLUMNS[i]
            table.add_column(Text(column.name, justify=column.justify), key=column.name, width=w)
        for run, row in zip(self.runs, cells, strict=True):
            table.add_row(
                MARK if run["id"] in self.marked else "",
                *(
                    Text(shorten(row[i], w), justify=RUN_COLUMNS[i].justify, style=_style(RUN_COLUMNS[i], row[i]))
                    for i, w in zip(shown, widths, strict=True)
                ),
                key=run["id"],
            )
        if current is not None:
            index = next((n for n, run in enumerate(self.runs) if run["id"] == current["id"]), 0)
            table.move_cursor(row=index, animate=False)

    def _note(self) -> None:
        marked = f" · marked: {', '.join(self.marked)}" if self.marked else ""
        self.query_one("#history-note", Static).update(
            f"{len(self.runs)} run(s) in {self.where} · enter opens · space marks · d compares two marked{marked}"
            if self.runs
            else f"No runs yet. Every review, compare and triage is recorded in {self.where}."
        )

    def action_refresh(self) -> None:
        from app.errors import StoreError

        try:
            store = self._store()
        except StoreError as exc:
            from app.tui.widgets import escape

            self.query_one("#history-note", Static).update(f"[red]{escape(str(exc))}[/]")
            return
        try:
            store.mark_dead_runs()
            self.runs = shown(store.list_runs(limit=200))
            self.where = str(store.path)
        finally:
            store.close()
        known = {run["id"] for run in self.runs}
        self.marked = [m for m in self.marked if m in known]
        self._fill_table()
        self._note()

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
        self.provenance_of = run["id"] if run else None

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(RunTable)
        if not self.runs or table.row_count == 0 or table.cursor_row >= len(self.runs):
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
        """Mark the run under the cursor (at most two: the oldest mark goes); the mark shows
        at once and the cursor stays where it is."""
        current = self._current()
        if current is None:
            return
        run_id = current["id"]
        self.marked = [m for m in self.marked if m != run_id] if run_id in self.marked else [*self.marked, run_id][-2:]
        table = self.query_one(RunTable)
        for run in self.runs:
            table.update_cell(run["id"], "mark", MARK if run["id"] in self.marked else "")
        self._note()

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
        self.app.push_screen(
            DocumentScreen(f"# {self.marked[0]} → {self.marked[1]}\n\n" + compare_markdown(report, lists_below=True))
        )
