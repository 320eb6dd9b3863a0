"""The review as text, printed as it streams: each finding the moment it is complete,
then the verdict. Rich colours it on a terminal and prints plain text into a pipe or a
log. Everything from the model is escaped: a "[red]" in a reply is text, not markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from app.calls.metrics import metrics_line
from app.render.styles import SEVERITY_STYLE
from app.review.model import SEVERITIES, Finding
from app.review.task import ReviewOutcome


def lines_label(finding: Finding) -> str:
    if finding.line_start == finding.line_end:
        return f"L{finding.line_start}"
    return f"L{finding.line_start}-{finding.line_end}"


def print_finding(console: Console, finding: Finding) -> None:
    style = SEVERITY_STYLE[finding.severity]
    where = lines_label(finding) + ("" if finding.lines_valid else " (not in file)")
    symbol = f"  [dim]in[/] {escape(finding.symbol)}" if finding.symbol else ""
    console.print(
        f"[{style}]{finding.severity.upper():>8}[/]  {finding.id:<4} {where:<10} [dim]{finding.category}[/]{symbol}"
    )
    console.print(f"          [bold]{escape(finding.title)}[/]")
    console.print(f"          {escape(finding.explanation)}", soft_wrap=False)
    console.print(f"          [green]fix:[/] {escape(finding.suggestion)}")
    console.print()


def counts_line(counts: dict[str, int]) -> str:
    return " · ".join(f"{counts[s]} {s}" for s in SEVERITIES)


def print_verdict(console: Console, outcome: ReviewOutcome) -> None:
    result = outcome.result
    if result is not None and outcome.repaired and result.findings:
        console.print("[yellow]The first reply was repaired; the findings as repaired:[/]\n")
        for finding in result.findings:
            print_finding(console, finding)
    if result is not None:
        if result.score is not None:
            console.print(f"[bold]Score {result.score}/10[/]  {escape(result.summary)}")
        elif result.findings:
            console.print(
                f"[yellow]No score: {escape(result.summary)}; the {len(result.findings)} "
                f"finding(s) above arrived before the failure.[/]"
            )
        console.print(f"Findings: {counts_line(result.counts())}")
    if outcome.error is not None:
        print_partial_text(console, outcome.partial_text, "The review is incomplete")
    if outcome.answer_key:
        console.print(escape(answer_key_line(outcome.answer_key)))
    print_checks_and_metrics(console, outcome)


def print_partial_text(console: Console, text: str, what: str) -> None:
    """What a failed task received before the failure, as its JSON keeps it, marked as such."""
    if not text:
        return
    console.print(f"[yellow]{what}: the text received before the failure ({len(text):,} characters):[/]")
    console.print(text, markup=False, highlight=False)
    console.print("[yellow](end of the incomplete text)[/]")


def print_checks_and_metrics(console: Console, outcome: Any) -> None:
    """The end of every task's text output: each check, then the metrics line."""
    for check in outcome.checks:
        colour = "red" if check.severity == "error" else "yellow"
        console.print(
            f"[{colour}]{check.severity}: {check.name}:[/] {escape(check.message)}. [dim]{escape(check.diagnosis)}[/]"
        )
    if outcome.response is not None:
        console.print(f"[dim]{escape(metrics_line(outcome.response))}[/]")


def answer_key_line(report: dict[str, Any]) -> str:
    precision = "n/a" if report["precision"] is None else f"{report['precision']:.2f}"
    line = (
        f"Answer key {report['key']}: {report['matched']} of {report['expected']} planted issues found "
        f"(recall {report['recall']:.2f}, precision {precision})"
    )
    if report["missed"]:
        line += f"; missed: {', '.join(report['missed'])}"
    return line


def route_event_line(event: Any) -> str | None:
    """A retry or a routing decision as one line for stderr or a status bar; None otherwise."""
    from providers import RetryScheduled
    from providers.pricing import format_cost
    from providers.types import (
        CooldownSkipped,
        CooldownStarted,
        FallbackTaken,
        HedgeDecided,
        HedgeStarted,
        HedgeWithheld,
    )

    if isinstance(event, RetryScheduled):
        return f"retry {event.attempt} in {event.delay_s:.1f} s: {event.error.one_line()}"
    if isinstance(event, FallbackTaken):
        return f"falling back from {event.failed} to {event.next}: {event.error.one_line()}"
    if isinstance(event, CooldownSkipped):
        return f"skipping {event.spec}: cooling down for another {event.seconds_left:g} s after repeated failures"
    if isinstance(event, CooldownStarted):
        return f"{event.spec} failed {event.failures} times in a row: skipped for {event.seconds:g} s"
    if isinstance(event, HedgeStarted):
        return f"no first token from {event.primary} after {event.after_s:g} s: hedging with {event.hedge}"
    if isinstance(event, HedgeWithheld):
        return (
            f"no first token from {event.primary} after {event.after_s:g} s, but no hedge to {event.hedge}: "
            f"the hedge budget ({event.budget:.0%} of requests) is spent; waiting for {event.primary} "
            f"(raise [resilience] hedge_budget to hedge more often)"
        )
    if isinstance(event, HedgeDecided):
        return (
            f"hedge: {event.winner} streamed first; {event.loser} cancelled "
            f"(its cost so far, estimated: {format_cost(event.loser_cost_usd)})"
        )
    return None
