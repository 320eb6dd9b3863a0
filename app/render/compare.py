"""A compare as text and as Markdown: the two results side by side, then the drift.

The content is built once, as plain strings — rows of (what, A, B, B/A) and lines of
drift — and each format only lays it out, so the terminal and a pull request say the
same thing. Everything from a model is escaped by the layout, never trusted as markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.calls.metrics import spend_phrase, took_phrase
from app.render.markdown import cell, details_block
from app.render.styles import SEVERITY_STYLE
from app.render.terminal import inert_text
from app.render.text import answer_key_line
from app.render.triage import judge_line, reference_line
from providers.pricing import format_cost

SIDE_STYLE = {"a": "bold cyan", "b": "bold magenta"}
Row = tuple[str, str, str, str]


def side_label(side: str, run: int, repeat: int) -> str:
    return side.upper() + (f"#{run + 1}" if repeat > 1 else "")


def progress_line(item: Any, repeat: int) -> str | None:
    """One line of rich markup for a streamed event of one side, or None to stay quiet."""
    from app.render.change import file_heading
    from app.render.text import route_event_line
    from app.review.change import FileFinished
    from app.review.task import ChunkStarted, FindingFound, ReviewFinished
    from app.triage.task import ItemFound, JudgingStarted, TriageFinished

    event = item.event
    label = f"[{SIDE_STYLE[item.side]}]{side_label(item.side, item.run, repeat):<4}[/]"
    if isinstance(event, FindingFound):
        f = event.finding
        where = f"L{f.line_start}" + (f"-{f.line_end}" if f.line_end != f.line_start else "")
        return f"{label}[{SEVERITY_STYLE[f.severity]}]{f.severity:>8}[/]  {where:<9} {escape(f.title)}"
    if isinstance(event, ItemFound):
        number = getattr(event.item, "priority", "·")
        return (
            f"{label}{number:>3}. {escape(event.item.action)} [dim]({escape(event.item.owner)}, "
            f"{escape(event.item.timeline)})[/]"
        )
    if isinstance(event, ChunkStarted):
        return (
            None
            if event.total == 1
            else f"{label}[dim]lines {event.start}-{event.end} (part {event.index + 1} of {event.total})[/]"
        )
    if (line := route_event_line(event)) is not None:
        return f"{label}[dim]{escape(line)}[/]"
    if isinstance(event, FileFinished):
        return f"{label}[dim]{escape(file_heading(event.file, event.outcome))}[/]"
    if isinstance(event, JudgingStarted):
        return f"{label}[dim]judging with {escape(', '.join(event.judges))}[/]"
    if isinstance(event, ReviewFinished | TriageFinished):
        outcome = event.outcome
        if outcome.error is not None:
            return f"{label}[red]failed after {outcome.elapsed_s:.1f} s:[/] {escape(outcome.error.one_line())}"
        result: Any = outcome.result  # present: the outcome has no error
        response = outcome.response
        took = f"in {outcome.elapsed_s:.1f} s" if response is None else f"in {response.total_s:.1f} s"
        if response is not None and response.batch:  # not timed live: its batch's turnaround, said so
            turnaround = response.batch_turnaround_s
            took = f"({took_phrase(None, batch_turnaround_ms=None if turnaround is None else turnaround * 1000)})"
        what = (
            f"score {result.score}/10, {len(result.findings)} finding(s)"
            if isinstance(event, ReviewFinished)
            else f"{result.severity}, {len(getattr(result, 'actions', None) or result.follow_ups)} action(s)"
        )
        return f"{label}[green]done[/] {took}: {what}"
    return None


# --- the content, as plain strings ---------------------------------------------------------------


def _spec(side: dict[str, Any]) -> str:
    return f"{side['provider']}:{side['model']}"


def _status(side: dict[str, Any]) -> str:
    if side["status"] == "ok":
        return "ok"
    return f"FAILED: {side['error']['message']}" if side.get("error") else "FAILED"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:,.2f} s"


def _tokens(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def _review_rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ra, rb = a.get("result") or {}, b.get("result") or {}

    def findings(r: dict[str, Any]) -> str:
        return (
            "\n".join(f"{f['severity']:<8} L{f['line_start']:<4} {f['title']}" for f in r.get("findings") or [])
            or "(none)"
        )

    def score(r: dict[str, Any]) -> str:
        return "n/a" if r.get("score") is None else f"{r['score']}/10"

    rows: list[Row] = [
        ("score", score(ra), score(rb), ""),
        ("summary", ra.get("summary", ""), rb.get("summary", ""), ""),
        ("findings", findings(ra), findings(rb), ""),
    ]
    if a.get("answer_key") or b.get("answer_key"):
        rows.append(
            (
                "answer key",
                answer_key_line(a["answer_key"]) if a.get("answer_key") else "",
                answer_key_line(b["answer_key"]) if b.get("answer_key") else "",
                "",
            )
        )
    return rows


def _triage_rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ra, rb = a.get("result") or {}, b.get("result") or {}

    def get(r: dict[str, Any], *path: str) -> str:
        for key in path:
            r = (r or {}).get(key)  # type: ignore[assignment]
        return "" if r is None else str(r)

    def actions(r: dict[str, Any]) -> str:
        items = r.get("actions", r.get("follow_ups")) or []
        return (
            "\n".join(
                f"{i.get('priority', n)}. {i['action']} ({i['owner']}, {i['timeline']})"
                for n, i in enumerate(items, start=1)
            )
            or "(none)"
        )

    rows: list[Row] = [
        (
            "severity",
            f"{get(ra, 'severity')} {get(ra, 'severity_reason')}".strip(),
            f"{get(rb, 'severity')} {get(rb, 'severity_reason')}".strip(),
            "",
        ),
        (
            "root cause",
            f"({get(ra, 'root_cause', 'confidence')}) {get(ra, 'root_cause', 'summary')}" if ra else "",
            f"({get(rb, 'root_cause', 'confidence')}) {get(rb, 'root_cause', 'summary')}" if rb else "",
            "",
        ),
    ]
    if "escalation" in ra or "escalation" in rb:
        rows.append(("escalation", get(ra, "escalation", "decision"), get(rb, "escalation", "decision"), ""))
    rows.append(("actions", actions(ra), actions(rb), ""))
    if ra.get("cautions") or rb.get("cautions"):
        rows.append(("cautions", "\n".join(ra.get("cautions") or []), "\n".join(rb.get("cautions") or []), ""))
    if a.get("reference_checks") or b.get("reference_checks"):
        rows.append(
            (
                "reference",
                reference_line(a["reference_checks"]) if a.get("reference_checks") else "",
                reference_line(b["reference_checks"]) if b.get("reference_checks") else "",
                "",
            )
        )
    if a.get("judges") or b.get("judges"):
        rows.append(
            (
                "judges",
                "\n".join(judge_line(j) for j in a.get("judges") or []),
                "\n".join(judge_line(j) for j in b.get("judges") or []),
                "",
            )
        )
    return rows


def side_rows(report: dict[str, Any]) -> list[Row]:
    """(what, A, B, B/A) for the side-by-side table."""
    a, b, drift = report["a"], report["b"], report["drift"]
    rows: list[Row] = [("provider", _spec(a), _spec(b), ""), ("status", _status(a), _status(b), "")]
    rows += _review_rows(a, b) if report["compared"] == "review" else _triage_rows(a, b)
    rows.append(
        (
            "checks",
            ", ".join(c["name"] for c in a.get("checks") or []) or "none",
            ", ".join(c["name"] for c in b.get("checks") or []) or "none",
            "",
        )
    )
    m = drift["metrics"]
    rows += [
        ("first token", _ms(m["ttft_ms"]["a"]), _ms(m["ttft_ms"]["b"]), _ratio(m["ttft_ms"]["ratio_b_to_a"])),
        ("total time", _s(m["latency_ms"]["a"]), _s(m["latency_ms"]["b"]), _ratio(m["latency_ms"]["ratio_b_to_a"])),
    ]
    if turnaround := m.get("batch_turnaround_ms"):  # the batch's time, apart from the live ones
        rows.append(("batch turnaround", _s(turnaround["a"]), _s(turnaround["b"]), ""))
    rows += [
        (
            "tokens in",
            _tokens(m["input_tokens"]["a"]),
            _tokens(m["input_tokens"]["b"]),
            _ratio(m["input_tokens"]["ratio_b_to_a"]),
        ),
        (
            "tokens out",
            _tokens(m["output_tokens"]["a"]),
            _tokens(m["output_tokens"]["b"]),
            _ratio(m["output_tokens"]["ratio_b_to_a"]),
        ),
        (
            "cost",
            format_cost(m["cost_usd"]["a"]),
            format_cost(m["cost_usd"]["b"]),
            _ratio(m["cost_usd"]["ratio_b_to_a"]),
        ),
    ]
    return rows


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _review_drift_lines(drift: dict[str, Any], failed: frozenset[str] = frozenset()) -> list[str]:
    lines = [
        f"{len(drift['matched'])} matched · {len(drift['only_a'])} only in A · {len(drift['only_b'])} only in B"
        f" · agreement {_pct(drift['agreement'])} · {len(drift['severity_disagreements'])} severity "
        f"disagreement(s)"
    ]
    for pair in drift["matched"]:
        sev = pair["severity"]
        lines.append(
            f"  = A {pair['a']} L{pair['lines'][0]} ~ B {pair['b']} L{pair['lines'][1]}: {pair['title'][0]}"
            + (f" (severity {sev[0]} → {sev[1]})" if sev[0] != sev[1] else "")
        )
    lines += [f"  - only A: {f['id']} L{f['line']} {f['severity']}: {f['title']}" for f in drift["only_a"]]
    lines += [f"  + only B: {f['id']} L{f['line']} {f['severity']}: {f['title']}" for f in drift["only_b"]]
    score = drift["score"]
    delta = "" if score["delta"] is None else f" ({score['delta']:+d})"
    lines.append(
        f"score {score['a'] if score['a'] is not None else 'n/a'} → "
        f"{score['b'] if score['b'] is not None else 'n/a'}{delta} · by severity: "
        + ", ".join(f"{s} {c['a']} → {c['b']}" for s, c in drift["counts"].items() if c["a"] or c["b"])
    )
    keys = drift.get("answer_key")
    if keys and keys.get("a") and keys.get("b"):

        def scored(side: str, name: str) -> str:
            # A side that failed answered nothing to score: its recall would read as a verdict.
            return "n/a (failed)" if side in failed else _num(keys[side][name])

        lines.append(
            f"answer key: recall {scored('a', 'recall')} → {scored('b', 'recall')}, precision "
            f"{scored('a', 'precision')} → {scored('b', 'precision')}"
        )
    return lines


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _triage_drift_lines(drift: dict[str, Any]) -> list[str]:
    sev, esc, cause, actions = drift["severity"], drift["escalation"], drift["root_cause"], drift["actions"]
    lines = [f"severity {sev['a']} → {sev['b']} ({'same' if sev['same'] else 'DIFFERENT'})"]
    if esc is not None:
        lines.append(f"escalation {esc['a']} → {esc['b']} ({'same' if esc['same'] else 'DIFFERENT'})")
    if cause["similarity"] is not None:
        lines.append(
            f"root cause: {_pct(cause['similarity'])} of the words in common "
            f"(confidence {cause['confidence'][0]} → {cause['confidence'][1]})"
        )
    lines.append(
        f"actions: {len(actions['matched'])} in common · {len(actions['only_a'])} only in A · "
        f"{len(actions['only_b'])} only in B · agreement {_pct(actions['agreement'])}"
    )
    lines += [f"  = A {m['a']} ~ B {m['b']}: {m['action'][0]}" for m in actions["matched"]]
    lines += [f"  - only A {i['n']}: {i['action']}" for i in actions["only_a"]]
    lines += [f"  + only B {i['n']}: {i['action']}" for i in actions["only_b"]]
    act = drift["actionability"]
    lines.append(
        f"with an owner and a timeline: A {act['a']['with_owner_and_timeline']} of {act['a']['actions']}, "
        f"B {act['b']['with_owner_and_timeline']} of {act['b']['actions']}"
    )
    ref = drift.get("reference")
    if ref and ref.get("a") and ref.get("b"):
        lines.append(
            f"reference coverage {_pct(ref['a']['coverage'])} → {_pct(ref['b']['coverage'])}; harmful "
            f"actions recommended {ref['a']['must_not_violations']} → {ref['b']['must_not_violations']}"
        )
    judges = drift.get("judges")
    if judges:
        per = "; ".join(
            f"{j['judge']} {j['a'] if j['a'] is not None else '—'} → {j['b'] if j['b'] is not None else '—'}"
            for j in judges["by_judge"]
        )
        delta = "" if judges["delta"] is None else f" ({judges['delta']:+g})"
        lines.append(f"judge total (mean, of 10) {_num(judges['a'])} → {_num(judges['b'])}{delta}: {per}")
    return lines


def _noise_lines(noise: dict[str, Any]) -> list[str]:
    runs = noise["runs"]
    lines: list[str] = []
    if max(runs["a"], runs["b"]) > 1:
        lines.append(f"runs: A {runs['ok_a']} of {runs['a']} finished, B {runs['ok_b']} of {runs['b']}")
        for m in noise["measures"]:
            if "within" in m:
                lines.append(
                    f"  {m['measure']}: within a provider {_pct(m['within'])} (lowest "
                    f"{_pct(m['within_min'])}), between them {_pct(m['between'])} (highest "
                    f"{_pct(m['between_max'])})"
                )
            elif "mean_a" in m:
                lines.append(
                    f"  {m['measure']}: A {_span(m['a'])} (mean {m['mean_a']:g}), "
                    f"B {_span(m['b'])} (mean {m['mean_b']:g})"
                    + (" — separated" if m["separated"] else " — overlapping")
                )
            else:
                lines.append(f"  {m['measure']}: A {', '.join(m['a'])}; B {', '.join(m['b'])}")
            for said in (interval_line(m), file_interval_line(m), power_line(m)):
                if said:
                    lines.append(f"    {said}")
        lines += cluster_lines(
            noise.get("clusters") or [], "findings" if "findings" in _measure_names(noise) else "actions"
        )
    lines.append(f"verdict: {noise['verdict']}")
    return lines


def _measure_names(noise: dict[str, Any]) -> list[str]:
    return [m["measure"] for m in noise["measures"]]


_UNITS = {"score": "point", "judge total": "point", "findings": "finding", "actions": "action"}
SHOWN_CLUSTERS = 12


def interval_line(measure: dict[str, Any]) -> str | None:
    """ "B − A +3.3 (95 % +1.4 to +4.4)" for a measure with an interval."""
    diff = measure.get("difference")
    if not diff:
        return None
    return f"B − A {diff['estimate']:+.2f} ({diff['level']:.0%} interval {diff['low']:+.2f} to {diff['high']:+.2f})" + (
        ", excludes 0" if diff["low"] > 0 or diff["high"] < 0 else ", includes 0"
    )


def file_interval_line(measure: dict[str, Any]) -> str | None:
    """A change's per-file difference, clustered by file: "per file B − A +0.67 (95 %
    interval -3.1 to +4.4, clustered by file, includes 0); a gap under 5.2 per file is
    invisible at 80 % power"."""
    diff = measure.get("by_file")
    if not diff:
        return None
    said = (
        f"per file B − A {diff['estimate']:+.2f} ({diff['level']:.0%} interval {diff['low']:+.2f} to "
        f"{diff['high']:+.2f}, clustered by file, "
        + ("excludes 0)" if diff["low"] > 0 or diff["high"] < 0 else "includes 0)")
    )
    detectable = measure.get("by_file_detectable")
    return said if detectable is None else f"{said}; a gap under {detectable:.2g} per file is invisible at 80 % power"


