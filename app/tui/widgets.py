"""The TUI's building blocks: the code view, a result pane (metrics, score, findings or
actions as they stream, checks, the model's live text) and the drift panel.

Widgets are told what to show by their screen ("attributes down") and report what the
user picked with messages ("messages up"). Streamed text goes to `LiveText`, which cuts
it into lines of a fixed width and appends each finished line to a `Log`: the cost of a
token is the same on the first line as on the thousandth.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Log, OptionList, Static
from textual.widgets.option_list import Option

from app.render.styles import SEVERITY_STYLE


def escape(text: str) -> str:
    """`text` as literal Textual markup. rich's `escape` only escapes what looks like a rich
    tag, but Textual's parser reads an unclosed `[` (a CSI's `[31m`, shown inertly) up to the
    next tag and fails, so every `[` is escaped."""
    return text.replace("[", "\\[")


class MetricsBar(Static):
    """Provider, model, time to first token, total, tokens, cost, retries, hedge/fallback.
    While a call runs it counts the seconds, so a slow first token still shows progress."""

    _started: float | None = None
    _clock: Any = None
    _spec = ""
    _note = ""

    def show_running(self, spec: str, note: str = "") -> None:
        import time

        if self._started is None:
            self._started = time.monotonic()
            self._clock = self.set_interval(1.0, self._tick, name="elapsed")
        self._spec, self._note = spec, note
        self._tick()

    def _tick(self) -> None:
        import time

        if self._started is not None:
            elapsed = time.monotonic() - self._started
            self.update(f"[b]{escape(self._spec)}[/] · running {elapsed:.0f} s{escape(self._note)}")

    def show_metrics(self, spec: str, metrics: dict[str, Any] | None, status: str) -> None:
        from app.calls.metrics import cache_phrase
        from providers.pricing import format_cost

        self._started = None
        if self._clock is not None:  # the elapsed-time tick stops with the run
            self._clock.stop()
            self._clock = None

        m = metrics or {}
        colour = {"ok": "green", "failed": "red", "cancelled": "yellow"}.get(status, "white")
        parts = [f"[b]{escape(spec)}[/]", f"[{colour}]{status}[/]"]
        if m.get("ttft_ms") is not None:
            parts.append(f"first token {m['ttft_ms']:,.0f} ms")
        if m.get("latency_ms") is not None:
            parts.append(f"total {m['latency_ms'] / 1000:,.2f} s")
        if m.get("input_tokens") is not None or m.get("output_tokens") is not None:
            parts.append(f"tokens {m.get('input_tokens') or 0:,} in / {m.get('output_tokens') or 0:,} out")
        if m:
            parts.append(format_cost(m.get("cost_usd")))
        cache = cache_phrase(m.get("cache_read_tokens"), m.get("cache_write_tokens"), m.get("cache_saved_usd"))
        if cache:
            parts.append(cache)
        parts.append(f"retries {m.get('retries') or 0}")
        if m.get("hedged"):
            parts.append("hedged")
        if m.get("fallback_from"):
            parts.append(f"fell back from {escape(m['fallback_from'])}")
        self.update(" · ".join(parts))


class LiveText(Vertical):
    """The model's text as it arrives, as wrapped lines appended to a log."""

    DEFAULT_CSS = "LiveText { height: 7; } LiveText Log { height: 1fr; }"

    def __init__(self, width: int = 72, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line_width = width
        self._partial = ""
        self.received = 0

    def compose(self) -> ComposeResult:
        log = Log(max_lines=2_000, auto_scroll=True)
        log.can_focus = False  # it scrolls by itself and takes no keys: Tab skips it
        yield log

    def on_resize(self) -> None:
        # Lines are cut to the pane's width, so none of them needs a horizontal scroll.
        self.line_width = max(20, self.size.width - 2)

    def clear(self) -> None:
        self._partial = ""
        self.received = 0
        self.query_one(Log).clear()

    def append(self, text: str) -> None:
        self.received += len(text)
        buffer = self._partial + text.replace("\r", "")
        lines = []
        while True:
            cut = buffer.find("\n")
            if cut == -1 or cut > self.line_width:
                if len(buffer) < self.line_width:
                    break
                cut = self.line_width
                lines.append(buffer[:cut])
                buffer = buffer[cut:]
            else:
                lines.append(buffer[:cut])
                buffer = buffer[cut + 1 :]
        self._partial = buffer
        if lines:
            self.query_one(Log).write_lines(lines)

    def flush(self) -> None:
        if self._partial:
            self.query_one(Log).write_line(self._partial)
            self._partial = ""


def finding_prompt(finding: Any) -> str:
    where = f"L{finding.line_start}" + (f"-{finding.line_end}" if finding.line_end != finding.line_start else "")
    symbol = f" [dim]in {escape(finding.symbol)}[/]" if finding.symbol else ""
    valid = "" if finding.lines_valid else " [red](not in file)[/]"
    return (
        f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.upper():>8}[/] {finding.id:<4} {where:<9}"
        f"{valid} {escape(finding.title)}{symbol}"
    )


