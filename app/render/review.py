"""A finished review in any of its formats: JSON (the public contract), SARIF, Markdown,
or the text a terminal would have shown. `review --out`, `history export` and the
non-streaming formats all write it from here."""

from __future__ import annotations

import os
from typing import Any

from app.render.console import SafeConsole
from app.render.markdown import review_markdown
from app.render.sarif import review_sarif
from app.render.terminal import inert_text, json_text
from app.render.text import print_finding, print_verdict
from app.review.report import review_json
from app.review.task import ReviewOutcome


def review_output(outcome: ReviewOutcome, fmt: str) -> str:
    if fmt == "json":
        return json_text(review_json(outcome)) + "\n"
    if fmt == "sarif":
        return json_text(review_sarif(outcome)) + "\n"
    if fmt == "markdown":
        return review_markdown(outcome)
    with open(os.devnull, "w") as sink:
        console = SafeConsole(record=True, file=sink, width=100, color_system=None)
        for finding in outcome.result.findings if outcome.result else []:
            print_finding(console, finding)
        print_verdict(console, outcome)
    return console.export_text()


def stability_lines(record: dict[str, Any]) -> list[str]:
    """`review --repeat N` in words: how many findings every run made, and which came and went."""
    from app.compare.stability import consensus_sentence

    stability = record["stability"]
    clusters = stability["clusters"]
    stable = sum(1 for c in clusters if c["verdict"] == "stable")
    lines = [
        f"stability over {stability['finished']} finished run(s) of {stability['runs']}: {stable} finding(s) in "
        f"every run, {len(clusters) - stable} that come and go"
    ]
    lines += [f"  {consensus_sentence(c)}" for c in clusters if c["verdict"] != "stable"]
    return lines


@inert_text
def repeat_output(outcomes: list[ReviewOutcome], record: dict[str, Any], fmt: str) -> str:
    """A review run N times (`review --repeat N`): JSON with every run and the stability
    of each finding; SARIF with one result per finding and its stability as properties;
    text and Markdown as the first run's, then the stability in words."""
    from app.render.sarif import repeated_findings

    if fmt == "json":
        return json_text(record) + "\n"
    if fmt == "sarif":
        clusters = record["stability"]["clusters"]
        sarif = review_sarif(outcomes[0], repeated_findings(outcomes, clusters), repeat=len(outcomes))
        return json_text(sarif) + "\n"
    lines = stability_lines(record)
    if fmt == "markdown":
        return review_markdown(outcomes[0]) + "\n### Stability\n\n" + "".join(f"- {line.strip()}\n" for line in lines)
    return review_output(outcomes[0], fmt) + "".join(f"{line}\n" for line in lines)
