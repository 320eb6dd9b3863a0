"""The triage screen: paste an incident (or load one from incidents/), pick the mode,
give the business context and one or two providers; actions stream in as rows, then
severity, root cause, escalation, cautions, reference checks and judges. With two
providers the drift between them follows.

Every field keeps its label (in its border) once filled; the provider fields check each
SPEC as it is typed, and a run does not start while one is wrong. The incident box shows
a pasted escape sequence, never obeys it. F3 hides the form (F2 is the notifications log everywhere) to give the results the width."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Select, Static, TextArea

from app.render.terminal import neutralise
from app.run.options import RouteOptions
from app.tui.provider_picker import SpecValidator, first_invalid, first_problem
from app.tui.runs import RunEnded, prepare_triage
from app.tui.task_screen import TaskScreen
from app.tui.widgets import ResultPane, escape

# (key, label kept in the field's border, placeholder)
CONTEXT_FIELDS = (
    ("users_affected", "Users affected", "e.g. 30% of EU users"),
    ("revenue_impact", "Revenue impact", "e.g. checkout down"),
    ("sla_at_risk", "SLA at risk", "yes / no"),
    ("customer_facing", "Customer-facing", "yes / no"),
)
# (id, label, placeholder, optional, a list)
PROVIDER_FIELDS = (
    ("spec-a", "Provider A", "default from config", True, False),
    ("spec-b", "Provider B (to compare)", "optional", True, False),
    ("judges", "Judges", "default from config", True, True),
)


def incident_files() -> list[tuple[str, str]]:
    from app.resources import bundled_dir

    folder = bundled_dir("incidents")
    return [(p.name, str(p)) for p in sorted(folder.glob("*.md")) if p.name != "README.md"]


class TriageScreen(TaskScreen):
    what = "Triage"

    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", tooltip="Run the triage", id="triage.run"),
        Binding(
            "f3", "toggle_form", "Form", tooltip="Hide or show the form (the results get the width)", id="triage.form"
        ),
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
        judge_mode: str = "pointwise",
        self_judging: bool = True,
    ) -> None:
        super().__init__()
        self.route = route
        # As `compare --judge-mode pairwise` opened it: with two providers, the judges choose.
        self.judge_mode = judge_mode
        self.self_judging = self_judging
        self.initial = {"text": text, "spec_a": spec_a, "spec_b": spec_b, "mode": mode}
        self.label = label
        self.judges = judges
        self.context = context or {}
        self.autostart = start
        self.record = record
        self.running = False
        self.specs: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        initial = {
            "spec-a": self.initial["spec_a"],
            "spec-b": self.initial["spec_b"],
            "judges": ", ".join(self.judges or []),
        }
        yield Header()
        yield self.run_notes()
        with Horizontal(id="triage-body"):
            with VerticalScroll(id="triage-form"):
                yield Select(incident_files(), prompt="Load one from incidents/", id="incident-file")
                incident = TextArea(
                    neutralise(self.initial["text"]),
                    id="incident",
                    soft_wrap=True,
                    placeholder="Paste the incident here: alerts, logs, what users see…",
                )
                incident.border_title = "Incident"
                yield incident
                mode = Select(
                    [("active: what to do now", "active"), ("postmortem: thorough", "postmortem")],
                    value=self.initial["mode"],
                    allow_blank=False,
                    id="mode",
                )
                mode.border_title = "Mode"
                yield mode
                for key, label, placeholder in CONTEXT_FIELDS:
                    field = Input(self.context.get(key, ""), placeholder=placeholder, id=f"ctx-{key}")
                    field.border_title = label
                    yield field
                for field_id, label, placeholder, optional, many in PROVIDER_FIELDS:
                    field = Input(
                        initial[field_id],
                        placeholder=placeholder,
                        id=field_id,
                        validators=[SpecValidator(self.endpoints, optional=optional, many=many)],
                    )
                    field.border_title = label
                    yield field
                yield Static("", id="form-error")
                yield Button("Run triage (ctrl+r)", id="run", variant="primary")
            with Vertical(id="triage-results"):
                with Horizontal(id="triage-panes"):
                    yield ResultPane("A", id="side-a")
                    yield ResultPane("B", id="side-b", classes="hidden")
                yield Static("", id="triage-drift")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    shows_record = False

    def on_mount(self) -> None:
        self.title = "triage"
        self.query_one("#incident", TextArea).focus()  # a paste lands in the incident box
        if self.autostart:
            self.call_after_refresh(self.action_run)
        elif not self.shows_record:  # a triage opened from history shows what it recorded
            self.pane("a").show_summary(
                "[dim]Paste the incident (or load one), add what you know of the business impact, "
                "and press ctrl+r. A second provider compares; judges grade the answer.[/]"
            )

    @on(TextArea.Changed, "#incident")
    def _inert(self, event: TextArea.Changed) -> None:
        """A pasted escape sequence is shown as text, not sent to the terminal."""
        area = event.text_area
        text = area.text
        inert = neutralise(text)
        if inert != text:
            cursor = area.cursor_location
            area.load_text(inert)
            area.cursor_location = cursor

    @on(Input.Changed, "#spec-a, #spec-b, #judges")
    def _checked(self, event: Input.Changed) -> None:
        problem = first_problem(event.validation_result)
        label = event.input.border_title or ""
        self.query_one("#form-error", Static).update("" if problem is None else f"{label}: {escape(problem)}")

    def form_problem(self) -> str | None:
        """The first provider field that does not hold valid SPECs, said as one line."""
        return first_invalid((label, self.query_one(f"#{field_id}", Input)) for field_id, label, *_ in PROVIDER_FIELDS)

    def make_room(self) -> None:
        """On a narrow screen a run hides the form: the results need the width (F3 brings
        the form back)."""
        if self.has_class("-narrow"):
            self.query_one("#triage-form").add_class("hidden")
            self.focus_results()

    def action_toggle_form(self) -> None:
        form = self.query_one("#triage-form")
        form.toggle_class("hidden")
        if form.has_class("hidden"):
            self.focus_results()

    def focus_results(self) -> None:
        """The form is hidden: the keys go to the results (a hidden field would take them,
        and a letter meant for the screen, `e` to export, would do nothing)."""
        if self.focused is None or self.query_one("#triage-form") in self.focused.ancestors:
            self.pane("a").findings.focus()

    @on(Select.Changed, "#incident-file")
    def _load(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            from pathlib import Path

            path = Path(event.value)
            self.query_one("#incident", TextArea).load_text(neutralise(path.read_text(encoding="utf-8")))
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
        context = {key: self.query_one(f"#ctx-{key}", Input).value.strip() for key, *_ in CONTEXT_FIELDS}
        return {
            "text": self.query_one("#incident", TextArea).text,
            "specs": specs,
            "mode": self.query_one("#mode", Select).value,
            "context": {k: v for k, v in context.items() if v},
            "judges": [j.strip() for j in judges_text.split(",") if j.strip()] if judges_text else self.judges,
        }

    def action_run(self) -> None:
        if self.refuse_while_running():
            return
        problem = self.form_problem()
        if problem is not None:
            self.query_one("#form-error", Static).update(escape(problem))
            self.notify(problem, title="Not run", severity="error", timeout=6)
            return
        form = self._form()
        self.make_room()
        self.preparing(form["specs"])
        self.pane("b").set_class("b" not in form["specs"], "hidden")
        self.run_triage(form)

    @work(exclusive=True, group="run")
    async def run_triage(self, form: dict[str, Any]) -> None:
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
            judge_mode=self.judge_mode,
            self_judging=self.self_judging,
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
            self.show_drift(message.report)

    def show_drift(self, report: dict[str, Any]) -> None:
        """The compare's drift under the panes; with --judge-mode pairwise, the judges'
        verdict and whether it held when the order was swapped (`pairwise:` lines)."""
        from app.render.compare import drift_lines

        lines = drift_lines(report)
        # The panel is a few lines high: the judges' verdict goes first, where it is seen.
        judged = [line for line in lines if line.startswith("pairwise: ")]
        rest = [line for line in lines if not line.startswith("pairwise: ")]
        self.query_one("#triage-drift", Static).update(
            "[b]Drift from A to B[/]\n" + "\n".join(escape(line) for line in [*judged, *rest])
        )