def power_line(measure: dict[str, Any]) -> str | None:
    """What this N could see, in words: "with N=3 a score gap under 2.1 is invisible; N=8
    detects 1 point at 80 % power"."""
    power = measure.get("power")
    if not power:
        return None
    name, n, target = measure["measure"], power["runs"], power["target"]
    unit = _UNITS.get(name)
    wanted = f"{target:g} {unit}{'s' if unit and target != 1 else ''}" if unit else f"{target:g}"
    if power["detectable"] is None:
        if power["sd_a"] == 0 and power["sd_b"] == 0:
            return f"no run-to-run spread in {name} at N={n}: nothing to estimate power from"
        head = f"with N={n} the spread is too uncertain to say which {name} gap is visible"
    else:
        head = f"with N={n} a {name} gap under {power['detectable']:.2g} is invisible"
    more = power["repeats_for_target"]
    if more is None:
        return f"{head}; even N=200 would not detect {wanted} at {power['power']:.0%} power"
    if more <= n:
        return f"{head}; N={n} already detects {wanted} at {power['power']:.0%} power"
    return f"{head}; N={more} detects {wanted} at {power['power']:.0%} power"


def cluster_lines(clusters: list[dict[str, Any]], what: str) -> list[str]:
    """The finding-level stability: counts by verdict, then each cluster in words."""
    if not clusters:
        return []
    from app.compare.stability import cluster_sentence, stability_summary

    counts = stability_summary(clusters)
    lines = [
        f"  {what} across runs: {counts['stable']} stable on both sides, {counts['drift']} drift, "
        f"{counts['one_side']} on one side only (too few runs to tell), {counts['flicker']} flicker"
    ]
    shown = [c for c in clusters if c["verdict"] != "stable"][:SHOWN_CLUSTERS]
    lines += [f"    {cluster_sentence(c)}" for c in shown]
    hidden = sum(1 for c in clusters if c["verdict"] != "stable") - len(shown)
    if hidden:
        lines.append(f"    … and {hidden} more (see --format json)")
    return lines


