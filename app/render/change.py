"""A review of several files, or of a change, for people: text grouped by file (printed as
each file finishes), Markdown that fits a pull-request comment, and the dispatcher for
every format (JSON and SARIF included)."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.markup import escape

from app.calls.metrics import metrics_line
from app.render.console import SafeConsole
from app.render.markdown import BADGE, cell, details_block
from app.render.sarif import change_sarif
from app.render.terminal import inert_text, json_text
from app.render.text import answer_key_line, counts_line, lines_label, print_checks_and_metrics, print_finding
from app.review.change import ChangeOutcome, change_json, combined_answer_key
from app.review.files import ChangedFile
from app.review.task import ReviewOutcome


def combined_key(outcome: ChangeOutcome) -> dict[str, Any] | None:
    """The change's answer key as its JSON has it, without building the whole JSON."""
    key = combined_answer_key(outcome)
    return key.public() if key is not None else None


def file_heading(file: ChangedFile, outcome: ReviewOutcome | None) -> str:
    """`path (modified, from old.py): 2 findings, score 6/10` — one file's line."""
    what = file.status if file.status != "file" else ""
    if file.old_path:
        what += f", from {file.old_path}"
    label = f"{file.path} ({what})" if what else file.path
    if outcome is None:
        return f"{label}: not sent"
    if outcome.error is not None:
        return f"{label}: failed: {outcome.error.one_line()}"
    findings = len(outcome.result.findings) if outcome.result else 0
    score = f", score {outcome.result.score}/10" if outcome.result and outcome.result.score is not None else ""
    return f"{label}: {findings} finding(s){score}"


def print_file(console: Console, file: ChangedFile, outcome: ReviewOutcome | None) -> None:
    """One file's block: its heading, then its findings (outside the change marked)."""
    console.print(f"[bold]── {escape(file_heading(file, outcome))}[/]")
    console.print()
    for finding in outcome.result.findings if outcome is not None and outcome.result else []:
        print_finding(console, finding)
        if finding.outside_change:
            console.print("          [dim](outside the changed lines)[/]")
            console.print()


def print_change_verdict(console: Console, outcome: ChangeOutcome) -> None:
    result = outcome.result
    if result.score is not None:
        console.print(f"[bold]Score {result.score}/10[/] (the weakest file's)  {escape(result.summary)}")
    else:
        console.print(escape(result.summary))
    console.print(f"Findings: {counts_line(result.counts())}")
    outside = sum(1 for f in result.findings if f.outside_change)
    if outside:
        console.print(f"[dim]{outside} finding(s) are outside the changed lines (--changed-only drops them)[/]")
    if outcome.baseline is not None:
        console.print(escape(baseline_line(outcome.baseline)))
    for left in outcome.change.left_out:
        console.print(f"[dim]not reviewed: {escape(left.path)} ({escape(left.reason)})[/]")
    answer_key = combined_key(outcome)
    if answer_key:
        console.print(escape(answer_key_line(answer_key)))
    print_checks_and_metrics(console, outcome)


def baseline_line(report: dict[str, Any]) -> str:
    line = (
        f"Against baseline {report['run_id']}: {report['new']} new, {report['unchanged']} unchanged, "
        f"{report['fixed']} fixed"
    )
    if report["new_only"]:
        line += " (only the new findings are shown)"
    return line


def change_text(outcome: ChangeOutcome) -> str:
    with open(os.devnull, "w") as sink:
        console = SafeConsole(record=True, file=sink, width=100, color_system=None)
        for file in outcome.change.files:
            print_file(console, file, outcome.outcomes.get(file.path))
        print_change_verdict(console, outcome)
    return console.export_text()


@inert_text
def change_markdown(outcome: ChangeOutcome) -> str:
    change = outcome.change
    result = outcome.result
    out = [f"## driftcheck review: {cell(change.label)}", ""]
    out.append(
        f"Reviewed by `{outcome.provider}:{outcome.model}` · {len(change.files)} file(s)"
        + (f" · **failed**: {outcome.error.one_line()}" if outcome.error else "")
    )
    out.append("")
    if result.score is not None:
        out += [f"**Score {result.score}/10** (the weakest file's). {result.summary}", ""]
    out += [f"Findings: {counts_line(result.counts())}", ""]
    if result.findings:
        out += ["| File | Severity | Lines | Category | Finding |", "|---|---|---|---|---|"]
        for f in result.findings:
            lines = lines_label(f) + ("" if f.lines_valid else " ⚠") + (" (outside change)" if f.outside_change else "")
            out.append(f"| `{cell(f.path or '')}` | {BADGE[f.severity]} | {lines} | {f.category} | {cell(f.title)} |")
        out.append("")
    for file in change.files:
        file_outcome = outcome.outcomes.get(file.path)
        out += [f"### `{cell(file.path)}`", "", cell(file_heading(file, file_outcome)), ""]
        for f in file_outcome.result.findings if file_outcome is not None and file_outcome.result else []:
            symbol = f" in `{cell(f.symbol)}`" if f.symbol else ""
            out += [f"**{f.id} · {cell(f.title)}** ({lines_label(f)}{symbol}, {f.severity})", "", f.explanation, ""]
            out += [f"**Fix:** {f.suggestion}", ""]
        if file_outcome is not None and file_outcome.partial_text:
            out += details_block("Text received before the failure", file_outcome.partial_text)
    if change.left_out:
        out += [
            "**Not reviewed:** " + ", ".join(f"`{cell(left.path)}` ({left.reason})" for left in change.left_out),
            "",
        ]
    answer_key = combined_key(outcome)
    if answer_key:
        out += [answer_key_line(answer_key), ""]
    if outcome.checks:
        out += ["**Checks**", ""] + [f"- `{c.name}` ({c.severity}): {c.message}" for c in outcome.checks] + [""]
    if outcome.response is not None:
        out += [f"<sub>{metrics_line(outcome.response)}</sub>", ""]
    return "\n".join(out)


def change_output(outcome: ChangeOutcome, fmt: str) -> str:
    if fmt == "json":
        return json_text(change_json(outcome)) + "\n"
    if fmt == "sarif":
        return json_text(change_sarif(outcome)) + "\n"
    if fmt == "codequality":
        from app.render.codequality import change_codequality

        return json_text(change_codequality(outcome)) + "\n"
    if fmt == "markdown":
        return change_markdown(outcome)
    return change_text(outcome)
