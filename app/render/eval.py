"""The eval report for people: the same rows for the terminal (rich), Markdown and HTML.

`model_table` and the other row builders say what each table holds once; the three
renderers only decide how a row looks.
"""

from __future__ import annotations

from typing import Any

from app.calls.metrics import cache_phrase
from app.render.terminal import inert_text
from providers.pricing import format_cost

# Items where the models split, shown in full on a terminal (Markdown and HTML show all).
TERMINAL_SPLITS = 3


def _q(stats: dict[str, Any]) -> str:
    if stats["mean"] is None:
        return "–"
    if stats["n"] > 1 and stats["min"] != stats["max"]:
        return f"{stats['mean']:g} ({stats['min']:g}–{stats['max']:g})"
    return f"{stats['mean']:g}"


def _ms(spread: dict[str, Any]) -> str:
    if spread["median"] is None:
        return "–"
    return f"{spread['median'] / 1000:.2f} / {spread['p95'] / 1000:.2f} s"


def _cost(value: float | None) -> str:
    return "unknown" if value is None else format_cost(value)


def model_table(task: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per model."""
    difficulties = task["difficulties"]
    has_reference = any("reference" in r for r in task["models"])
    has_key = any("answer_key" in r for r in task["models"])
    header = ["model", "quality", *difficulties]
    if has_reference:
        header += ["coverage", "harmful"]
    if has_key:
        header += ["recall", "precision"]
    header += ["failed", "TTFT p50/p95", "total p50/p95", "cost/call", "cost/point"]
    rows = []
    for row in task["models"]:
        cells = [
            row["model"],
            _q(row["quality"]),
            *(_q(row["by_difficulty"][d]) if d in row["by_difficulty"] else "–" for d in difficulties),
        ]
        if has_reference:
            ref = row.get("reference") or {}
            cells += ["–" if ref.get("coverage") is None else f"{ref['coverage']:.0%}", str(ref.get("violations", "–"))]
        if has_key:
            key = row.get("answer_key") or {}
            cells += [
                "–" if key.get("recall") is None else f"{key['recall']:.0%}",
                "–" if key.get("precision") is None else f"{key['precision']:.0%}",
            ]
        not_sent = f", {row['skipped']} not sent" if row.get("skipped") else ""
        # No answer at all: there is no cost per call to know, which is not an unknown price.
        answered = row["failed"] < row["calls"]
        cells += [
            f"{row['failed']}/{row['calls']}{not_sent}",
            _ms(row["ttft_ms"]),
            _ms(row["latency_ms"]),
            _cost(row["cost_per_call_usd"]) if answered else "–",
            "–"
            if not answered or (row["cost_per_point_usd"] is None and row["cost_per_call_usd"] is not None)
            else _cost(row["cost_per_point_usd"]),
        ]
        rows.append(cells)
    return header, rows


def batch_lines(task: dict[str, Any]) -> list[str]:
    """The models answered through a batch API: their batch's turnaround, said apart from
    the live timings (TTFT and total leave batched answers out)."""
    return [
        f"{row['model']}: answered through a batch API; batch turnaround {_ms(row['batch_turnaround_ms'])} "
        "p50/p95 (submit to result, not a live latency: not in TTFT or total)"
        for row in task["models"]
        if row.get("batch_turnaround_ms")
    ]


def judge_table(task: dict[str, Any], judges: list[str]) -> tuple[list[str], list[list[str]]]:
    """Each judge's mean total per model, with * where the judge graded its own family."""
    own = {(s["judge"], s["model"]) for s in (task["judges"] or {}).get("self_grading", [])}
    rows = [
        [
            row["model"],
            *(
                "–"
                if row["by_judge"].get(j) is None
                else f"{row['by_judge'][j]:g}{' *' if (j, row['model']) in own else ''}"
                for j in judges
            ),
        ]
        for row in task["models"]
        if "by_judge" in row
    ]
    return ["model", *judges], rows


def disagreement_lines(task: dict[str, Any]) -> list[str]:
    section = task["judges"] or {}
    lines = []
    for entry in section.get("disagreement", []):
        notable = "; ".join(
            f"{n['model']}: " + ", ".join(f"{j} {t}" for j, t in n["scores"].items()) for n in entry["notable"]
        )
        lines.append(
            f"{entry['item']}: judges differ by up to {entry['max_spread']} point(s) "
            f"(mean {entry['mean_spread']:g})" + (f" — {notable}" if notable else "")
        )
    for s in section.get("self_grading", []):
        pref = (
            ""
            if s["preference"] is None
            else (
                ", the same as the other judges"
                if s["preference"] == 0
                else f", {s['preference']:+g} against the other judges ({s['others_mean']:g})"
            )
        )
        lines.append(f"self-grading: {s['judge']} graded {s['model']} (its own family): {s['own_mean']:g}{pref}")
    reliability: list[str] = (section.get("reliability") or {}).get("text", [])
    return lines + reliability


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def split_lines(split: dict[str, Any]) -> list[tuple[str, str]]:
    """(model, one-line gist) per model for an item where the models split."""
    out = []
    for model, gist in split["answers"].items():
        q = split["quality"].get(model)
        head = f"{q:g}: " if q is not None else ""
        if gist["status"] != "ok":
            out.append((model, f"{gist['status']} — {gist['error']}"))
        elif "severity" in gist:
            harm = f"; HARMFUL: {gist['violations'][0]}" if gist["violations"] else ""
            first = gist["first_actions"][0] if gist["first_actions"] else "no actions"
            out.append(
                (
                    model,
                    f"{head}{gist['severity']}, {gist['escalation']} — {_clip(gist['root_cause'], 100)} "
                    f"— first: {_clip(first, 80)}{harm}",
                )
            )
        else:
            out.append(
                (
                    model,
                    f"{head}score {gist['score']}, {gist['findings']} findings; found "
                    f"{', '.join(gist['found']) or 'none'}; missed {', '.join(gist['missed']) or 'none'}",
                )
            )
    return out


STATUS_SAID = {"ok": "", "partial": "partial: ", "failed": "FAILED, no answer succeeded: "}


def headline(report: dict[str, Any]) -> str:
    plan, cells = report["plan"], report["cells"]
    judges = f", graded by {len(plan['judges'])} judge(s)" if plan["judges"] else ", no judges"
    cost = report["cost_usd"]
    missing = "".join(
        f", {cells[key]} {what}"
        for key, what in (
            ("skipped", "not sent"),
            ("grades_failed", "grade(s) failed"),
            ("grades_skipped", "grade(s) not sent"),
        )
        if cells.get(key)
    )
    return (
        f"{STATUS_SAID[report['status']]}{len(plan['models'])} models × {len(plan['items'])} inputs × "
        f"{plan['repeat']} run(s){judges}: {cells['done']} of {cells['expected']} cells done, {cells['failed']} "
        f"failed{missing}; cost {format_cost(cost['total'])} (answers {format_cost(cost['answers'])}, grades "
        f"{format_cost(cost['grades'])}{_cache_said(cost)})"
    )


def _cache_said(cost: dict[str, Any]) -> str:
    said = cache_phrase(cost.get("cache_read_tokens"), cost.get("cache_write_tokens"), cost.get("cache_saved_usd"))
    return f"; {said}" if said else ""


def stopped_line(report: dict[str, Any]) -> str | None:
    stopped = report.get("stopped")
    if not stopped:
        return None
    return (
        f"Stopped at the budget: {format_cost(stopped['spent_usd'])} spent of {format_cost(stopped['limit_usd'])}, "
        f"{stopped['cells_left']} cell(s) not run. Resume with a larger --budget: driftcheck eval --resume "
        f"{report['run_id']} --budget USD"
    )


# --- terminal ------------------------------------------------------------------------------


def print_eval(console: Any, report: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]driftcheck eval[/] {report['run_id'] or ''} · {escape(headline(report))}")
    if line := stopped_line(report):
        console.print(f"[yellow]{escape(line)}[/]")
    for task in report["tasks"]:
        console.print()
        console.print(f"[bold]{task['task']}[/] · quality = {task['measure_label']} · {len(task['items'])} input(s)")
        header, rows = model_table(task)
        # Three tables on a terminal — judged quality; checks and cost; speed — each within 100 columns.
        judged = 2 + len(task["difficulties"])
        speed = [header.index("TTFT p50/p95"), header.index("total p50/p95")]
        checks = [n for n in range(judged, len(header)) if n not in speed]
        for columns in (range(judged), [0, *checks], [0, *speed]):
            table = Table(show_lines=False, header_style="bold")
            for n in columns:
                table.add_column(header[n], justify="left" if n == 0 else "right", no_wrap=n in (0, 1))
            for row in rows:
                table.add_row(*(escape(row[n]) for n in columns))
            console.print(table)
        for line in batch_lines(task):
            console.print(f"  {escape(line)}", soft_wrap=True)
        rec = task["recommendation"]
        console.print(
            f"[bold]{'Recommendation (uncertain)' if rec['uncertain'] else 'Recommendation'}:[/] {escape(rec['text'])}"
        )
        for line in against_lines(rec):
            console.print(f"  {escape(line)}", soft_wrap=True)
        if held := stability_line(task):
            console.print(f"  {escape(held)}", soft_wrap=True)
        for line in hedging_lines(task) + pairwise_lines(task):
            console.print(f"  {escape(line)}", soft_wrap=True)
        if task["judges"] is not None:
            header, rows = judge_table(task, report["plan"]["judges"])
            judges = Table(title="judges' mean totals (* = grading its own family)", title_justify="left")
            for n, column in enumerate(header):
                judges.add_column(column, justify="left" if n == 0 else "right")
            for row in rows:
                judges.add_row(*(escape(c) for c in row))
            console.print(judges)
            for line in disagreement_lines(task):
                console.print(f"  {escape(line)}")
        if task["splits"]:
            console.print("[bold]Where the models split[/]")
            for split in task["splits"][:TERMINAL_SPLITS]:
                console.print(f"  [bold]{escape(split['item'])}[/] ({escape(split['why'])})")
                for model, gist in split_lines(split):
                    console.print(f"    {escape(model)}: {escape(gist)}")
            more = len(task["splits"]) - TERMINAL_SPLITS
            if more > 0:
                console.print(f"  … and {more} more (all of them in --format markdown or html)")


def against_lines(rec: dict[str, Any]) -> list[str]:
    """Every other model against the recommended one, one sentence each."""
    against = rec.get("against_recommended") or []
    if not against:
        return []
    lines = [f"against {against[0]['against']}:"]
    for a in against:
        lines.append(f"  {a['text']}")
        drifting = a.get("findings_drift") or []
        lines += [f"    {d['text']}" for d in drifting[:LISTED_DRIFT]]
        if len(drifting) > LISTED_DRIFT:
            lines.append(f"    … and {len(drifting) - LISTED_DRIFT} more (see --format json)")
    return lines


LISTED_DRIFT = 8


def hedging_lines(task: dict[str, Any]) -> list[str]:
    """When the eval hedged: per model, how often the hedge fired and won, its extra cost
    and what it saved at p95/p99 of the first token (nothing when hedging was off)."""
    from app.eval.hedging import hedge_sentence

    hedged = [(row["model"], row["hedging"]) for row in task["models"] if row.get("hedging")]
    if not hedged:
        return []
    return [f"hedging (after {hedged[0][1]['after']}):"] + [f"  {hedge_sentence(m, a)}" for m, a in hedged]


def pairwise_lines(task: dict[str, Any]) -> list[str]:
    """--judge-mode pairwise: each model against the baseline, in both orders."""
    against = task.get("pairwise") or []
    if not against:
        return []
    return [f"pairwise against {against[0]['against']} (each verdict asked in both orders):"] + [
        f"  {a['text']}" for a in against
    ]


def stability_line(task: dict[str, Any]) -> str | None:
    """With --repeat: the share of each model's findings (actions) every run made."""
    held = [(row["model"], row["stability"]) for row in task["models"] if row.get("stability")]
    if not held:
        return None
    what = "findings" if task["task"] == "review" else "actions"
    said = ", ".join(
        f"{model} {s['stable']} of {s['stable'] + s['flicker']}" for model, s in held if s["stable"] + s["flicker"]
    )
    return f"{what} made in every run of an input: {said}" if said else None


# --- Markdown ------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    from app.render.markdown import cell

    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


@inert_text
def eval_markdown(report: dict[str, Any]) -> str:
    from app.render.markdown import cell

    out = [f"## driftcheck eval {report['run_id'] or ''}".rstrip(), "", headline(report) + ".", ""]
    if line := stopped_line(report):
        out += [f"> {line}", ""]
    for task in report["tasks"]:
        out += [f"### {task['task']}", "", f"Quality: {task['measure_label']}; {len(task['items'])} input(s).", ""]
        out += _md_table(*model_table(task))
        if batched := batch_lines(task):
            out += [f"- {line}" for line in batched] + [""]
        rec = task["recommendation"]
        out += [f"**Recommendation{' (uncertain)' if rec['uncertain'] else ''}:** {rec['text']}", ""]
        if against := against_lines(rec):
            out += [f"- {line}" for line in against] + [""]
        if held := stability_line(task):
            out += [f"- {held}", ""]
        for listed in (hedging_lines(task), pairwise_lines(task)):
            if listed:
                out += [f"- {listed[0]}", *(f"  - {line.strip()}" for line in listed[1:]), ""]
        if task["judges"] is not None:
            out += ["Judges' mean totals (* = grading its own family):", ""]
            out += _md_table(*judge_table(task, report["plan"]["judges"]))
            out += [f"- {line}" for line in disagreement_lines(task)] + [""]
        if task["splits"]:
            out += ["Where the models split:", ""]
            for split in task["splits"]:
                out += [f"- **{cell(split['item'])}** ({split['why']})"]
                out += [f"  - `{model}`: {cell(gist)}" for model, gist in split_lines(split)]
            out.append("")
    return "\n".join(out)
