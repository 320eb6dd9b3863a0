"""The eval report as one self-contained HTML file: tables and two charts (cost against
quality, and the spread of latency), drawn as inline SVG from the report itself.

Nothing is fetched: no scripts, fonts, images or style sheets from anywhere; the file
opens the same offline, attached to a ticket or years later. The numbers behind each
chart are embedded as JSON (`<script type="application/json" id="chart-data">`, data,
not code) so that a reader, or a test, can check a chart against the report.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from app.render.eval import (
    batch_lines,
    disagreement_lines,
    headline,
    judge_table,
    model_table,
    split_lines,
    stopped_line,
)

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;color:#1d2330;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d6dae3;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e7ee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f9}
.rec{background:#eef7ee;border-left:4px solid #3a9a4a;padding:.5rem .8rem}.rec.uncertain{background:#fff7e6;border-color:#d99a1e}
.stopped{background:#fdecec;border-left:4px solid #c0392b;padding:.5rem .8rem}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0}figcaption{color:#5a6272;font-size:.9em}
svg text{font-size:11px;fill:#333}.muted{color:#5a6272}li{margin:.2rem 0}
"""
_PALETTE = ("#2f6fd0", "#d0512f", "#2f9a5a", "#8a4fd0", "#c9a227", "#2fa7b8", "#b83a7a", "#6b7280")


def chart_data(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "cost_quality": {
            task["task"]: [
                {
                    "model": row["model"],
                    "cost_per_call_usd": row["cost_per_call_usd"],
                    "quality": row["quality"]["mean"],
                    "recommended": row["model"] == task["recommendation"]["model"],
                }
                for row in task["models"]
            ]
            for task in report["tasks"]
        },
        "latency_ms": report["latency_samples_ms"],
    }


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _colour(models: list[str], model: str) -> str:
    return _PALETTE[models.index(model) % len(_PALETTE)] if model in models else _PALETTE[-1]


def _cost_quality_svg(points: list[dict[str, Any]], models: list[str]) -> str:
    priced = [p for p in points if p["cost_per_call_usd"] is not None and p["quality"] is not None]
    if not priced:
        return '<p class="muted">No model has both a known cost and a quality score to plot.</p>'
    # The legend sits to the right, as wide as the longest name needs.
    right = 40 + 7 * max(len(p["model"]) for p in priced)
    height, left, bottom, top = 300, 56, 40, 16
    width = 360 + right
    costs = [max(p["cost_per_call_usd"], 1e-7) for p in priced]
    lo, hi = math.log10(min(costs)), math.log10(max(costs))
    pad = max(0.25, (hi - lo) * 0.12)  # no point drawn on an axis
    lo, hi = lo - pad, hi + pad
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(cost: float) -> float:
        return left + (math.log10(max(cost, 1e-7)) - lo) / (hi - lo) * plot_w

    def y(q: float) -> float:
        return top + (10 - q) / 10 * plot_h

    parts = [
        f'<svg role="img" aria-label="cost per call against quality" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" font-family="system-ui, sans-serif">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
    ]
    for q in (0, 5, 10):
        parts.append(f'<text x="{left - 8}" y="{y(q) + 4:.1f}" text-anchor="end">{q}</text>')
    for cost in (10**lo, 10 ** ((lo + hi) / 2), 10**hi):
        parts.append(f'<text x="{x(cost):.1f}" y="{top + plot_h + 16}" text-anchor="middle">${cost:.2g}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">cost per call (log)</text>')
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" transform="rotate(-90 14 {top + plot_h / 2:.1f})" '
        f'text-anchor="middle">quality /10</text>'
    )
    for n, p in enumerate(priced):
        cx, cy = x(p["cost_per_call_usd"]), y(p["quality"])
        ring = ' stroke="#111" stroke-width="2.5"' if p["recommended"] else ""
        parts.append(
            f'<circle class="point" data-model="{escape(p["model"])}" data-cost="{p["cost_per_call_usd"]}" '
            f'data-quality="{p["quality"]}" cx="{cx:.1f}" cy="{cy:.1f}" r="6" '
            f'fill="{_colour(models, p["model"])}"{ring}><title>{escape(p["model"])}: '
            f"{p['quality']:g}/10 at ${p['cost_per_call_usd']:.5f}</title></circle>"
        )
        label = escape(p["model"]) + (" ★" if p["recommended"] else "")
        parts.append(
            f'<text x="{left + plot_w + 12}" y="{top + 14 + n * 16}" fill="{_colour(models, p["model"])}">'
            f"● {label}</text>"
        )
    return "".join(parts) + "</svg>"


