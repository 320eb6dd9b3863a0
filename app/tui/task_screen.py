"""What every screen that runs a task shares: preparing off the event loop (saying what
it is doing meanwhile), reporting a run that could not start, driving it, keeping the
run's notes on the screen, and Escape — cancel when running, else go back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Log, Static

from app.tui.runs import RunEnded, RunFailedToStart, RunNote, ScreenRun, TaskUpdate, drive, prepare_off_loop
from app.tui.widgets import ResultPane, escape

if TYPE_CHECKING:
    from app.tui.notices import Notice
    from providers.spec import Endpoint


class TaskScreen(Screen[None]):
    """Subclasses compose one `ResultPane` per side, with ids side-a (and side-b)."""

    # The footer follows it: "esc Cancel run" only while a run runs, "esc Back" otherwise.
    running = reactive(False, bindings=True)
    what = "Run"  # for the cancellation notice
    specs: dict[str, str]
    last_result: dict[str, Any] | None = None

    # Escape cancels a run; when nothing runs, cancel is disabled and the same key goes
    # back (listed here, first, so even an 80-column footer shows it).
    BINDINGS = [
        Binding(
            "escape", "cancel", "Cancel run", tooltip="Cancel the running task (what arrived is kept)", id="task.cancel"
        ),
        Binding("escape", "app.leave", "Back", tooltip="Back to the screen before", id="task.back"),
        Binding(
            "e", "export", "Export", tooltip="Export the result to a file: JSON, Markdown, SARIF", id="task.export"
        ),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running  # when idle, escape falls through to the app's "back"
        if action == "export":  # offered once there is a result, and not while a run replaces it
            from app.tui.export import shown_result

            return not self.running and shown_result(self) is not None
        return True

    def action_export(self) -> None:
        """Which format, then where (the app's export writes it and reads it back)."""
        from app.tui.dialogs import Choose
        from app.tui.export import formats_for, shown_result

        record = shown_result(self)
        if record is None:
            return
        names = {"json": "JSON", "markdown": "Markdown", "sarif": "SARIF"}
        choices = [(names[fmt], fmt) for fmt in formats_for(record)]
        app: Any = self.app
        self.app.push_screen(
            Choose(f"Export the {record.get('task')} as", choices, then=lambda fmt: app.export_prompt(fmt, self))
        )

    notes: list[str]
    reading: set[str] = set()  # sides whose model is still reading its prompt
    driving = False  # prepared and under way (`running` is already true while preparing)
    # Escape while `running` but before the run's worker exists (it starts after the first
    # frame): there is no worker to cancel yet, so the worker finds this when it starts.
    cancel_requested = False
    known_endpoints: Mapping[str, Endpoint] | None = None

    def run_notes(self) -> Static:
        """Where the run's notes stay (each screen composes it)."""
        return Static("", id="run-notes", classes="hidden")

    @on(events.Mount)
    def _focus_stops(self) -> None:
        """Tab goes from list to list (findings, pairs, form fields), not through each
        pane's live text: it scrolls by itself and takes no keys."""
        for log in self.query(Log):
            log.can_focus = False

    def after_first_frame(self, callback: Callable[[], Any]) -> None:
        """`callback` once the frame being built is on the screen and what waits for that
        frame has run: a highlight (a tree-sitter parse, ~80 ms) or a run's worker (its
        thread imports the SDK, competing for the interpreter) never delays it."""
        self.call_after_refresh(self.call_after_refresh, callback)

    def endpoints(self) -> Mapping[str, Endpoint]:
        """The config's endpoints, for the provider picker (none when the config is bad:
        the run itself says what is wrong with it)."""
        if self.known_endpoints is None:  # read once, when first asked
            from app.config.load import load_config
            from app.errors import DriftcheckError

            try:
                self.known_endpoints = load_config().endpoints
            except DriftcheckError:
                self.known_endpoints = {}
        return self.known_endpoints

    def toggle_maximised(self) -> None:
        """The focused pane (a side, the code) on the whole screen, or back."""
        if self.maximized is not None:
            self.minimize()
            return
        from app.tui.code_view import CodeView

        widget = self.focused
        while widget is not None and not isinstance(widget, (ResultPane, CodeView)):
            widget = widget.parent if isinstance(widget.parent, Widget) else None
        if widget is None:
            widget = self.query(ResultPane).first()
        self.maximized = widget
        self.notify("Full screen: m or Escape to go back.", timeout=3)

    def pane(self, side: str) -> ResultPane:
        return self.query_one(f"#side-{side}", ResultPane)

    @on(TaskUpdate)
    def _update(self, message: TaskUpdate) -> None:
        pane = self.pane(message.side)
        if message.side in self.reading:  # its first token: the prompt has been read
            self.reading.discard(message.side)
            pane.count_note(self.specs[message.side])
        pane.apply(message.event, self.specs[message.side], message.public)
        select_first(pane)
        if message.public is not None:
            show_partial_text(pane, message.public)

    def preparing(self, specs: dict[str, str]) -> None:
        """At once, before the slow part: the old result cleared and the pane saying what
        is being prepared, so a (re-)run is seen to start."""
        self.specs = {side: spec or "the default provider" for side, spec in specs.items()}
        self.running, self.driving = True, False  # a run key now says it is under way
        self.cancel_requested = False
        self.notes, self.latest_notice = [], None
        self.show_notes()
        for side, spec in self.specs.items():
            pane = self.pane(side)
            pane.findings.reset()
            pane.live.clear()
            pane.show_checks([])
            pane.metrics.update(f"[b]{escape(spec)}[/] · preparing")
            pane.show_summary("[dim]Preparing…[/]")

    def show_stage(self, text: str) -> None:
        for pane in self.query(ResultPane):
            if not self.driving:
                pane.show_summary(f"[dim]Preparing: {escape(text)}…[/]")

    @on(RunNote)
    def _note(self, message: RunNote) -> None:
        """A run's notes (a demo-grade model, a redaction) stay on the screen; the app also
        shows each one as a notification."""
        self.notes.append(f"[yellow]Note:[/] {escape(message.text)}")
        self.show_notes()

    latest_notice: str | None = None

    def show_notice(self, notice: Notice) -> None:
        """The app's last notification, on the notes strip (on a small screen, in place of
        a toast that would cover the panes); f2 lists every one."""
        from app.tui.dialogs import notice_line

        if notice.title != "Note":  # a run's note is on the strip already
            self.latest_notice = notice_line(notice, with_time=False) + " [dim](f2: every message)[/]"
            self.show_notes()

    def show_notes(self) -> None:
        # The newest message first: on a short screen the strip keeps two lines.
        lines = [*([self.latest_notice] if self.latest_notice else []), *getattr(self, "notes", [])]
        strip = self.query_one("#run-notes", Static)
        strip.update("\n".join(lines))
        strip.set_class(not lines, "hidden")

    def close_sides(self, message: RunEnded) -> None:
        """The run is over: the live text flushed, a side without a result marked cancelled,
        and what history holds of it."""
        # What the screen now shows, for export (app.tui.export): the compare, else the one side.
        # Set first: `running` going false refreshes the footer, which then offers export.
        self.last_result = message.report if message.report is not None else message.sides.get("a")
        self.running = False
        for side, spec in self.specs.items():
            self.pane(side).live.flush()
            if side not in message.sides:
                self.pane(side).metrics.show_metrics(spec, None, "cancelled")
        recording = message.recording
        line = None if recording is None else recording.message("the panes on this screen")
        if line is not None:
            self.notify(
                line,
                title="History",
                severity="information" if recording.complete else "warning",
                timeout=4 if recording.complete else 12,
            )

    async def prepare(self, prepare: Callable[..., ScreenRun], *args: Any, **kwargs: Any) -> ScreenRun | None:
        """Check the input and build the providers in a thread; None (and a notification)
        when that fails, in which case nothing was sent."""
        from app.errors import DriftcheckError, error_line, exit_code_for
        from providers.errors import ProviderError

        try:
            if self.cancel_requested:  # Escape came before this worker started
                raise asyncio.CancelledError
            return await prepare_off_loop(prepare, *args, stage=self.show_stage, **kwargs)
        except (DriftcheckError, ProviderError) as exc:
            self.running = False
            self.post_message(RunFailedToStart(error_line(exc), exit_code_for(exc)))
        except asyncio.CancelledError:  # Escape while preparing: nothing was sent
            self.running = False
            # Left (or the app quit) while preparing: the panes are being torn down, so
            # there is nothing to say it on and the worker just stops.
            for side, spec in self.specs.items():
                for pane in self.query(f"#side-{side}").results(ResultPane):
                    pane.metrics.update(f"[b]{escape(spec)}[/] · [yellow]cancelled[/] before anything was sent")
                    pane.show_summary("")
            raise
        return None

    async def drive(self, run: ScreenRun) -> None:
        """Clear each side's pane and run to the end; events arrive as messages."""
        self.specs = dict(run.prepared.specs)
        for side, spec in self.specs.items():
            self.pane(side).start(spec)
            if side in run.reading:  # a local model reads its prompt first: say how long
                self.pane(side).metrics.show_running(spec, run.reading[side])
        self.reading = set(run.reading)
        self.running = self.driving = True
        await drive(run, self.post_message)

    @on(RunFailedToStart)
    def _failed_to_start(self, message: RunFailedToStart) -> None:
        """Said in a toast, and on the screen, where it stays after the toast fades."""
        self.notify(message.message, title="Nothing was sent", severity="error", timeout=10, markup=False)
        for side, spec in self.specs.items():  # the message stays on the screen
            pane = self.pane(side)
            pane.metrics.update(f"[b]{escape(spec)}[/] · [red]not started[/]")
            pane.show_summary(f"[red]Nothing was sent:[/] {escape(message.message)}")
            pane.show_checks([], None)

    def start(self) -> None:
        """Start (or re-start) the screen's run; review and compare define it."""
        raise NotImplementedError

    def action_rerun(self) -> None:
        if not self.refuse_while_running():
            self.start()

    def pick_providers(self, question: str, fields: list[tuple[str, str]], then: Callable[[list[str]], None]) -> None:
        """Ask for one SPEC per field from the usable providers; with them, `then`, and run again."""
        from app.tui.provider_picker import ProviderPicker

        if self.refuse_while_running():
            return

        def chosen(specs: list[str] | None) -> None:
            if specs:
                then(specs)
                self.start()

        self.app.push_screen(ProviderPicker(question, fields, self.endpoints()), chosen)

    def refuse_while_running(self) -> bool:
        """A run key pressed during a run: say so (and how to stop it) rather than ignore it."""
        if self.running:
            self.notify(f"{self.what} is already running; Escape cancels it.", title=self.what, timeout=4)
        return self.running

    def action_cancel(self) -> None:
        if self.running:
            self.cancel_requested = True
            self.workers.cancel_group(self, "run")
            self.notify(f"{self.what} cancelled; what arrived is kept.", timeout=4)
        else:  # nothing running: escape goes back
            self.app.go_back()  # type: ignore[attr-defined]


def select_first(pane: ResultPane) -> None:
    """The first finding (or action) is highlighted as soon as it arrives, so Enter works
    without pressing Down first."""
    findings = pane.findings
    if findings.highlighted is None and findings.option_count:
        findings.highlighted = 0
        # Where a pane scrolls (a short compare), showing the highlight would scroll its
        # status and score out of sight: the pane stays at its top.
        pane.call_after_refresh(pane.scroll_home, animate=False, immediate=True)


def show_partial_text(pane: ResultPane, public: dict[str, Any]) -> None:
    """A failed side's partial answer in its live view, when the view does not hold it
    already (a stored run, or text that came before a retry)."""
    partial = public.get("partial_text")
    if public.get("status") == "failed" and partial and pane.live.received < len(partial):
        pane.live.clear()
        pane.live.append(partial)
        pane.live.flush()