class FindingList(OptionList):
    """Findings (or triage actions) in the order they arrive; picking one is posted up;
    `y` copies the highlighted one's text to the clipboard."""

    BINDINGS = [
        Binding(
            "y", "copy_item", "Copy", show=False, tooltip="Copy the highlighted finding or action", id="findings.copy"
        )
    ]
    KEYS_WHERE = "a finding or action"

    class Picked(Message):
        def __init__(self, finding: Any) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings: list[Any] = []

    def reset(self) -> None:
        self.findings = []
        self.clear_options()

    def add_finding(self, finding: Any) -> None:
        self.findings.append(finding)
        self.add_option(Option(finding_prompt(finding), id=f"f{len(self.findings) - 1}"))

    def add_item(self, item: Any, number: int) -> None:
        self.findings.append(item)
        self.add_option(
            Option(
                f"[b]{getattr(item, 'priority', number):>2}.[/] {escape(item.action)} "
                f"[dim]({escape(item.owner)}, {escape(item.timeline)})[/]",
                id=f"f{len(self.findings) - 1}",
            )
        )

    def replace_findings(self, findings: list[Any]) -> None:
        """The final list (after validation or a repair) replaces what streamed, when it
        differs: usually it is the same, and rebuilding a long list would cost a frame."""
        if [f.model_dump() for f in findings] == [f.model_dump() for f in self.findings]:
            return
        self.reset()
        self.findings = list(findings)
        self.add_options([Option(finding_prompt(f), id=f"f{n}") for n, f in enumerate(findings)])

    def highlight_id(self, finding_id: str) -> None:
        for index, finding in enumerate(self.findings):
            if getattr(finding, "id", None) == finding_id:
                self.highlighted = index
                return

    def current(self) -> Any | None:
        index = self.highlighted
        return self.findings[index] if index is not None and index < len(self.findings) else None

    def action_copy_item(self) -> None:
        from app.tui.export import item_text

        item = self.current()
        if item is None:
            self.notify("Highlight a finding or an action first.", severity="warning")
            return
        self.app.copy_to_clipboard(item_text(item))
        self.notify("Copied to the clipboard (where the terminal supports it).", title="Copy")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self.findings):
            self.post_message(self.Picked(self.findings[event.option_index]))