def _failure_note(report: dict[str, Any]) -> list[str]:
    failed = [s.upper() for s in ("a", "b") if report[s]["status"] != "ok"]
    if not failed:
        return []
    who = " and ".join(failed)
    if report["compared"] == "review":
        return [
            f"{who} failed: the drift compares what {'each' if len(failed) == 2 else 'it'} reported before "
            f"failing, so it is incomplete"
        ]
    return [f"{who} failed before a complete answer: there is no triage to compare with"]


def drift_lines(report: dict[str, Any]) -> list[str]:
    drift = report["drift"]
    lines = _failure_note(report)
    if report["compared"] == "review":
        lines += _review_drift_lines(drift, frozenset(s for s in ("a", "b") if report[s]["status"] != "ok"))
        lines += [_file_drift_line(f) for f in drift.get("files") or []]
    elif drift["comparable"]:
        lines += _triage_drift_lines(drift)
    m = drift["metrics"]
    said = [
        f"{label} {_ratio(m[key]['ratio_b_to_a'])}"
        for key, label in (("ttft_ms", "first token"), ("latency_ms", "total time"), ("cost_usd", "cost"))
        if m[key]["ratio_b_to_a"] is not None
    ]
    if said:
        lines.append("B against A: " + " · ".join(said))
    if m.get("note"):
        lines.append(m["note"])
    if report.get("attribution"):
        lines.append(f"why they differ: {report['attribution']['text']}")
    lines += [f"pairwise: {line}" for line in (report.get("pairwise") or {}).get("text", [])]
    spend = report.get("spend")  # reports stored before it existed have none
    if spend:
        runs = "all runs, judges included" if "runs" in report else "judges included"
        lines.append(f"spent ({runs}): A {spend_phrase(spend['a'])} · B {spend_phrase(spend['b'])}")
    return lines


