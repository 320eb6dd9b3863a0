"""A triage as text (actions as table rows the moment each arrives, then the rest) and
as Markdown. Everything from the model or the incident is escaped."""

from __future__ import annotations

import textwrap
from typing import Any

from rich.console import Console
from rich.markup import escape

from app.calls.metrics import metrics_text
from app.render.listing import Column, fit_widths
from app.render.markdown import cell, details_block
from app.render.terminal import inert_text
from app.render.text import print_checks_and_metrics, print_partial_text
from app.triage.judge import disagreement

# priority, action, owner, timeline: their widths when the console is wide enough
_COLUMNS = (
    Column("#"),
    Column("action", free=True, min_width=20),
    Column("owner", free=True, min_width=10),
    Column("timeline", free=True, min_width=10),
)
_NATURAL = (3, 52, 22, 20)
_SEVERITY_STYLE = {"P1": "bold white on red", "P2": "bold red", "P3": "yellow", "P4": "cyan"}


def _widths(console_width: int) -> list[int]:
    """The columns narrowed to the console (in a pipe: COLUMNS, else 80), so that even the
    header never wraps onto a line of its own."""
    return fit_widths(_COLUMNS, _NATURAL, console_width - 2 * (len(_COLUMNS) - 1))


def _row(cells: tuple[str, ...], widths: list[int]) -> list[str]:
    wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    return [
        "  ".join((w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, widths, strict=True)).rstrip()
        for i in range(height)
    ]


class ItemRows:
    """Prints the action table one row at a time, as the items stream in."""

    def __init__(self, console: Console, mode: str) -> None:
        self.console = console
        self.mode = mode
        self.count = 0
        self.widths = _widths(console.width)

    def add(self, item: Any) -> None:
        if self.count == 0:
            title = "Actions" if self.mode == "active" else "Follow-ups"
            self.console.print(f"[bold]{title}[/]")
            self.console.print(f"[dim]{_row(('#', 'action', 'owner', 'timeline'), self.widths)[0]}[/]")
        self.count += 1
        number = str(getattr(item, "priority", self.count))
        for line in _row((number, item.action, item.owner, item.timeline), self.widths):
            self.console.print(escape(line))


def print_triage(console: Console, outcome: Any) -> None:
    result = outcome.result
    if result is not None:
        console.print()
        style = _SEVERITY_STYLE.get(result.severity, "bold")
        console.print(f"[{style}] {result.severity} [/] {escape(result.severity_reason)}")
        cause = result.root_cause
        console.print(f"[bold]Root cause[/] ({cause.confidence} confidence): {escape(cause.summary)}")
        if outcome.mode == "active":
            esc = result.escalation
            console.print(f"[bold]Escalation:[/] {esc.decision} — {escape(esc.reason)}")
            for caution in result.cautions:
                console.print(f"[yellow]Caution:[/] {escape(caution)}")
        else:
            for label, items in (
                ("Contributing", result.contributing_factors),
                ("Detection gap", result.detection_gaps),
            ):
                for item in items:
                    console.print(f"[bold]{label}:[/] {escape(item)}")
            for hyp in result.alternative_hypotheses:
                console.print(f"[bold]Alternative:[/] {escape(hyp.hypothesis)} — {escape(hyp.assessment)}")
    else:
        print_partial_text(console, outcome.partial_text, "No complete answer")
    ref = outcome.reference_checks
    if ref:
        console.print(escape(reference_line(ref)))
    for judge in outcome.judges:
        console.print(escape(judge_line(judge.to_dict())))
    spread = disagreement(outcome.judges)
    if spread:
        console.print(
            ("[yellow]" if spread.notable else "[dim]")
            + f"Judges differ by {spread.diagnosis} on diagnosis, {spread.quality} on quality, "
            f"{spread.total} in total[/]"
        )
    print_checks_and_metrics(console, outcome)


def reference_line(ref: dict[str, Any]) -> str:
    line = f"Actions with an owner and a timeline: {ref['actions_with_owner_and_timeline']} of {ref['actions']}"
    if ref.get("reference"):
        covered = sum(p["covered"] for p in ref["must_make"])
        line = (
            f"Reference {ref['reference']}: {covered} of {len(ref['must_make'])} key points made; "
            + (
                f"RECOMMENDS WHAT IT MUST NOT: {'; '.join(v['action'] for v in ref['must_not_violations'])}; "
                if ref["must_not_violations"]
                else "no harmful action recommended; "
            )
            + line.lower()
        )
    return line


def judge_line(judge: dict[str, Any]) -> str:
    if judge["status"] != "ok":
        return f"Judge {judge['judge']}: failed — {judge['error']['message']}"
    flag = " (same model family as the answer: may favour it)" if judge["self_graded"] else ""
    return (
        f"Judge {judge['judge']}: diagnosis {judge['diagnosis']}/5, quality {judge['quality']}/5, "
        f"total {judge['total']}/10{flag}. {judge['diagnosis_reason']} {judge['quality_reason']}"
    )


@inert_text
def triage_markdown(record: dict[str, Any]) -> str:
    """A triage as Markdown, from its public JSON (`triage --format json`, what history
    stores): one renderer for the command, the TUI's export and a run from history."""
    mode = record.get("mode") or "active"
    error = record.get("error")
    out = [
        f"## driftcheck triage ({mode}): `{(record.get('input') or {}).get('path', '')}`",
        "",
        f"Triaged by `{record.get('provider')}:{record.get('model')}`"
        + (f" · **failed**: {error['message']}" if error else ""),
        "",
    ]
    result = record.get("result")
    if result is not None:
        cause = result["root_cause"]
        out += [
            f"**{result['severity']}** — {result['severity_reason']}",
            "",
            f"**Root cause** ({cause['confidence']} confidence): {cause['summary']}",
            "",
        ]
        items = result.get("actions" if mode == "active" else "follow_ups") or []
        out += ["| # | Action | Owner | Timeline |", "|---|---|---|---|"]
        out += [
            f"| {a.get('priority', n)} | {cell(a['action'])} | {cell(a['owner'])} | {cell(a['timeline'])} |"
            for n, a in enumerate(items, start=1)
        ]
        out.append("")
        if mode == "active":
            escalation = result["escalation"]
            out += [f"**Escalation:** {escalation['decision']} — {escalation['reason']}", ""]
            out += [f"- ⚠ {c}" for c in result.get("cautions") or []] + ([""] if result.get("cautions") else [])
    if record.get("reference_checks"):
        out += [reference_line(record["reference_checks"]), ""]
    if record.get("judges"):
        out += ["| Judge | Diagnosis | Quality | Total | Same family |", "|---|---|---|---|---|"]
        for j in record["judges"]:
            out.append(
                f"| `{j['judge']}` | {j['diagnosis'] or '—'} | {j['quality'] or '—'} | {j['total'] or '—'} | "
                f"{'yes' if j['self_graded'] else 'no'} |"
            )
        out.append("")
    if record.get("partial_text"):
        out += details_block("Text received before the failure", record["partial_text"])
    if record.get("metrics") and (record["metrics"].get("latency_ms") is not None):
        spec = f"{record.get('provider')}:{record.get('model')}"
        request_id = (record.get("provenance") or {}).get("request_id")
        out += [f"<sub>{metrics_text(spec, record['metrics'], request_id)}</sub>", ""]
    return "\n".join(out)