class ResultPane(Vertical):
    """One provider's result: metrics bar, score and summary, the streamed list, checks
    and the live text. The same pane serves a review, each side of a compare, a triage."""

    def __init__(self, title: str = "", *, parts_later: bool = False, **kwargs: Any) -> None:
        """With `parts_later`, the pane starts as its summary line alone (a light first
        frame); `mount_parts` adds the rest around it. The parts exist from the start, so
        reading them (`metrics`, `findings`, `live`) never depends on when they are mounted."""
        super().__init__(**kwargs)
        self.border_title = title
        self.parts_later = parts_later
        self._metrics = MetricsBar("", classes="metrics")
        self._summary = Static("[dim]Preparing…[/]" if parts_later else "", classes="summary")
        self._findings = FindingList(classes="findings")
        self._checks = Static("", classes="checks")
        self._live = LiveText(classes="live")

    def compose(self) -> ComposeResult:
        if self.parts_later:
            yield self._summary
            return
        yield from (self._metrics, self._summary, self._findings, self._checks, self._live)

    async def mount_parts(self) -> bool:
        """The parts a pane started without (`parts_later`): the same pane as one composed
        whole. False when the pane is going (its screen left, or the app quit, meanwhile)."""
        if not self.parts_later:
            return True
        if not self.is_attached:
            return False
        self.parts_later = False
        await self.mount(self._metrics, before=self._summary)
        await self.mount(self._findings, self._checks, self._live, after=self._summary)
        return True

    @property
    def metrics(self) -> MetricsBar:
        return self._metrics

    @property
    def findings(self) -> FindingList:
        return self._findings

    @property
    def live(self) -> LiveText:
        return self._live

    def start(self, spec: str) -> None:
        self.findings.reset()
        self.live.clear()
        self._summary.update("")
        self._checks.update("")
        self.metrics.show_running(spec)

    def count_note(self, spec: str, score: int | None = None) -> None:
        """The live count (and score once known) while the side streams."""
        self.metrics.show_running(
            spec, f" · {len(self.findings.findings)} so far" + (f" · score {score}/10" if score is not None else "")
        )

    def apply(self, event: Any, spec: str, public: dict[str, Any] | None = None) -> None:
        """One of the task's events, as it happened; a side is shown complete (from its
        public JSON) the moment it ends, whatever the other side is doing."""
        from app.calls.structured import TextArrived
        from app.render.text import route_event_line
        from app.review.task import FindingFound, ReviewFinished
        from app.triage.task import ItemFound, JudgingStarted, TriageFinished

        if isinstance(event, TextArrived):
            self.live.append(event.text)
        elif isinstance(event, FindingFound):
            self.findings.add_finding(event.finding)
            self.count_note(spec)
        elif isinstance(event, ItemFound):
            self.findings.add_item(event.item, len(self.findings.findings) + 1)
            self.count_note(spec)
        elif isinstance(event, JudgingStarted):
            self.metrics.show_running(spec, f" · judging with {', '.join(event.judges)}")
        elif (line := route_event_line(event)) is not None:  # a retry, fallback or hedge
            self.metrics.show_running(spec, f" · {line}")
        elif isinstance(event, ReviewFinished):
            self.show_review(public)
        elif isinstance(event, TriageFinished):
            self.show_triage(public)

    def show_summary(self, text: str) -> None:
        self._summary.update(text)

    def show_checks(
        self, checks: list[dict[str, Any]], error: dict[str, Any] | None = None, partial_text: str | None = None
    ) -> None:
        lines = []
        if error:
            lines.append(f"[b red]failed:[/] {escape(error['message'])}")
            if partial_text:
                lines.append(
                    f"[dim]{len(partial_text):,} characters arrived before the failure; they are "
                    f"in the live view below and in history[/]"
                )
        for check in checks:
            colour = "red" if check["severity"] == "error" else "yellow"
            lines.append(f"[{colour}]⚠ {check['name']}:[/] {escape(check['message'])}")
        self._checks.update("\n".join(lines))

    def show_review(self, data: dict[str, Any] | None) -> None:
        """A finished review, live or from history: final findings, score, checks, metrics."""
        if data is None:
            return
        from app.review.stored import outcome_from_json

        result = outcome_from_json(data).result
        if result is not None:
            self.findings.replace_findings(result.findings)
            score = f"[b]Score {result.score}/10[/]  " if result.score is not None else "[b]No score[/]  "
            key = data.get("answer_key")
            recall = (
                (
                    f"\n[dim]Answer key: {key['matched']} of {key['expected']} planted issues found "
                    f"(recall {key['recall']:.2f})[/]"
                )
                if key and data["status"] == "ok"  # a failed side found nothing: no recall to show
                else ""
            )
            self.show_summary(score + escape(result.summary) + recall)
        self.show_checks(data.get("checks") or [], data.get("error"), data.get("partial_text"))
        self.metrics.show_metrics(f"{data['provider']}:{data['model']}", data.get("metrics"), data["status"])

    def show_triage(self, data: dict[str, Any] | None) -> None:
        """A finished triage: severity, cause, escalation, cautions, reference and judges."""
        if data is None:
            return
        from app.render.triage import judge_line, reference_line

        result = data.get("result")
        lines = []
        if result:
            lines.append(f"[b]{result['severity']}[/] {escape(result['severity_reason'])}")
            cause = result["root_cause"]
            lines.append(f"[b]Root cause[/] ({cause['confidence']}): {escape(cause['summary'])}")
            if "escalation" in result:
                lines.append(
                    f"[b]Escalation:[/] {result['escalation']['decision']} — {escape(result['escalation']['reason'])}"
                )
            lines += [f"[yellow]Caution:[/] {escape(c)}" for c in result.get("cautions", [])]
        if data.get("reference_checks"):
            lines.append(f"[dim]{escape(reference_line(data['reference_checks']))}[/]")
        lines += [escape(judge_line(j)) for j in data.get("judges") or []]
        spread = data.get("judge_disagreement")
        if spread:
            colour = "yellow" if spread["notable"] else "dim"
            lines.append(
                f"[{colour}]Judges differ by {spread['diagnosis']} on diagnosis, {spread['quality']} on "
                f"quality, {spread['total']} in total[/]"
            )
        self.show_summary("\n".join(lines))
        self.show_checks(data.get("checks") or [], data.get("error"), data.get("partial_text"))
        self.metrics.show_metrics(f"{data['provider']}:{data['model']}", data.get("metrics"), data["status"])
