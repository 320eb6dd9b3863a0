"""The review of a change: the changed files on the left with their finding counts as each
file finishes (coloured by the worst severity; `-` not sent, `!` failed); the selected file's changed parts (what the model was shown, changed lines
marked `+`) beside its findings. Picking a finding brings its line into view.

`driftcheck review --diff ...` (or `--staged`) opens it on a terminal. The change is read
and checked by the command before the screen opens; the run is built with app.run (never
with the CLI) in the screen's worker, so the first frame does not wait for the providers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from app.render.listing import shorten
from app.render.styles import SEVERITY_STYLE
from app.render.terminal import neutralise
from app.review.files import ChangedFile, ChangeInput
from app.review.model import SEVERITIES
from app.review.plan import ReviewOptions
from app.run.options import RouteOptions
from app.tui.runs import shown
from app.tui.widgets import FindingList, escape

# As git abbreviates them: added, modified, renamed; a file named rather than changed has none.
_STATUS_LETTER = {"added": "A", "modified": "M", "renamed": "R"}


# What precedes a path on its row: a count of three cells, the status letter, two spaces.
_ROW_PREFIX = 6


def fit_path(path: str, width: int) -> str:
    """`path` in at most `width` characters, shortened from the left: a list of changed
    files is read by their names, and a path wrapped onto a row of its own reads as a blank
    row. Left whole before the list has a width."""
    return shorten(path, width, keep_end=True) if width > 1 else path


class ChangedFiles(OptionList):
    """The files of the change, each with its status and, once reviewed, its findings."""

    _shown: tuple[ChangeInput, dict[str, str]] | None = None

    def show_files(self, change: ChangeInput, counts: dict[str, str]) -> None:
        self._shown = (change, counts)
        highlighted = self.highlighted
        width = self.scrollable_content_region.width - _ROW_PREFIX  # 0 or less before layout
        self.clear_options()
        for file in change.files:
            label = escape(fit_path(neutralise(file.path), width))
            status = _STATUS_LETTER.get(file.status, " ")
            self.add_option(Option(f"{counts.get(file.path, '[dim]  …[/]')} [dim]{status}[/] {label}", id=file.path))
        for left in change.left_out:  # listed, greyed, with the reason
            text = fit_path(f"{neutralise(left.path)} ({left.reason})", width + 2)
            self.add_option(Option(f"[dim]    {escape(text)}[/]", disabled=True))
        self.highlighted = highlighted if highlighted is not None else (0 if change.files else None)

    def on_resize(self) -> None:
        if self._shown is not None:  # the paths are fitted to the width the list has now
            self.show_files(*self._shown)


def marked_parts(file: ChangedFile, parts: list[tuple[int, int]]) -> tuple[str, dict[int, int]]:
    """The parts of `file` a review showed, numbered with changed lines marked, as one text;
    and for each line number its row in that text (to bring a finding into view)."""
    changed = file.changed or frozenset()
    rows: dict[int, int] = {}
    out: list[str] = []
    width = len(str(max((b for _, b in parts), default=1)))
    for n, (start, end) in enumerate(parts):
        if n:
            out.append(f"{'':>{width}}   ⋮")
        for line in range(start, end + 1):
            rows[line] = len(out)
            mark = "+" if line in changed else " "
            out.append(f"{line:>{width}} {mark} | {file.source.line(line)}")
    return neutralise("\n".join(out)), rows


class ChangeScreen(Screen[None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel run / back", id="change.cancel")]

    def __init__(
        self,
        change: ChangeInput,
        spec: str | None = None,
        *,
        record: bool = True,
        route: RouteOptions = RouteOptions(),
        options: ReviewOptions = ReviewOptions(),
        changed_only: bool = False,
    ) -> None:
        super().__init__()
        self.change = change
        self.spec = spec
        self.record = record
        self.route = route
        self.options = options
        self.changed_only = changed_only
        self.running = False
        self.counts: dict[str, str] = {}
        self.findings: dict[str, list[Any]] = {}
        self.parts: dict[str, list[tuple[int, int]]] = {}
        self.rows: dict[int, int] = {}
        self.result: dict[str, Any] | None = None
        self.selected: str | None = change.files[0].path if change.files else None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="change-body"):
            yield ChangedFiles(id="changed-files")
            with Vertical(id="change-detail"):
                yield TextArea("", read_only=True, soft_wrap=False, id="change-diff")
                yield FindingList(id="change-findings")
        yield Static("", id="change-status")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = f"review · {neutralise(self.change.label)}"
        self.query_one(ChangedFiles).show_files(self.change, self.counts)
        self.query_one(ChangedFiles).focus()
        self.call_after_refresh(self.run_change)  # the first frame first, then the work

    def status(self, text: str) -> None:
        self.query_one("#change-status", Static).update(text)

    @work(exclusive=True, group="run")
    async def run_change(self) -> None:
        from app.config.load import load_config
        from app.errors import DriftcheckError, error_line
        from app.notes import Notes
        from app.review.change import ChangeFinished, FileFinished, change_json
        from app.run.change import prepare_change
        from app.run.providers import ProviderResolver
        from providers.errors import ProviderError

        said = Notes()
        try:
            prepared = await asyncio.to_thread(
                lambda: prepare_change(
                    self.change,
                    self.spec,
                    resolver=ProviderResolver(load_config(), notify=said),
                    options=self.options,
                    route=self.route,
                    record=self.record,
                    changed_only=self.changed_only,
                )
            )
        except (DriftcheckError, ProviderError) as exc:
            self.notify(neutralise(error_line(exc)), title="Nothing was sent", severity="error", timeout=10)
            self.status("[red]nothing was sent[/]")
            return
        for note in said.kept:
            self.notify(neutralise(note.text), timeout=6)
        self.parts = {
            file.path: [part for chunk in plan.chunks for part in chunk.parts]
            for file, plan in zip(self.change.files, prepared.plans, strict=True)
        }
        self.show_selected()
        self.running = True
        self.status(f"reviewing {len(self.change.files)} file(s) with {escape(prepared.provider.spec)} …")
        try:
            async for event in prepared.start():
                if isinstance(event, FileFinished):
                    self.file_done(event)
                elif isinstance(event, ChangeFinished):
                    record = change_json(event.outcome)
                    recording = prepared.finish(record)
                    self.result = shown(record)
                    self.finished(record, recording)
        except asyncio.CancelledError:
            prepared.recorder.finish(status="cancelled")
            raise
        finally:
            self.running = False
            await prepared.provider.aclose()

    def file_done(self, event: Any) -> None:
        outcome = event.outcome
        path = event.file.path
        # A short badge before the name: the count, in the colour of the worst severity.
        if outcome is None:
            self.counts[path] = "[dim]  -[/]"
        elif outcome.error is not None:
            self.counts[path] = "[red]  ![/]"
        else:
            findings = outcome.result.findings if outcome.result else []
            self.findings[path] = [shown(f) for f in findings]
            worst = min((f.severity for f in findings), key=SEVERITIES.index, default=None)
            style = SEVERITY_STYLE[worst] if worst else "green"
            self.counts[path] = f"[{style}]{len(findings):>3}[/]"
        self.query_one(ChangedFiles).show_files(self.change, self.counts)
        self.status(f"{event.done} of {event.total} file(s) reviewed …")
        if path == self.selected:
            self.show_selected()

    def finished(self, record: dict[str, Any], recording: Any) -> None:
        result = record["result"]
        counts = " · ".join(f"{n} {s}" for s, n in result["counts"].items() if n)
        score = f"score {result['score']}/10 (the weakest file's) · " if result["score"] is not None else ""
        failed = "" if record["status"] == "ok" else f" · [red]{escape(neutralise(record['error']['message']))}[/]"
        self.status(f"{score}{len(result['findings'])} finding(s){': ' + counts if counts else ''}{failed}")
        line = None if recording is None else recording.message("this screen")
        if line is not None:
            self.notify(neutralise(line), title="History", timeout=4)

    def show_selected(self) -> None:
        file = next((f for f in self.change.files if f.path == self.selected), None)
        if file is None:
            return
        text, self.rows = marked_parts(file, self.parts.get(file.path) or [(1, file.source.line_count)])
        self.query_one("#change-diff", TextArea).load_text(text)
        findings = self.query_one(FindingList)
        findings.reset()
        for finding in self.findings.get(file.path, []):
            findings.add_finding(finding)

    @on(OptionList.OptionHighlighted, "#changed-files")
    def _file_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.selected:
            self.selected = event.option.id
            self.show_selected()

    @on(FindingList.Picked)
    def _jump(self, message: FindingList.Picked) -> None:
        row = self.rows.get(message.finding.line_start)
        if row is not None:
            diff = self.query_one("#change-diff", TextArea)
            diff.move_cursor((row, 0))
            diff.scroll_cursor_visible(center=True)

    def action_cancel(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "run")
            self.notify("Review cancelled; what arrived is kept.", timeout=4)
        else:
            self.app.go_back()  # type: ignore[attr-defined]
