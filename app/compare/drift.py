"""The drift between two answers to the same task: what a provider switch would change.

Reviews: findings are paired one to one with the rule the answer key uses
(`app.review.matching`), so "matched" means the same thing in both places. From the pairing come
the agreement rate, the severity disagreements on matched pairs, the findings only one
side has, the score and count deltas. Triage: severity and escalation, how alike the root
causes are, actions in common and on one side only, actionability, reference coverage and
judge totals. Both: latency, tokens and cost side by side with the ratio B/A.
Works on the public JSON (dicts) so a stored run and a live one compare alike.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.compare.contract import (
    Actionability,
    ActionsDrift,
    CountDelta,
    CountsDrift,
    EscalationDrift,
    FileDrift,
    JudgeDelta,
    JudgesDrift,
    KeyRecall,
    MatchedAction,
    MatchedFinding,
    MetricDelta,
    MetricsDrift,
    OneSideAction,
    OneSideFinding,
    ReferenceSummary,
    ReviewDrift,
    RootCauseDrift,
    ScoreDelta,
    SeverityDrift,
    SidesActionability,
    SidesKeyRecall,
    SidesReference,
    TriageDrift,
)
from app.review.matching import align, finding_citation, pair_best_first, text_similarity, word_share, words_of

SEVERITIES = ("critical", "high", "medium", "low", "info")
_METRICS = ("ttft_ms", "latency_ms", "input_tokens", "output_tokens", "cost_usd")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return round(b / a, 3)


def review_drift(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Drift between two public review results (`review_json` objects or stored ones); for
    reviews of a change or of several files, per file and in total (`change_drift_of`)."""
    return review_drift_of(a, b).public()


def review_drift_of(a: dict[str, Any], b: dict[str, Any]) -> ReviewDrift:
    if "files" in a or "files" in b:
        return change_drift_of(a, b)
    fa = [SimpleNamespace(**f) for f in ((a.get("result") or {}).get("findings") or [])]
    fb = [SimpleNamespace(**f) for f in ((b.get("result") or {}).get("findings") or [])]
    alignment = align([finding_citation(f) for f in fa], [finding_citation(f) for f in fb])
    matched = [
        MatchedFinding(
            a=fa[i].id,
            b=fb[j].id,
            lines=[fa[i].line_start, fb[j].line_start],
            severity=[fa[i].severity, fb[j].severity],
            similarity=score,
            title=[fa[i].title, fb[j].title],
        )
        for i, j, score in alignment.pairs
    ]

    def one_side(f: Any) -> OneSideFinding:
        return OneSideFinding(id=f.id, line=f.line_start, severity=f.severity, title=f.title)

    counts_a = {s: sum(f.severity == s for f in fa) for s in SEVERITIES}
    counts_b = {s: sum(f.severity == s for f in fb) for s in SEVERITIES}
    only_a = [one_side(fa[i]) for i in alignment.only_a]
    only_b = [one_side(fb[j]) for j in alignment.only_b]
    return _drift(a, b, matched, only_a, only_b, counts_a, counts_b)


def _drift(
    a: dict[str, Any],
    b: dict[str, Any],
    matched: list[MatchedFinding],
    only_a: list[OneSideFinding],
    only_b: list[OneSideFinding],
    counts_a: dict[str, int],
    counts_b: dict[str, int],
) -> ReviewDrift:
    """The drift object from the pairing: agreement, severities, score, counts, keys, metrics."""
    union = len(matched) + len(only_a) + len(only_b)
    score_a, score_b = (a.get("result") or {}).get("score"), (b.get("result") or {}).get("score")
    keys = a.get("answer_key"), b.get("answer_key")
    return ReviewDrift(
        matched=matched,
        only_a=only_a,
        only_b=only_b,
        # Share of all distinct problems (either side) that both sides reported.
        agreement=round(len(matched) / union, 3) if union else 1.0,
        severity_disagreements=[m for m in matched if m.severity[0] != m.severity[1]],
        score=ScoreDelta(a=score_a, b=score_b, delta=None if score_a is None or score_b is None else score_b - score_a),
        counts=CountsDrift(
            **{
                s: CountDelta(a=counts_a.get(s, 0), b=counts_b.get(s, 0), delta=counts_b.get(s, 0) - counts_a.get(s, 0))
                for s in SEVERITIES
            }
        ),
        answer_key=None
        if not any(keys)
        else SidesKeyRecall(
            a=None if keys[0] is None else KeyRecall(recall=keys[0]["recall"], precision=keys[0]["precision"]),
            b=None if keys[1] is None else KeyRecall(recall=keys[1]["recall"], precision=keys[1]["precision"]),
        ),
        metrics=_metrics_drift(a, b),
    )


