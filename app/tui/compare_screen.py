"""The compare screen: two panes streaming side by side, each with its own metrics bar,
live count and score; when both finish, the drift panel. Picking a matched pair
highlights it on both sides (and its lines in the code view, `o`). A failed side shows
its error; the other carries on. On a small screen `a`, `b` and `d` give side A, side B
or the drift panel the whole screen; `p` re-runs with other providers."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from app.tui.code_view import CodeView
from app.tui.runs import RunEnded, prepare_review
from app.tui.task_screen import TaskScreen
from app.tui.widgets import FindingList, ResultPane, escape


class DriftPanel(Vertical):
    """The drift report once both sides are done; its matched pairs can be picked."""

    def compose(self) -> ComposeResult:
        yield Static("[dim]The drift report appears when both sides have finished.[/]", id="drift-summary")
        yield OptionList(id="pairs")

    def show(self, report: dict[str, Any]) -> None:
        from app.render.compare import drift_lines, pair_stability, score_interval_line

        lines = drift_lines(report)
        noise = report["noise"]["verdict"]
        interval = score_interval_line(report)
        self.query_one("#drift-summary", Static).update(
            "\n".join(escape(line) for line in lines if not line.startswith("  "))
            + (f"\n{escape(interval)}" if interval else "")
            + f"\n[dim]{escape(noise)}[/]"
        )
        # With --repeat: how many runs of each side found the pair ("5/5 · 0/5").
        stability = pair_stability(report)

        def runs(side: str, finding: str) -> str:
            said = stability.get((side, finding))
            return f"  [b]{said}[/]" if said else ""

        pairs = self.query_one("#pairs", OptionList)
        pairs.clear_options()
        drift = report["drift"]
        options: list[Option] = []
        for n, pair in enumerate(drift.get("matched", [])):
            sev = pair["severity"]
            differs = f"  [yellow]{sev[0]} → {sev[1]}[/]" if sev[0] != sev[1] else ""
            options.append(
                Option(
                    f"= A {pair['a']} L{pair['lines'][0]} ~ B {pair['b']} L{pair['lines'][1]}: "
                    f"{escape(pair['title'][0])}{differs}{runs('a', pair['a'])}",
                    id=f"pair{n}",
                )
            )
        for side, sign in (("only_a", "- only A"), ("only_b", "+ only B")):
            options += [
                Option(
                    f"[dim]{sign}: {f['id']} L{f['line']} {f['severity']} {escape(f['title'])}[/]"
                    + runs(side[-1], f["id"]),
                    disabled=True,
                )
                for f in drift.get(side, [])
            ]
        pairs.add_options(options)


class CompareScreen(TaskScreen):
    what = "Compare"

    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    AUTO_FOCUS = ""  # side A's findings, without scrolling its status out of sight

    BINDINGS = [
        Binding("r", "rerun", "Re-run", show=False, tooltip="Run the compare again", id="compare.rerun"),
        Binding("p", "rerun_with", "Providers", tooltip="Re-run with other providers", id="compare.providers"),
        Binding("a", "full('side-a')", "A", tooltip="Side A on the whole screen, or back", id="compare.full_a"),
        Binding("b", "full('side-b')", "B", tooltip="Side B on the whole screen, or back", id="compare.full_b"),
        Binding(
            "d",
            "full('drift')",
            "Drift",
            tooltip="The drift panel on the whole screen, or back",
            id="compare.full_drift",
        ),
        Binding("o", "code", "Code", tooltip="Show or hide the reviewed file", id="compare.code"),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            show=False,
            priority=True,
            tooltip="Scroll the focused side down",
            id="compare.page_down",
        ),
        Binding(
            "pageup",
            "page(-1)",
            "Page up",
            show=False,
            priority=True,
            tooltip="Scroll the focused side up",
            id="compare.page_up",
        ),
    ]

    def __init__(
        self, path: str, spec_a: str, spec_b: str, *, record: bool = True, stored: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.path = path
        self.stored = stored  # a finished compare report, shown as it was
        self.specs = {"a": spec_a, "b": spec_b}
        self.record = record
        self.running = False
        self.report: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.run_notes()
        with Horizontal(id="compare-body"):
            yield ResultPane(f"A · {self.specs['a']}", id="side-a")
            yield ResultPane(f"B · {self.specs['b']}", id="side-b")
        yield CodeView(id="compare-code", classes="hidden")
        yield DriftPanel(id="drift")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = f"compare · {self.path}"
        self.pane("a").findings.focus(scroll_visible=False)
        if self.stored is None:
            self.start()
            return
        for side in ("a", "b"):
            self.pane(side).show_review(self.stored[side])
        self.report = self.stored
        self.query_one(DriftPanel).show(self.stored)

    def start(self) -> None:
        """Start (or re-start) the compare: both panes show at once that it started."""
        self.report = None
        self.preparing(self.specs)
        for side, spec in self.specs.items():
            self.pane(side).border_title = f"{side.upper()} · {spec}"
        self.query_one("#drift-summary", Static).update(
            "[dim]The drift report appears when both sides have finished.[/]"
        )
        self.query_one("#pairs", OptionList).clear_options()
        self.after_first_frame(self.run_compare)  # this frame first, then the work

    @work(exclusive=True, group="run")
    async def run_compare(self) -> None:
        run = await self.prepare(prepare_review, self.path, dict(self.specs), record=self.record)
        if run is not None:
            await self.drive(run)

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        self.close_sides(message)
        if message.report is not None:
            self.report = message.report
            self.query_one(DriftPanel).show(message.report)

    @on(OptionList.OptionSelected, "#pairs")
    def _pair(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if self.report is None or not option_id.startswith("pair"):
            return
        pair = self.report["drift"]["matched"][int(option_id[4:])]
        self.pane("a").findings.highlight_id(pair["a"])
        self.pane("b").findings.highlight_id(pair["b"])
        lines = [line for line in pair["lines"] if line]
        if lines:
            self.show_code(min(lines), max(lines))

    @on(FindingList.Picked)
    def _picked(self, message: FindingList.Picked) -> None:
        self.show_code(message.finding.line_start, message.finding.line_end)

    def show_code(self, start: int, end: int) -> None:
        """The cited lines in the code view, opening it when it is closed."""
        code = self.query_one("#compare-code", CodeView)
        if code.has_class("hidden"):
            self.action_code()
        code.show_lines(start, end)

    def action_code(self) -> None:
        """Show or hide the reviewed file; on a short screen it takes the whole screen."""
        code = self.query_one("#compare-code", CodeView)
        if code.has_class("hidden") and not code.text:
            from app.source.model import detect_language

            code.show_file(self.path, detect_language(self.path, ""))
        showing = code.has_class("hidden")
        code.set_class(not showing, "hidden")
        if self.has_class("-short"):
            if showing:
                self.maximized = code
            elif self.maximized is code:
                self.minimize()

    def watch_maximized(self, maximized: Widget | None) -> None:
        """Leaving the full-screen code on a short screen closes it (it has no room there)."""
        if maximized is None and self.has_class("-short"):
            self.query_one("#compare-code", CodeView).add_class("hidden")

    def action_full(self, widget_id: str) -> None:
        """One side (or the drift panel) on the whole screen; the same key, or Escape, goes back."""
        widget = self.query_one(f"#{widget_id}")
        if self.maximized is widget:
            self.minimize()
            return
        self.maximized = widget
        target = widget.findings if isinstance(widget, ResultPane) else widget.query_one("#pairs")
        target.focus()

    def action_page(self, direction: int) -> None:
        """PageDown/PageUp scroll the side that has the focus (A when none has), so a long
        answer or a failed side's error can be read where the panes are short."""
        focused = self.focused
        pane = next(
            (p for p in self.query(ResultPane) if focused is not None and p in focused.ancestors_with_self),
            self.pane("a"),
        )
        pane.scroll_page_down(animate=False) if direction > 0 else pane.scroll_page_up(animate=False)

    def action_rerun_with(self) -> None:
        def use(specs: list[str]) -> None:
            self.specs = {"a": specs[0], "b": specs[1]}

        self.pick_providers("Compare with which providers?", [("A", self.specs["a"]), ("B", self.specs["b"])], use)
