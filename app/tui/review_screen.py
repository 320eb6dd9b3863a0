"""The review screen: the file on the left, findings streaming in on the right; picking a
finding selects its lines in the code. `p` re-runs the review with another provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header

from app.run.options import RouteOptions
from app.tui.dialogs import AskPrompt
from app.tui.runs import RunEnded, prepare_review
from app.tui.task_screen import TaskScreen
from app.tui.widgets import CodeView, FindingList, ResultPane


class ReviewScreen(TaskScreen):
    what = "Review"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel run", id="review.cancel"),
        Binding("p", "rerun_with", "Other provider", id="review.provider"),
        Binding("r", "rerun", "Re-run", id="review.rerun"),
    ]

    def __init__(
        self,
        path: str,
        spec: str | None = None,
        *,
        record: bool = True,
        stored: dict[str, Any] | None = None,
        route: RouteOptions = RouteOptions(),
    ) -> None:
        super().__init__()
        self.route = route
        self.path = path
        self.stored = stored  # a finished review (from history) shown as it was, not re-run
        self.spec = spec
        self.specs = {"a": spec or ""}
        self.record = record
        self.result: dict[str, Any] | None = None
        self.run_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="review-body"):
            yield CodeView(id="code")
            yield ResultPane(id="side-a")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"review · {self.path}"
        self.query_one(ResultPane).findings.focus()  # Enter on a finding selects its lines
        if self.stored is None:
            self.call_after_refresh(self.start)  # the first frame first, then the work
            return
        self.query_one(CodeView).show_file(self.path, (self.stored.get("input") or {}).get("language"))
        self.show_result(self.stored)

    def start(self) -> None:
        self.result = None
        self.run_review()

    @work(exclusive=True, group="run")
    async def run_review(self) -> None:
        run = await self.prepare(
            prepare_review, self.path, {"a": self.spec or None}, record=self.record, route=self.route
        )
        if run is None:
            self.query_one(ResultPane).show_checks([], {"message": "nothing was sent (see the notification)"})
            return
        source = run.prepared.source
        if source is not None:
            self.query_one(CodeView).show_source(source.text, source.language)
        self.spec = run.prepared.specs["a"]
        await self.drive(run)

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        self.close_sides(message)
        self.run_id = message.run_id
        data = message.sides.get("a")
        if data is None:
            self.pane("a").show_summary("[yellow]Cancelled.[/] What arrived is kept above and in history.")
            return
        self.result = data  # the pane showed it the moment the review ended

    def show_result(self, data: dict[str, Any]) -> None:
        self.result = data
        self.query_one(ResultPane).show_review(data)

    @on(FindingList.Picked)
    def _jump(self, message: FindingList.Picked) -> None:
        finding = message.finding
        self.query_one(CodeView).show_lines(finding.line_start, finding.line_end)

    def action_rerun(self) -> None:
        if not self.running:
            self.start()

    def action_rerun_with(self) -> None:
        def chosen(spec: str | None) -> None:
            if spec:
                self.spec = spec
                self.start()

        self.app.push_screen(
            AskPrompt(
                f"Re-run the review of {Path(self.path).name} with",
                self.spec or "",
                "provider:model, e.g. openai:gpt-5.4-mini",
            ),
            chosen,
        )