def change_drift_of(a: dict[str, Any], b: dict[str, Any]) -> ReviewDrift:
    """Drift between two reviews of the same change: findings are paired within each file
    (a finding in one file never matches one in another), the drift of each file under
    `files`, and the totals under the keys a single file's drift has."""
    paths = list(dict.fromkeys(f["path"] for side in (a, b) for f in side.get("files") or []))
    files: list[FileDrift] = []
    matched: list[MatchedFinding] = []
    only_a: list[OneSideFinding] = []
    only_b: list[OneSideFinding] = []
    for path in paths:
        drift = review_drift_of(_file_record(a, path), _file_record(b, path))
        # Finding ids restart in every file: each is named by its file too (calc.py:F2).
        matched += [
            m.model_copy(update={"a": f"{path}:{m.a}", "b": f"{path}:{m.b}", "path": path}) for m in drift.matched
        ]
        only_a += [item.model_copy(update={"id": f"{path}:{item.id}", "path": path}) for item in drift.only_a]
        only_b += [item.model_copy(update={"id": f"{path}:{item.id}", "path": path}) for item in drift.only_b]
        files.append(
            FileDrift(
                path=path,
                matched=len(drift.matched),
                only_a=len(drift.only_a),
                only_b=len(drift.only_b),
                agreement=drift.agreement,
                severity_disagreements=len(drift.severity_disagreements),
                score=drift.score,
            )
        )
    counts_a, counts_b = ((side.get("result") or {}).get("counts") or {} for side in (a, b))
    return _drift(a, b, matched, only_a, only_b, counts_a, counts_b).model_copy(update={"files": files})


def _file_record(record: dict[str, Any], path: str) -> dict[str, Any]:
    """One file of a multi-file review, shaped as a single file's review for `review_drift_of`."""
    entry: dict[str, Any] = next((f for f in record.get("files") or [] if f["path"] == path), {})
    findings = [f for f in (record.get("result") or {}).get("findings") or [] if f.get("path") == path]
    return {"result": {"findings": findings, "score": entry.get("score")}, "metrics": {}}


def _metrics_drift(a: dict[str, Any], b: dict[str, Any]) -> MetricsDrift:
    metrics_a, metrics_b = a.get("metrics") or {}, b.get("metrics") or {}
    drift = MetricsDrift(
        **{
            m: MetricDelta(
                a=metrics_a.get(m), b=metrics_b.get(m), ratio_b_to_a=_ratio(metrics_a.get(m), metrics_b.get(m))
            )
            for m in _METRICS
        }
    )
    batched = [side for side, m in (("A", metrics_a), ("B", metrics_b)) if m.get("batch")]
    if batched:  # its timings are the batch's (None live), so the ratios above leave it out
        key = "batch_turnaround_ms"
        drift.batch_turnaround_ms = MetricDelta(a=metrics_a.get(key), b=metrics_b.get(key), ratio_b_to_a=None)
        drift.note = (
            f"{' and '.join(batched)} answered through a batch API: "
            f"{'its' if len(batched) == 1 else 'their'} time is the batch's turnaround (submit to result), "
            "not a live latency, and is left out of the first-token and total-time comparison"
        )
    return drift


