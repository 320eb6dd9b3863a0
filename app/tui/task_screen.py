"""What every screen that runs a task shares: preparing off the event loop, reporting a
run that could not start, driving it, and Escape — cancel when running, else go back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.reactive import reactive
from textual.screen import Screen

from app.tui.runs import RunEnded, RunFailedToStart, ScreenRun, TaskUpdate, drive, prepare_off_loop
from app.tui.widgets import ResultPane


class TaskScreen(Screen[None]):
    """Subclasses compose one `ResultPane` per side, with ids side-a (and side-b)."""

    # The footer follows it: "esc Cancel run" only while a run runs, "esc Back" otherwise.
    running = reactive(False, bindings=True)
    what = "Run"  # for the cancellation notice
    specs: dict[str, str]
    last_result: dict[str, Any] | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running  # when idle, escape falls through to the app's "back"
        return True

    def pane(self, side: str) -> ResultPane:
        return self.query_one(f"#side-{side}", ResultPane)

    @on(TaskUpdate)
    def _update(self, message: TaskUpdate) -> None:
        self.pane(message.side).apply(message.event, self.specs[message.side], message.public)

    def close_sides(self, message: RunEnded) -> None:
        """The run is over: the live text flushed, a side without a result marked cancelled,
        and what history holds of it."""
        self.running = False
        # What the screen now shows, for export (app.tui.export): the compare, else the one side.
        self.last_result = message.report if message.report is not None else message.sides.get("a")
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
            return await prepare_off_loop(prepare, *args, **kwargs)
        except (DriftcheckError, ProviderError) as exc:
            self.post_message(RunFailedToStart(error_line(exc), exit_code_for(exc)))
        return None

    async def drive(self, run: ScreenRun) -> None:
        """Clear each side's pane and run to the end; events arrive as messages."""
        self.specs = dict(run.prepared.specs)
        for side, spec in self.specs.items():
            self.pane(side).start(spec)
        self.running = True
        await drive(run, self.post_message)

    @on(RunFailedToStart)
    def _failed_to_start(self, message: RunFailedToStart) -> None:
        """Said in a toast, and on the screen, where it stays after the toast fades."""
        from app.tui.widgets import escape

        self.notify(message.message, title="Nothing was sent", severity="error", timeout=10, markup=False)
        self.pane("a").show_summary(f"[red]Nothing was sent:[/] {escape(message.message)}")

    def action_cancel(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "run")
            self.notify(f"{self.what} cancelled; what arrived is kept.", timeout=4)
        else:  # nothing running: escape goes back
            self.app.go_back()  # type: ignore[attr-defined]
