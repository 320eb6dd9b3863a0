"""A finished review in any of its formats: JSON (the public contract), SARIF, Markdown,
or the text a terminal would have shown. `review --out`, `history export` and the
non-streaming formats all write it from here."""

from __future__ import annotations

import os

from app.render.console import SafeConsole
from app.render.markdown import review_markdown
from app.render.sarif import review_sarif
from app.render.terminal import json_text
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