def _file_drift_line(file: dict[str, Any]) -> str:
    """One file of a change compared: how its findings paired up, and its score on each side."""
    score = file["score"]
    return (
        f"  {file['path']}: {file['matched']} matched, {file['only_a']} only A, {file['only_b']} only B, "
        f"agreement {file['agreement']:.0%}, {file['severity_disagreements']} severity disagreement(s); "
        f"score {score['a']} → {score['b']}"
    )


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


def _title(report: dict[str, Any]) -> str:
    what = report["compared"]
    info = report.get("input") or {}
    path = info.get("path") or info.get("label") or ""
    base = f" · A is baseline run {report['baseline']}" if report.get("baseline") else ""
    return f"driftcheck compare ({what}) {path}{base}"


def _failed_texts(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (side.upper(), report[side]["partial_text"])
        for side in ("a", "b")
        if report[side]["status"] != "ok" and report[side].get("partial_text")
    ]


# --- layouts -------------------------------------------------------------------------------------


def print_compare(console: Console, report: dict[str, Any]) -> None:
    console.print(f"[bold]{escape(_title(report))}[/]")
    table = Table(show_lines=True, expand=False)
    table.add_column("")
    table.add_column("[bold cyan]A[/]", overflow="fold", ratio=1)
    table.add_column("[bold magenta]B[/]", overflow="fold", ratio=1)
    table.add_column("B/A", justify="right")
    for what, a, b, ratio in side_rows(report):
        style_a = "red" if what == "status" and a != "ok" else ""
        style_b = "red" if what == "status" and b != "ok" else ""
        table.add_row(
            what,
            f"[{style_a}]{escape(a)}[/]" if style_a else escape(a),
            f"[{style_b}]{escape(b)}[/]" if style_b else escape(b),
            ratio,
        )
    console.print(table)
    for side, text in _failed_texts(report):
        console.print(f"[yellow]{side}: text received before the failure ({len(text)} characters):[/]")
        console.print(escape(text), markup=False)
    console.print("[bold]Drift from A to B[/]")
    for line in drift_lines(report):
        console.print(escape(line))
    console.print("[bold]Noise[/]")
    for line in _noise_lines(report["noise"]):
        # Sentences that quote a finding stay whole in a pipe; a terminal wraps them itself.
        console.print(escape(line), soft_wrap=True)