def _latency_svg(samples: dict[str, list[float]], models: list[str]) -> str:
    rows = [(m, sorted(v)) for m, v in samples.items() if v]
    if not rows:
        # A batched answer has no live time (its batch's turnaround is in the table instead).
        return '<p class="muted">No answer finished live: no total time to plot.</p>'
    left, right, row_h, top = 24 + 7 * max(len(m) for m, _ in rows), 36, 26, 12
    width = left + 380 + right
    height = top + row_h * len(rows) + 36
    top_ms = max(v[-1] for _, v in rows) * 1.05
    plot_w = width - left - right

    def x(ms: float) -> float:
        return left + ms / top_ms * plot_w

    parts = [
        f'<svg role="img" aria-label="latency per answer" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" font-family="system-ui, sans-serif">'
    ]
    for n, (model, values) in enumerate(rows):
        cy = top + row_h * n + row_h / 2
        colour = _colour(models, model)
        parts.append(f'<text x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end">{escape(model)}</text>')
        for v in values:
            parts.append(
                f'<circle class="sample" data-model="{escape(model)}" data-ms="{v}" cx="{x(v):.1f}" '
                f'cy="{cy:.1f}" r="3.5" fill="{colour}" fill-opacity="0.55"/>'
            )
        median = values[(len(values) - 1) // 2]
        parts.append(
            f'<line x1="{x(median):.1f}" y1="{cy - 9:.1f}" x2="{x(median):.1f}" y2="{cy + 9:.1f}" '
            f'stroke="#111" stroke-width="2"><title>median {median / 1000:.2f} s</title></line>'
        )
    axis_y = top + row_h * len(rows) + 6
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#888"/>')
    for frac in (0, 0.5, 1):
        ms = top_ms * frac
        parts.append(f'<text x="{x(ms):.1f}" y="{axis_y + 14}" text-anchor="middle">{ms / 1000:.1f} s</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 2}" text-anchor="middle">total time per answer '
        f"(bar: median)</text>"
    )
    return "".join(parts) + "</svg>"


def eval_html(report: dict[str, Any]) -> str:
    models = report["plan"]["models"]
    data = chart_data(report)
    title = f"driftcheck eval {report['run_id'] or ''}".strip()
    body = [f"<h1>{escape(title)}</h1>", f"<p>{escape(headline(report))}.</p>"]
    if line := stopped_line(report):
        body.append(f'<p class="stopped">{escape(line)}</p>')
    body.append(
        '<p class="muted">Inputs: '
        + ", ".join(f"{escape(i['id'])} ({escape(i['difficulty'] or 'unrated')})" for i in report["plan"]["items"])
        + "</p>"
    )
    for task in report["tasks"]:
        rec = task["recommendation"]
        body += [
            f"<h2>{escape(task['task'])}</h2>",
            f'<p class="muted">Quality: {escape(task["measure_label"])}; {len(task["items"])} input(s). '
            f"Cells show the mean (lowest–highest).</p>",
            f'<p class="rec{" uncertain" if rec["uncertain"] else ""}"><strong>Recommendation'
            f"{' (uncertain)' if rec['uncertain'] else ''}:</strong> {escape(rec['text'])}</p>",
            _table(*model_table(task)),
            *(f'<p class="muted">{escape(line)}</p>' for line in batch_lines(task)),
            '<div class="charts"><figure>'
            + _cost_quality_svg(data["cost_quality"][task["task"]], models)
            + "<figcaption>Cost per call against quality; ★ and the dark ring mark the recommendation."
            "</figcaption></figure></div>",
        ]
        if task["judges"] is not None:
            body += [
                "<h3>Judges</h3>",
                '<p class="muted">Mean total per model; * marks a judge grading its own model family.</p>',
                _table(*judge_table(task, report["plan"]["judges"])),
            ]
            body.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in disagreement_lines(task)) + "</ul>")
        if task["splits"]:
            body.append("<h3>Where the models split</h3>")
            for split in task["splits"]:
                body.append(f"<p><strong>{escape(split['item'])}</strong> ({escape(split['why'])})</p>")
                body.append(_table(["model", "answer"], [list(pair) for pair in split_lines(split)]))
    body += [
        "<h2>Latency</h2>",
        "<figure>"
        + _latency_svg(data["latency_ms"], models)
        + "<figcaption>Every finished answer's total time, per model.</figcaption></figure>",
    ]
    # `</` cannot appear inside the JSON block, so no value can end it early.
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + f'\n<script type="application/json" id="chart-data">{payload}</script>\n</body></html>\n'
    )