def _items(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions (active) or follow-ups (postmortem), numbered as shown to the user."""
    items = result.get("actions", result.get("follow_ups")) or []
    return [{"n": item.get("priority", n), **item} for n, item in enumerate(items, start=1)]


def _actionable(items: list[dict[str, Any]]) -> Actionability:
    return Actionability(
        actions=len(items),
        with_owner_and_timeline=sum(1 for i in items if i["owner"].strip() and i["timeline"].strip()),
    )


def _reference(checks: dict[str, Any] | None) -> ReferenceSummary | None:
    if checks is None or checks.get("reference") is None:
        return None
    return ReferenceSummary(coverage=checks["coverage"], must_not_violations=len(checks["must_not_violations"]))


def _judge_totals(side: dict[str, Any]) -> dict[str, int]:
    return {j["judge"]: j["total"] for j in side.get("judges") or [] if j.get("total") is not None}


def triage_drift(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Drift between two public triage results (`triage_json` objects or stored ones)."""
    return triage_drift_of(a, b).public()


def triage_drift_of(a: dict[str, Any], b: dict[str, Any]) -> TriageDrift:
    ra, rb = a.get("result") or {}, b.get("result") or {}
    ia, ib = _items(ra), _items(rb)
    alignment = pair_best_first(len(ia), len(ib), lambda i, j: text_similarity(ia[i]["action"], ib[j]["action"]))
    union = len(ia) + len(ib) - alignment.matched
    cause_a, cause_b = (ra.get("root_cause") or {}), (rb.get("root_cause") or {})
    esc_a, esc_b = (ra.get("escalation") or {}).get("decision"), (rb.get("escalation") or {}).get("decision")
    judges_a, judges_b = _judge_totals(a), _judge_totals(b)
    mean_a = sum(judges_a.values()) / len(judges_a) if judges_a else None
    mean_b = sum(judges_b.values()) / len(judges_b) if judges_b else None
    refs = a.get("reference_checks"), b.get("reference_checks")
    return TriageDrift(
        comparable=bool(ra and rb),  # False when a side gave no complete answer
        severity=SeverityDrift(
            a=ra.get("severity"),
            b=rb.get("severity"),
            same=ra.get("severity") == rb.get("severity") if ra and rb else None,
        ),
        escalation=None
        if esc_a is None and esc_b is None
        else EscalationDrift(a=esc_a, b=esc_b, same=esc_a == esc_b if ra and rb else None),
        root_cause=RootCauseDrift(
            a=cause_a.get("summary"),
            b=cause_b.get("summary"),
            confidence=[cause_a.get("confidence"), cause_b.get("confidence")],
            # Share of the shorter cause's words found in the other: 1.0 is the same cause.
            similarity=round(
                word_share(words_of(cause_a.get("summary") or ""), words_of(cause_b.get("summary") or "")), 3
            )
            if ra and rb
            else None,
        ),
        actions=ActionsDrift(
            matched=[
                MatchedAction(a=ia[i]["n"], b=ib[j]["n"], similarity=score, action=[ia[i]["action"], ib[j]["action"]])
                for i, j, score in alignment.pairs
            ],
            only_a=[OneSideAction(n=ia[i]["n"], action=ia[i]["action"]) for i in alignment.only_a],
            only_b=[OneSideAction(n=ib[j]["n"], action=ib[j]["action"]) for j in alignment.only_b],
            agreement=round(alignment.matched / union, 3) if union else 1.0,
        ),
        actionability=SidesActionability(a=_actionable(ia), b=_actionable(ib)),
        reference=None if not any(refs) else SidesReference(a=_reference(refs[0]), b=_reference(refs[1])),
        judges=None
        if not (judges_a or judges_b)
        else JudgesDrift(
            a=mean_a,
            b=mean_b,
            delta=None if mean_a is None or mean_b is None else round(mean_b - mean_a, 2),
            by_judge=[
                JudgeDelta(
                    judge=name,
                    a=judges_a.get(name),
                    b=judges_b.get(name),
                    delta=None if name not in judges_a or name not in judges_b else judges_b[name] - judges_a[name],
                )
                for name in dict.fromkeys([*judges_a, *judges_b])
            ],
        ),
        metrics=_metrics_drift(a, b),
    )


def drift_of(task: str, a: dict[str, Any], b: dict[str, Any]) -> ReviewDrift | TriageDrift:
    return review_drift_of(a, b) if task == "review" else triage_drift_of(a, b)


def task_drift(task: str, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return drift_of(task, a, b).public()
