"""The triage screen: paste an incident (or load one from incidents/), pick the mode,
give the business context and one or two providers; actions stream in as rows, then
severity, root cause, escalation, cautions, reference checks and judges. With two
providers the drift between them follows."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, TextArea

from app.run.options import RouteOptions
from app.tui.runs import RunEnded, prepare_triage
from app.tui.task_screen import TaskScreen
from app.tui.widgets import ResultPane, escape

CONTEXT_FIELDS = (
    ("users_affected", "users affected, e.g. 30%"),
    ("revenue_impact", "revenue impact"),
    ("sla_at_risk", "SLA at risk (yes/no)"),
    ("customer_facing", "customer-facing (yes/no)"),
)


def incident_files() -> list[tuple[str, str]]:
    from app.resources import bundled_dir

    folder = bundled_dir("incidents")
    return [(p.name, str(p)) for p in sorted(folder.glob("*.md")) if p.name != "README.md"]


class TriageScreen(TaskScreen):
    what = "Triage"

    BINDINGS = [
        Binding("ctrl+r", "run", "Run triage", id="triage.run"),
        Binding("escape", "cancel", "Cancel run", id="triage.cancel"),
    ]

    def __init__(
        self,
        *,
        text: str = "",
        label: str = "pasted incident",
        spec_a: str = "",
        spec_b: str = "",
        mode: str = "active",
        judges: list[str] | None = None,
        context: dict[str, str] | None = None,
        start: bool = False,
        record: bool = True,
        route: RouteOptions = RouteOptions(),
    ) -> None:
        super().__init__()
        self.route = route
        self.initial = {"text": text, "spec_a": spec_a, "spec_b": spec_b, "mode": mode}
        self.label = label
        self.judges = judges
        self.context = context or {}
        self.autostart = start
        self.record = record
        self.running = False
        self.specs: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="triage-body"):
            with VerticalScroll(id="triage-form"):
                yield Select(incident_files(), prompt="Load an incident from incidents/", id="incident-file")
                yield TextArea(self.initial["text"], id="incident", soft_wrap=True)
                yield Select(
                    [("active: what to do now", "active"), ("postmortem: thorough analysis", "postmortem")],
                    value=self.initial["mode"],
                    allow_blank=False,
                    id="mode",
                )
                yield Label("Business context")
                for key, placeholder in CONTEXT_FIELDS:
                    yield Input(self.context.get(key, ""), placeholder=placeholder, id=f"ctx-{key}")
                yield Label("Providers")
                yield Input(self.initial["spec_a"], placeholder="A: provider:model (default from config)", id="spec-a")
                yield Input(
                    self.initial["spec_b"], placeholder="B (optional): compare with provider:model", id="spec-b"
                )
                yield Input(
                    ", ".join(self.judges or []), placeholder="judges: SPEC, SPEC (default from config)", id="judges"
                )
                yield Button("Run triage (ctrl+r)", id="run", variant="primary")
            with Vertical(id="triage-results"):
                with Horizontal(id="triage-panes"):
                    yield ResultPane("A", id="side-a")
                    yield ResultPane("B", id="side-b", classes="hidden")
                yield Static("", id="triage-drift")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "triage"
        if self.autostart:
            self.call_after_refresh(self.action_run)

    @on(Select.Changed, "#incident-file")
    def _load(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            from pathlib import Path

            path = Path(event.value)
            self.query_one("#incident", TextArea).load_text(path.read_text(encoding="utf-8"))
            self.label = str(path)

    @on(Button.Pressed, "#run")
    def _pressed(self) -> None:
        self.action_run()

    def _form(self) -> dict[str, Any]:
        specs = {"a": self.query_one("#spec-a", Input).value.strip()}  # empty: the route, else the default
        spec_b = self.query_one("#spec-b", Input).value.strip()
        if spec_b:
            specs["b"] = spec_b
        judges_text = self.query_one("#judges", Input).value.strip()
        context = {key: self.query_one(f"#ctx-{key}", Input).value.strip() for key, _ in CONTEXT_FIELDS}
        return {
            "text": self.query_one("#incident", TextArea).text,
            "specs": specs,
            "mode": self.query_one("#mode", Select).value,
            "context": {k: v for k, v in context.items() if v},
            "judges": [j.strip() for j in judges_text.split(",") if j.strip()] if judges_text else self.judges,
        }

    def action_run(self) -> None:
        if not self.running:
            self.run_triage()

    @work(exclusive=True, group="run")
    async def run_triage(self) -> None:
        form = self._form()
        run = await self.prepare(
            prepare_triage,
            form["text"],
            self.label,
            form["specs"],
            mode=form["mode"],
            context=form["context"],
            judges=form["judges"],
            record=self.record,
            route=self.route,
        )
        if run is None:
            return
        specs = run.prepared.specs
        self.pane("b").set_class("b" not in specs, "hidden")
        self.query_one("#triage-drift", Static).update("")
        for side, spec in specs.items():
            self.pane(side).border_title = f"{side.upper()} · {spec}"
        await self.drive(run)

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        self.close_sides(message)
        if message.report is not None:
            from app.render.compare import drift_lines

            self.query_one("#triage-drift", Static).update(
                "[b]Drift from A to B[/]\n" + "\n".join(escape(line) for line in drift_lines(message.report))
            )