def _md(text: str) -> str:
    return "<br>".join(cell(line) for line in text.split("\n"))


@inert_text
def compare_markdown(report: dict[str, Any], *, lists_below: bool = False) -> str:
    """The report as Markdown. A cell of several lines (the findings, the actions) is
    joined with `<br>`; with `lists_below` (for a viewer that does not read HTML, like
    the TUI's) it is a list of its own under the table, one line per item."""
    out = [f"## {_title(report)}", "", "| | A | B | B/A |", "|---|---|---|---|"]
    below: list[str] = []
    for what, a, b, ratio in side_rows(report):
        if lists_below and ("\n" in a or "\n" in b):
            out.append(f"| {what} | listed below | listed below | {ratio} |")
            for side, text in (("A", a), ("B", b)):
                below += [f"### {what}: {side}", ""] + [f"- {cell(line)}" for line in text.split("\n")] + [""]
        else:
            out.append(f"| {what} | {_md(a)} | {_md(b)} | {ratio} |")
    out.append("")
    out += below
    for side, text in _failed_texts(report):
        out += details_block(f"{side}: text received before the failure", text)
    out += ["### Drift from A to B", ""] + [f"- {line.strip()}" for line in drift_lines(report)] + [""]
    out += ["### Noise", ""] + [f"- {line.strip()}" for line in _noise_lines(report["noise"])] + [""]
    return "\n".join(out)


def pair_stability(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """With --repeat N: for each first-run finding (side, id), how many runs of each side
    found it, as "5/5 · 0/5". Empty for a single run (or a report stored before clusters)."""
    noise = report.get("noise") or {}
    runs = noise.get("runs") or {}
    if max(runs.get("a", 1), runs.get("b", 1)) < 2:
        return {}
    shown: dict[tuple[str, str], str] = {}
    for cluster in noise.get("clusters") or []:
        said = f"{cluster['found_a']}/{cluster['repeat_a']} · {cluster['found_b']}/{cluster['repeat_b']}"
        for side in ("a", "b"):
            first = cluster[f"runs_{side}"].get("1")
            if first is not None:
                shown[(side, first)] = said
    return shown


def score_interval_line(report: dict[str, Any]) -> str | None:
    """The score difference's interval, for the drift panel (None with one run a side)."""
    score = next((m for m in (report.get("noise") or {}).get("measures", []) if m["measure"] == "score"), None)
    said = interval_line(score) if score else None
    return f"score {said}" if said else None
