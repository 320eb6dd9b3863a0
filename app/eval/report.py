"""The eval report: per model and task, quality with its spread, the objective checks,
latency, cost, what the judges disagreed on, where the models split, and a plain
recommendation.

Quality is on one 10-point scale per task: the judges' mean total when there are judges;
without judges, reference coverage × 10 for incidents and answer-key F1 × 10 for source
files. An input without a reference or answer key is graded by the judges alone (the
report says "judge-only"); without judges too it has no quality measure, and only its
latency, cost and failures are reported. A failed answer has no quality (it is counted
as a failure, not as a zero).

The status says how much of the plan was measured: `ok` when every cell was answered and
graded; `failed` when not one answer succeeded (every cell that ran failed, or was not
sent because its provider refused the key); `partial` for anything in between — cells
that failed, were skipped or were not run (budget, interruption), or grades that failed.

The recommendation is the cheapest model whose quality is not distinguishable from the
best model's at this N (the paired permutation test in `stats`), that fails no more
often than the best (within 10 points) and recommends no more harmful actions. When
the design is too small for any gap to count, it says so: the cheapest model is then
only "not shown to be worse".
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean, pstdev
from typing import Any

from app.calls.metrics import spend_summary
from app.compare.significance import Interval, clustered_interval, detectable_at
from app.eval.contract import (
    AgainstRecommended,
    Cells,
    Comparison,
    EvalCost,
    EvalReport,
    EvalStatus,
    EvalTask,
    FailedGist,
    FindingDrift,
    HedgeAccount,
    ItemDisagreement,
    JudgeSpreadEntry,
    JudgesSection,
    Measure,
    ModelRow,
    ModelStability,
    PairwiseAgainst,
    Plan,
    Recommendation,
    ReviewGist,
    RowKey,
    RowReference,
    SelfGrading,
    Split,
    Spread,
    Stats,
    Stopped,
    TriageGist,
)
from app.eval.hedging import hedge_account
from app.eval.pairwise import pairwise_against
from app.eval.plan import task_name
from app.eval.reliability import judge_reliability
from app.eval.repeat import drift_against, model_stability
from app.eval.stats import MAX_CHANCE, min_p, paired_p
from providers.health import percentile

DIFFICULTY_ORDER = ("simple", "medium", "complex", "ambiguous")
# Item means this far apart (on the 10-point scale) mark an item where the models split.
SPLIT_POINTS = 2.0
NOTABLE_SPREAD = 2
# A model may fail this much more often than the best and still be recommended.
FAILURE_SLACK = 0.10


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _stats(values: list[float]) -> Stats:
    if not values:
        return Stats(n=0, mean=None, sd=None, min=None, max=None)
    return Stats(n=len(values), mean=_r(mean(values)), sd=_r(pstdev(values)), min=_r(min(values)), max=_r(max(values)))


def _spread(values: list[float]) -> Spread:
    return Spread(median=_r(percentile(values, 50), 1), p95=_r(percentile(values, 95), 1))


def _f1(answer_key: dict[str, Any] | None) -> float | None:
    if not answer_key:
        return None
    recall, precision = answer_key["recall"], answer_key["precision"] or 0.0
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def measure_of(task: str, judges: list[str], *, keyed: bool = True) -> Measure:
    """What quality is for a task: the judges; else the reference or answer key when any
    input has one; else nothing ("none")."""
    if judges:
        return "judges"
    if not keyed:
        return "none"
    return "answer_key" if task == "review" else "reference"


MEASURE_LABEL = {
    "judges": "judges' mean total (0-10)",
    "reference": "reference coverage × 10",
    "answer_key": "answer-key F1 × 10",
    "none": "none",
}
NAMES_SHOWN = 5


def _names(ids: list[str]) -> str:
    more = len(ids) - NAMES_SHOWN
    return ", ".join(ids[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def measure_label(measure: str, task: str, unkeyed: list[str], total: int) -> str:
    """The measure in words, saying which inputs are graded by the judges alone or not at all."""
    label = MEASURE_LABEL[measure]
    noun = "answer key" if task == "review" else "reference"
    if not unkeyed:
        return label
    if measure == "none":
        return (
            f"none: no input has {'an' if task == 'review' else 'a'} {noun} and there are no judges; latency, "
            f"cost and failures only (add --judges to grade them)"
        )
    if measure == "judges":
        if len(unkeyed) == total:
            return f"{label}, judge-only: no input has {'an' if task == 'review' else 'a'} {noun}"
        return (
            f"{label}; judge-only for {len(unkeyed)} of {total} inputs, without {'an' if task == 'review' else 'a'} "
            f"{noun}: {_names(unkeyed)}"
        )
    return (
        f"{label} for {total - len(unkeyed)} of {total} inputs; no quality measure (no {noun}, no judges) for "
        f"{_names(unkeyed)}; add --judges to grade them"
    )


def quality(record: dict[str, Any], measure: str) -> float | None:
    answer = record["answer"]
    if answer["status"] != "ok" or answer.get("result") is None:
        return None
    if measure == "judges":
        totals = [g["total"] for g in record["grades"] if g.get("total") is not None]
        return mean(totals) if totals else None
    if measure == "reference":
        coverage = (answer.get("reference_checks") or {}).get("coverage")
        return None if coverage is None else coverage * 10
    f1 = _f1(answer.get("answer_key"))
    return None if f1 is None else f1 * 10


def _violations(record: dict[str, Any]) -> int:
    return len((record["answer"].get("reference_checks") or {}).get("must_not_violations") or [])


def _difficulty_key(name: str) -> tuple[int, str]:
    return (DIFFICULTY_ORDER.index(name) if name in DIFFICULTY_ORDER else len(DIFFICULTY_ORDER), name)


# --- per model -----------------------------------------------------------------------------


def _model_row(
    spec: str, records: list[dict[str, Any]], items: dict[str, dict[str, Any]], judges: list[str]
) -> ModelRow:
    answers = [r["answer"] for r in records if r["answer"]["status"] != "skipped"]
    ok = [a for a in answers if a["status"] == "ok"]
    values = [r["quality"] for r in records if r["quality"] is not None]
    by_difficulty: dict[str, list[float]] = {}
    for record in records:
        if record["quality"] is not None:
            by_difficulty.setdefault(items[record["item"]]["difficulty"] or "unrated", []).append(record["quality"])
    costs = [a["metrics"]["cost_usd"] for a in ok]
    cost_per_call = mean(costs) if costs and all(c is not None for c in costs) else None
    mean_quality = mean(values) if values else None
    row = ModelRow(
        model=spec,
        calls=len(answers),
        failed=len(answers) - len(ok),
        skipped=len(records) - len(answers),
        failures=sorted(
            {(r["answer"]["error"] or {}).get("kind", "unknown") for r in records if r["answer"]["status"] != "ok"}
        ),
        quality=_stats(values),
        by_difficulty={d: _stats(v) for d, v in sorted(by_difficulty.items(), key=lambda kv: _difficulty_key(kv[0]))},
        ttft_ms=_spread([a["metrics"]["ttft_ms"] for a in ok if a["metrics"]["ttft_ms"] is not None]),
        latency_ms=_spread([a["metrics"]["latency_ms"] for a in ok if a["metrics"]["latency_ms"] is not None]),
        cost_per_call_usd=_r(cost_per_call, 10),
        cost_per_point_usd=_r(cost_per_call / mean_quality, 10) if cost_per_call is not None and mean_quality else None,
        judge_cost_usd=_r(sum((g.get("metrics") or {}).get("cost_usd") or 0 for r in records for g in r["grades"]), 6),
    )
    turnarounds = [t for a in ok if (t := a["metrics"].get("batch_turnaround_ms")) is not None]
    if turnarounds:  # batched answers: their time is the batch's, never a live latency
        row.batch_turnaround_ms = _spread(turnarounds)
    if judges:
        row.by_judge = {
            j: _r(mean(t))
            if (
                t := [
                    g["total"] for r in records for g in r["grades"] if g["judge"] == j and g.get("total") is not None
                ]
            )
            else None
            for j in judges
        }
    checks = [a.get("reference_checks") for a in ok if a.get("reference_checks")]
    if checks:
        coverage = [c["coverage"] for c in checks if c.get("coverage") is not None]
        row.reference = RowReference(
            coverage=_r(mean(coverage)) if coverage else None,
            violations=sum(_violations(r) for r in records),
            answers_with_violations=sum(1 for r in records if _violations(r)),
            all_actionable=sum(1 for c in checks if c.get("all_actionable")),
        )
    keys = [a["answer_key"] for a in ok if a.get("answer_key")]
    if keys:
        precision = [k["precision"] for k in keys if k["precision"] is not None]
        row.answer_key = RowKey(
            recall=round(mean(k["recall"] for k in keys), 2), precision=_r(mean(precision)) if precision else None
        )
    return row


# --- judges --------------------------------------------------------------------------------


def _judges_section(
    records: list[dict[str, Any]], judges: list[str], *, kind: str, self_judging: bool = True
) -> JudgesSection:
    per_item: dict[str, list[JudgeSpreadEntry]] = {}
    for record in records:
        scored = [g for g in record["grades"] if g.get("total") is not None]
        if len(scored) < 2:
            continue
        spread = {
            dim: max(g[dim] for g in scored) - min(g[dim] for g in scored) for dim in ("diagnosis", "quality", "total")
        }
        per_item.setdefault(record["item"], []).append(
            JudgeSpreadEntry(
                model=record["model"],
                run=record["run"],
                **spread,
                scores={g["judge"]: g["total"] for g in scored},
                notable=spread["diagnosis"] >= NOTABLE_SPREAD or spread["quality"] >= NOTABLE_SPREAD,
            )
        )
    disagreement = [
        ItemDisagreement(
            item=item,
            max_spread=max(e.total for e in entries),
            mean_spread=_r(mean(e.total for e in entries)),
            notable=[e for e in entries if e.notable],
        )
        for item, entries in per_item.items()
    ]
    self_grading = []
    for judge in judges:
        for model in dict.fromkeys(r["model"] for r in records):
            mine = [
                g
                for r in records
                if r["model"] == model
                for g in r["grades"]
                if g["judge"] == judge and g.get("total") is not None
            ]
            if not mine or not mine[0]["self_graded"]:
                continue
            others = [
                g["total"]
                for r in records
                if r["model"] == model
                for g in r["grades"]
                if g["judge"] != judge and g.get("total") is not None
            ]
            own = mean(g["total"] for g in mine)
            self_grading.append(
                SelfGrading(
                    judge=judge,
                    model=model,
                    own_mean=_r(own),
                    others_mean=_r(mean(others)) if others else None,
                    preference=_r(own - mean(others)) if others else None,
                )
            )
    objective = [quality(r, "answer_key" if kind == "review" else "reference") for r in records]
    reliability = judge_reliability(records, judges, objective=objective, self_judging=self_judging)
    return JudgesSection(disagreement=disagreement, self_grading=self_grading, reliability=reliability)


# --- where the models split ----------------------------------------------------------------


def _gist(answer: dict[str, Any]) -> FailedGist | ReviewGist | TriageGist:
    """An answer in a few lines, for setting answers side by side."""
    result = answer.get("result")
    if answer["status"] != "ok" or result is None:
        return FailedGist(
            status="skipped" if answer["status"] == "skipped" else "failed",
            error=(answer.get("error") or {}).get("message"),
        )
    if answer["task"] == "review":
        key = answer.get("answer_key") or {}
        # A change's key is each file's: its issues are named path:issue, as `missed` names them.
        found = [p["issue"] for p in key.get("pairs", [])] + [
            f"{f['path']}:{p['issue']}"
            for f in answer.get("files") or []
            for p in (f.get("answer_key") or {}).get("pairs", [])
        ]
        return ReviewGist(
            status="ok",
            score=result["score"],
            findings=len(result["findings"]),
            found=found,
            missed=key.get("missed", []),
        )
    actions = result.get("actions", result.get("follow_ups")) or []
    return TriageGist(
        status="ok",
        severity=result["severity"],
        escalation=(result.get("escalation") or {}).get("decision"),
        root_cause=result["root_cause"]["summary"],
        first_actions=[a["action"] for a in actions[:3]],
        violations=[v["action"] for v in (answer.get("reference_checks") or {}).get("must_not_violations") or []],
    )


def _splits(records: list[dict[str, Any]], models: list[str], item_ids: list[str]) -> list[Split]:
    out = []
    for item in item_ids:
        here = [r for r in records if r["item"] == item]
        means: dict[str, float | None] = {}
        for model in models:
            values = [r["quality"] for r in here if r["model"] == model and r["quality"] is not None]
            means[model] = _r(mean(values)) if values else None
        known = [v for v in means.values() if v is not None]
        severities = {
            r["answer"]["result"]["severity"]
            for r in here
            if r["answer"]["status"] == "ok" and r["answer"]["task"] == "triage"
        }
        gap = max(known) - min(known) if len(known) > 1 else 0.0
        failed = [m for m in models if any(r["model"] == m and r["answer"]["status"] != "ok" for r in here)]
        reasons = []
        if gap >= SPLIT_POINTS:
            reasons.append(f"quality {min(known):g} to {max(known):g}")
        if len(severities) > 1:
            reasons.append("severity " + " / ".join(sorted(severities)))
        if failed and len(failed) < len(models):
            reasons.append("no answer from " + ", ".join(failed))
        if reasons:
            first = {m: next((r for r in here if r["model"] == m), None) for m in models}
            out.append(
                Split(
                    item=item,
                    why="; ".join(reasons),
                    quality=means,
                    answers={m: _gist(r["answer"]) for m, r in first.items() if r is not None},
                )
            )
    return out


# --- the recommendation --------------------------------------------------------------------


def _recommend(rows: list[ModelRow], records: list[dict[str, Any]], item_ids: list[str]) -> Recommendation:
    rated = [r for r in rows if r.quality.mean is not None]
    if not rated:
        return Recommendation(
            model=None,
            best=None,
            uncertain=True,
            text="no recommendation: no model produced a gradable answer.",
            comparisons=[],
        )

    def quality_of(row: ModelRow) -> float:
        assert row.quality.mean is not None  # the row is rated
        return row.quality.mean

    def cost_key(row: ModelRow) -> tuple[int, float]:
        cost = row.cost_per_call_usd
        return (1, 0.0) if cost is None else (0, cost)

    def harm(row: ModelRow) -> int:
        return 0 if row.reference is None else row.reference.violations

    # Ties go to the model that recommended less harm, then to the cheaper one, then by name:
    # never to whichever --models listed first (the order of `comparisons`).
    best = min(rated, key=lambda r: (-quality_of(r), harm(r), cost_key(r), r.model))
    safest = min(harm(r) for r in rated)

    def runs(model: str, item: str) -> list[float]:
        return [r["quality"] for r in records if r["model"] == model and r["item"] == item and r["quality"] is not None]

    def failure_share(row: ModelRow) -> float:
        return row.failed / row.calls if row.calls else 1.0

    comparisons = []
    for row in rated:
        groups = [(runs(best.model, i), runs(row.model, i)) for i in item_ids]
        groups = [g for g in groups if g[0] and g[1]]
        gap = quality_of(best) - quality_of(row)
        p = 1.0 if row is best else paired_p(groups)
        reasons = []
        if row is not best and gap > 0 and p <= MAX_CHANCE:
            reasons.append(f"scores lower than {best.model} ({quality_of(row):g} vs {quality_of(best):g}, p = {p:.2f})")
        if failure_share(row) > failure_share(best) + FAILURE_SLACK:
            reasons.append(f"failed {row.failed} of {row.calls} calls")
        if harm(row) > safest:
            reasons.append(f"recommended a harmful action {harm(row)} time(s)")
        comparisons.append(
            Comparison(
                model=row.model,
                gap=_r(gap),
                p=_r(p, 3),
                items=len(groups),
                min_p=_r(min_p(groups), 3),
                eligible=not reasons,
                why_not=reasons,
                cost_per_call_usd=row.cost_per_call_usd,
            )
        )
    eligible = [c for c in comparisons if c.eligible]
    if not eligible:
        why = "; ".join(f"{c.model} {', '.join(c.why_not)}" for c in comparisons)
        return Recommendation(
            model=None,
            best=best.model,
            uncertain=True,
            text=f"no recommendation: no model is both as good as the best and as safe as the safest ({why})",
            comparisons=comparisons,
        )
    by_model = {r.model: r for r in rated}

    def choice_key(c: Comparison) -> tuple[tuple[int, float], float, int, str]:
        # The cheapest; at the same cost the better one (the best itself, rather than one "not
        # distinguishable" from it at no saving), then the safer, then by name.
        row = by_model[c.model]
        return (cost_key(row), -quality_of(row), harm(row), c.model)

    chosen = min(eligible, key=choice_key)
    undecidable = [c for c in comparisons if c.model != best.model and (c.min_p or 0) > MAX_CHANCE]
    uncertain = bool(undecidable) or (chosen.model != best.model and (chosen.p or 0) <= 2 * MAX_CHANCE)
    return Recommendation(
        model=chosen.model,
        best=best.model,
        uncertain=uncertain,
        text=_recommendation_text(chosen, best, quality_of(best), comparisons, undecidable),
        comparisons=comparisons,
        against_recommended=[
            against_recommended(by_model[c.model], by_model[chosen.model], records, item_ids)
            for c in comparisons
            if c.model != chosen.model
        ],
    )


def paired_differences(
    records: list[dict[str, Any]],
    model: str,
    chosen: str,
    item_ids: list[str],
    value: Callable[[dict[str, Any]], float | None],
) -> list[list[float]]:
    """Per input (one cluster each), `model`'s value minus `chosen`'s, run by run, over the
    runs where both have one: what clustered_interval takes."""

    def by_run(spec: str, item: str) -> dict[int, float]:
        return {
            r["run"]: v for r in records if r["model"] == spec and r["item"] == item and (v := value(r)) is not None
        }

    clusters = []
    for item in item_ids:
        mine, theirs = by_run(model, item), by_run(chosen, item)
        clusters.append([mine[run] - theirs[run] for run in sorted(mine.keys() & theirs.keys())])
    return clusters


def key_measure(name: str) -> Callable[[dict[str, Any]], float | None]:
    """A cell's recall or precision against its input's answer key (None without one, or
    for precision when the answer made no finding)."""

    def value(record: dict[str, Any]) -> float | None:
        answer = record["answer"]
        if answer["status"] != "ok":
            return None
        found = (answer.get("answer_key") or {}).get(name)
        return None if found is None else float(found)

    return value


def against_recommended(
    row: ModelRow, chosen: ModelRow, records: list[dict[str, Any]], item_ids: list[str]
) -> AgainstRecommended:
    """One model against the recommended one: its quality difference with a 95 % interval
    clustered by input (each input's runs are one cluster: arXiv 2411.00640), its cost,
    and the sentence that says both."""
    clusters = paired_differences(records, row.model, chosen.model, item_ids, lambda r: r["quality"])
    interval = clustered_interval(clusters)
    recall, precision = (
        clustered_interval(paired_differences(records, row.model, chosen.model, item_ids, key_measure(name)))
        for name in ("recall", "precision")
    )
    # What this design could see: the gap detected at 80 % power with the standard error observed.
    detectable = None if interval is None or interval.df is None else detectable_at(interval.se, interval.df)
    cost, chosen_cost = row.cost_per_call_usd, chosen.cost_per_call_usd
    cost_ratio = cost / chosen_cost if cost is not None and chosen_cost else None
    items = sum(1 for c in clusters if c)
    return AgainstRecommended(
        model=row.model,
        against=chosen.model,
        items=items,
        quality_difference=None if interval is None else interval.as_dict(2),
        detectable=_r(detectable),
        cost_ratio=_r(cost_ratio, 3),
        text=_against_text(row.model, interval, cost_ratio)
        + (
            ""
            if detectable is None
            else f"; over {items} inputs a gap under {detectable:.1f} is invisible at 80 % power"
        )
        + _key_text(recall, precision),
        recall_difference=None if recall is None else recall.as_dict(2),
        precision_difference=None if precision is None else precision.as_dict(2),
    )


def _key_text(recall: Interval | None, precision: Interval | None) -> str:
    """Recall and precision against the answer keys, each with its interval, when known."""
    said = [
        f"{name} {interval.estimate:+.2f} ± {interval.half_width:.2f}"
        for name, interval in (("recall", recall), ("precision", precision))
        if interval is not None
    ]
    return f"; answer keys: {', '.join(said)} (95 %, clustered by input)" if said else ""


def _against_text(model: str, interval: Interval | None, cost_ratio: float | None) -> str:
    if cost_ratio is None:
        cost = "cost unknown"
    elif cost_ratio < 1:
        cost = f"{1 - cost_ratio:.0%} cheaper"
    elif cost_ratio == 1:
        cost = "the same cost"
    else:
        cost = f"{cost_ratio - 1:.0%} dearer"
    if interval is None:
        return f"{model}: {cost}, quality difference without an interval (fewer than two inputs in common)"
    quality = f"quality {interval.estimate:+.1f} ± {interval.half_width:.1f} (95 %)"
    verdict = "not distinguishable" if not interval.excludes_zero else "better" if interval.estimate > 0 else "worse"
    return f"{model}: {cost}, {quality}, {verdict}"


def _money(value: float | None) -> str:
    from providers.pricing import format_cost

    return format_cost(value) if value is not None else "unknown cost"


def _recommendation_text(
    chosen: Comparison,
    best: ModelRow,
    best_quality: float,
    comparisons: list[Comparison],
    undecidable: list[Comparison],
) -> str:
    if chosen.model == best.model:
        text = f"{best.model}: the best quality here ({best_quality:g}), and no model that costs less is as good"
    else:
        text = (
            f"{chosen.model}: the cheapest model whose quality is not distinguishable from the best "
            f"({best.model}, {best_quality:g}; gap {chosen.gap:g}, p = {chosen.p:.2f} "
            f"over {chosen.items} item(s)), at {_money(chosen.cost_per_call_usd)} per call against "
            f"{_money(best.cost_per_call_usd)}"
        )
    chosen_cost = chosen.cost_per_call_usd
    for c in comparisons:
        if (
            not c.eligible
            and c.cost_per_call_usd is not None
            and chosen_cost is not None
            and c.cost_per_call_usd < chosen_cost
        ):
            text += f". {c.model} costs less but {'; '.join(c.why_not)}"
    if undecidable:
        worst = max(c.min_p or 0 for c in undecidable)
        text += (
            f". Uncertain: with this few items and runs no gap can be told from noise (the smallest "
            f"possible p is {worst:.2f}); add items or --repeat to decide"
        )
    elif chosen.model != best.model and (chosen.p or 0) <= 2 * MAX_CHANCE:
        text += ". Uncertain: the gap to the best is close to significant; --repeat would settle it"
    return text + "."


# --- the whole report ----------------------------------------------------------------------


def _unmeasured() -> Recommendation:
    return Recommendation(
        model=None,
        best=None,
        uncertain=True,
        text="no recommendation: nothing measures quality here (no reference or answer key, and no "
        "judges); compare the models on latency, cost and failures, or add --judges.",
        comparisons=[],
    )


def cell_counts(records: list[dict[str, Any]], expected: int) -> Cells:
    """How many cells there were to do, were asked (done), failed and were not sent
    (skipped); and how many grades failed or were not sent."""
    statuses = [r["answer"]["status"] for r in records]
    grades = [g["status"] for r in records for g in r["grades"]]
    return Cells(
        expected=expected,
        done=sum(1 for s in statuses if s != "skipped"),
        failed=statuses.count("failed"),
        skipped=statuses.count("skipped"),
        grades_failed=grades.count("failed"),
        grades_skipped=grades.count("skipped"),
    )


def eval_status(cells: Cells) -> EvalStatus:
    """ok: every cell answered and graded; failed: no answer succeeded although cells ran or
    were skipped; partial: anything in between (see the module's docstring)."""
    answered = cells.done - cells.failed
    if answered == 0 and (cells.failed or cells.skipped):
        return "failed"
    if answered == cells.expected and not (cells.grades_failed or cells.grades_skipped):
        return "ok"
    return "partial"


def eval_report(
    plan: dict[str, Any], records: list[dict[str, Any]], *, run_id: str | None, stopped: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`plan` is EvalPlan.to_dict(); `records` one per finished cell: model, item, run,
    answer (public JSON) and grades (public judge objects)."""
    items = {i["id"]: i for i in plan["items"]}
    expected = len(plan["items"]) * len(plan["models"]) * plan["repeat"]
    order = {
        (m, i["id"], run): n
        for n, (run, i, m) in enumerate(
            (run, i, m) for run in range(plan["repeat"]) for i in plan["items"] for m in plan["models"]
        )
    }
    records = sorted(records, key=lambda r: order.get((r["model"], r["item"], r["run"]), len(order)))
    cells = cell_counts(records, expected)
    tasks: list[EvalTask] = []
    pairwise = plan.get("judge_mode") == "pairwise"
    # Pairwise judges choose between answers and grade none: quality comes from the references.
    graders = [] if pairwise else plan["judges"]
    for name in dict.fromkeys(task_name(i["task"], plan["mode"]) for i in plan["items"]):
        kind = "review" if name == "review" else "triage"
        item_ids = [i["id"] for i in plan["items"] if task_name(i["task"], plan["mode"]) == name]
        unkeyed = [i for i in item_ids if not items[i].get("keyed", True)]
        measure = measure_of(kind, graders, keyed=len(unkeyed) < len(item_ids))
        # Each finished cell's quality, worked out once for every table of this task.
        mine = [{**r, "quality": quality(r, measure)} for r in records if r["item"] in item_ids]
        rows = [_model_row(m, [r for r in mine if r["model"] == m], items, graders) for m in plan["models"]]
        if plan["repeat"] > 1:
            for row in rows:
                row.stability = ModelStability.model_validate(model_stability(mine, row.model, item_ids, kind))
        if plan.get("hedge_after"):
            for row in rows:
                answers = [r["answer"] for r in mine if r["model"] == row.model]
                row.hedging = HedgeAccount.model_validate(hedge_account(answers, plan["hedge_after"]))
        recommendation = _recommend(rows, mine, item_ids) if measure != "none" else _unmeasured()
        if plan["repeat"] > 1 and recommendation.model is not None:
            others = recommendation.against_recommended or []
            drift = drift_against(mine, [a.model for a in others], recommendation.model, item_ids, kind)
            for against in others:
                against.findings_drift = [FindingDrift.model_validate(d) for d in drift[against.model]]
        tasks.append(
            EvalTask(
                task=name,
                items=item_ids,
                measure=measure,
                measure_label=measure_label(measure, kind, unkeyed, len(item_ids)),
                judge_only=unkeyed if measure == "judges" else [],
                unmeasured=[] if measure == "judges" else unkeyed,
                difficulties=sorted({items[i]["difficulty"] or "unrated" for i in item_ids}, key=_difficulty_key),
                models=rows,
                judges=_judges_section(mine, graders, kind=kind, self_judging=plan.get("self_judging", True))
                if graders
                else None,
                splits=_splits(mine, plan["models"], item_ids),
                recommendation=recommendation,
            )
        )
        if pairwise and kind == "triage" and plan["judges"]:
            baseline = plan["models"][0]
            tasks[-1].pairwise = [
                PairwiseAgainst.model_validate(pairwise_against(mine, m, baseline)) for m in plan["models"][1:]
            ]
    asked = cells.done
    if asked < expected:
        for task in tasks:
            rec = task.recommendation
            rec.uncertain = True
            rec.text += (
                f" Incomplete: {asked} of {expected} cells are done, and models may be at "
                f"different points; resume the eval before acting on this."
            )
    cost_answers = sum((r["answer"]["metrics"] or {}).get("cost_usd") or 0 for r in records)
    cost_grades = sum((g.get("metrics") or {}).get("cost_usd") or 0 for r in records for g in r["grades"])
    spend = spend_summary(
        [r["answer"]["metrics"] for r in records] + [g.get("metrics") for r in records for g in r["grades"]]
    )
    return EvalReport(
        task="eval",
        run_id=run_id,
        status=eval_status(cells),
        plan=Plan.model_validate(plan),
        cells=cells,
        stopped=None if stopped is None else Stopped.model_validate(stopped),
        cost_usd=EvalCost(
            answers=round(cost_answers, 6),
            grades=round(cost_grades, 6),
            total=round(cost_answers + cost_grades, 6),
            # Over every answer and grade: what the providers' prompt caches read, wrote and saved.
            cache_read_tokens=spend["cache_read_tokens"],
            cache_write_tokens=spend["cache_write_tokens"],
            cache_saved_usd=spend["cache_saved_usd"],
        ),
        tasks=tasks,
        latency_samples_ms={
            m: [
                r["answer"]["metrics"]["latency_ms"]
                for r in records
                if r["model"] == m
                and r["answer"]["status"] == "ok"
                and r["answer"]["metrics"]["latency_ms"] is not None
            ]
            for m in plan["models"]
        },
    ).public()
