"""The review as Markdown, for a pull-request comment or a ticket."""

from __future__ import annotations

import re

from app.calls.metrics import metrics_line
from app.render.terminal import inert_text
from app.render.text import answer_key_line, counts_line, lines_label
from app.review.task import ReviewOutcome

BADGE = {"critical": "🟥 critical", "high": "🟧 high", "medium": "🟨 medium", "low": "🟦 low", "info": "⬜ info"}


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def details_block(summary: str, text: str) -> list[str]:
    """Text folded away under a summary, fenced so that nothing in it can close the fence."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [f"<details><summary>{summary}</summary>", "", fence, text, fence, "</details>", ""]


@inert_text
def review_markdown(outcome: ReviewOutcome) -> str:
    result = outcome.result
    out = [f"## driftcheck review: `{outcome.input.path}`", ""]
    out.append(
        f"Reviewed by `{outcome.provider}:{outcome.model}`"
        + (f" · **failed**: {outcome.error.one_line()}" if outcome.error else "")
    )
    out.append("")
    if result is not None:
        if result.score is not None:
            out += [f"**Score {result.score}/10.** {result.summary}", ""]
        out += [f"Findings: {counts_line(result.counts())}", ""]
        if result.findings:
            out += ["| | Severity | Lines | Category | Symbol | Finding |", "|---|---|---|---|---|---|"]
            for f in result.findings:
                lines = lines_label(f) + ("" if f.lines_valid else " ⚠")
                out.append(
                    f"| {f.id} | {BADGE[f.severity]} | {lines} | {f.category} | "
                    f"{cell(f'`{f.symbol}`' if f.symbol else '')} | {cell(f.title)} |"
                )
            out.append("")
            for f in result.findings:
                out += [
                    f"### {f.id} · {cell(f.title)} ({lines_label(f)})",
                    "",
                    f.explanation,
                    "",
                    f"**Fix:** {f.suggestion}",
                    "",
                ]
    if outcome.answer_key:
        out += [answer_key_line(outcome.answer_key), ""]
    if outcome.checks:
        out += (
            ["**Checks**", ""]
            + [f"- `{c.name}` ({c.severity}): {c.message}. {c.diagnosis}" for c in outcome.checks]
            + [""]
        )
    if outcome.partial_text:
        out += details_block("Text received before the failure", outcome.partial_text)
    response = outcome.response
    if response is not None:
        out += [f"<sub>{metrics_line(response)}</sub>", ""]
    return "\n".join(out)
