"""The review screen: the file, and the findings streaming in beside it (below it on a
screen narrower than 150 columns, so the code keeps its full lines); picking a finding
selects its lines in the code. `p` re-runs the review with another provider, picked from
the usable ones; `m` gives the focused pane the whole screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static

from app.run.options import RouteOptions
from app.tui.runs import RunEnded, prepare_review
from app.tui.task_screen import TaskScreen, select_first, show_partial_text
from app.tui.widgets import FindingList, ResultPane

if TYPE_CHECKING:
    from app.tui.code_view import CodeView

# Below this width the code and the findings are stacked, so a code line keeps ~90+ columns.
SIDE_BY_SIDE_FROM = 150


class ReviewScreen(TaskScreen):
    what = "Review"

    HORIZONTAL_BREAKPOINTS = [(0, "-stacked"), (SIDE_BY_SIDE_FROM, "-side-by-side")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    BINDINGS = [
        Binding("p", "rerun_with", "Provider", tooltip="Re-run with another provider", id="review.provider"),
        Binding("r", "rerun", "Re-run", tooltip="Run the review again", id="review.rerun"),
        Binding(
            "m", "maximise", "Full", tooltip="Give the focused pane the whole screen, or back", id="review.maximise"
        ),
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
        yield self.run_notes()
        with Horizontal(id="review-body"):
            if self.stored is None:
                # A live review's first frame is a light one (header, the file as plain
                # text, "Preparing…", footer): the numbered code view and the result
                # pane's other parts replace and join them right after it.
                yield Static(plain_file(self.path), id="code", markup=False)
            else:
                yield code_view()
            yield ResultPane(id="side-a", parts_later=self.stored is None)
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = f"review · {self.path}"
        if self.stored is None:
            self.after_first_frame(self.complete_and_start)
            return
        self.query_one(ResultPane).findings.focus()  # Enter on a finding selects its lines
        self.code().show_file(self.path, (self.stored.get("input") or {}).get("language"))
        self.show_result(self.stored)

    def code(self) -> CodeView:
        from app.tui.code_view import CodeView

        return self.query_one("#code", CodeView)

    async def complete_and_start(self) -> None:
        pane = self.pane("a")
        if not await pane.mount_parts():
            return  # left already: nothing to start
        with self.app.batch_update():  # no frame between the plain file and the code view
            await self.query_one("#code").remove()
            await self.query_one("#review-body").mount(code_view(), before=pane)
        self.show_file_now()
        pane.findings.focus()
        self.start()

    def show_file_now(self) -> None:
        """The file as it is on disk; its highlighting (a tree-sitter parse) after the
        next frame. The run shows it again as it was read and parsed."""
        from app.source.model import detect_language

        code = self.code()
        code.show_file(self.path, None)
        language = detect_language(self.path, code.text)
        if language is not None:
            self.after_first_frame(lambda: code.show_source(code.text, language) if self.result is None else None)

    def start(self) -> None:
        """Start (or re-start) the review: the pane shows at once that it started."""
        self.result = None
        self.preparing({"a": self.spec or ""})
        self.after_first_frame(self.run_review)  # this frame first, then the work

    @work(exclusive=True, group="run")
    async def run_review(self) -> None:
        run = await self.prepare(
            prepare_review, self.path, {"a": self.spec or None}, record=self.record, route=self.route
        )
        if run is None:
            return
        source = run.prepared.source
        if source is not None:
            self.code().show_source(source.text, source.language)
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
        pane = self.query_one(ResultPane)
        pane.show_review(data)
        select_first(pane)
        show_partial_text(pane, data)

    @on(FindingList.Picked)
    def _jump(self, message: FindingList.Picked) -> None:
        finding = message.finding
        self.code().show_lines(finding.line_start, finding.line_end)

    def action_rerun_with(self) -> None:
        def use(specs: list[str]) -> None:
            self.spec = specs[0]

        self.pick_providers(
            f"Re-run the review of {Path(self.path).name} with", [("provider:model", self.spec or "")], use
        )

    def action_maximise(self) -> None:
        self.toggle_maximised()


def code_view() -> CodeView:
    from app.tui.code_view import CodeView

    return CodeView(id="code")


def plain_file(path: str, lines: int = 200) -> str:
    """The file's first lines as plain text, for the first frame (a terminal is rarely
    taller); shown inert, like everything read from a file."""
    import itertools

    from app.render.terminal import neutralise

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = list(itertools.islice(handle, lines))
    except OSError:
        return ""
    return neutralise("".join(head))
