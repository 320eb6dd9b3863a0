"""The compare screen: two panes streaming side by side, each with its own metrics bar,
live count and score; when both finish, the drift panel. Picking a matched pair
highlights it on both sides. A failed side shows its error; the other carries on."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from app.tui.runs import RunEnded, prepare_review
from app.tui.task_screen import TaskScreen
from app.tui.widgets import ResultPane, escape


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

    BINDINGS = [
        Binding("escape", "cancel", "Cancel run", id="compare.cancel"),
        Binding("r", "rerun", "Re-run", id="compare.rerun"),
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
        with Horizontal(id="compare-body"):
            yield ResultPane(f"A · {self.specs['a']}", id="side-a")
            yield ResultPane(f"B · {self.specs['b']}", id="side-b")
        yield DriftPanel(id="drift")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"compare · {self.path}"
        if self.stored is None:
            self.call_after_refresh(self.run_compare)  # the first frame first, then the work
            return
        for side in ("a", "b"):
            self.pane(side).show_review(self.stored[side])
        self.report = self.stored
        self.query_one(DriftPanel).show(self.stored)

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

    def action_rerun(self) -> None:
        if not self.running:
            self.run_compare()
