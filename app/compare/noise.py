"""Is the difference between two providers larger than the difference between two runs
of the same provider? With `--repeat N` each side ran N times; this module sets the
spread within each side against the gap between them, measure by measure.

The rule is deliberately plain: a measure drifts when every run of one side lies beyond
every run of the other (the ranges do not overlap), and that separation would be
unlikely from noise alone. If all 2N runs came from one provider, the chance that the
N labelled "A" happen to be the N lowest or the N highest is 2 / C(2N, N): 0.33 at N=2,
0.10 at N=3, 0.03 at N=4. Separation counts as drift only when that chance is at most
10 %, so N=1 and N=2 never claim drift; they say the difference is not distinguishable
at this N.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import combinations
from math import comb
from statistics import mean, stdev
from typing import Any

from app.compare.contract import (
    AgreementMeasure,
    CategoricalMeasure,
    ComeAndGo,
    ComeAndGoItem,
    Noise,
    NumericMeasure,
    ReviewDrift,
    RunCounts,
    SidesComeAndGo,
)
from app.compare.drift import drift_of
from app.compare.significance import (
    POWER,
    clustered_interval,
    detectable_at,
    difference_interval,
    minimum_detectable,
    repeats_to_detect,
)
from app.compare.stability import align_actions, align_findings, stability_clusters, stability_summary, task_items

# Separation counts as drift when noise alone would produce it at most this often.
MAX_CHANCE = 0.10
# The difference worth detecting, per measure, for the "N=… detects …" advice.
TARGETS = {"score": 1.0, "findings": 1.0, "judge total": 1.0, "actions": 1.0, "recall": 0.1, "precision": 0.1}


def separation_chance(n_a: int, n_b: int) -> float:
    """How often exchangeable runs split into two non-overlapping groups by side."""
    return min(1.0, 2 / comb(n_a + n_b, n_a))


def power_of(name: str, a: list[float], b: list[float]) -> dict[str, Any] | None:
    """What this N could see: the smallest difference detected at 80 % power with the
    spreads observed, and the runs per side that would detect the measure's target."""
    n = min(len(a), len(b))
    if n < 2:
        return None
    sd_a, sd_b = stdev(a), stdev(b)
    target = TARGETS.get(name, 1.0)
    detectable = minimum_detectable(sd_a, sd_b, n)
    return {
        "runs": n,
        "sd_a": round(sd_a, 3),
        "sd_b": round(sd_b, 3),
        "detectable": None if detectable is None else round(detectable, 3),
        "target": target,
        "repeats_for_target": repeats_to_detect(sd_a, sd_b, target),
        "power": POWER,
    }


def _numeric(
    name: str, a: list[float], b: list[float], by_file: list[list[float]] | None = None
) -> NumericMeasure | None:
    """`by_file`, in a compare of a change: per changed file, B − A run by run (see
    file_differences), for the interval clustered by file."""
    if not a or not b:
        return None
    separated = max(a) < min(b) or max(b) < min(a)
    chance = separation_chance(len(a), len(b))
    interval = difference_interval(a, b)
    return NumericMeasure(
        measure=name,
        a=a,
        b=b,
        mean_a=round(mean(a), 2),
        mean_b=round(mean(b), 2),
        spread_a=max(a) - min(a),
        spread_b=max(b) - min(b),
        separated=separated,
        chance=round(chance, 3),
        drift=separated and chance <= MAX_CHANCE,
        # B − A with its 95 % Welch interval; None with fewer than two runs a side.
        difference=None if interval is None else interval.as_dict(),
        power=power_of(name, a, b),
        **({} if by_file is None else per_file(by_file)),
    )


def per_file(clusters: list[list[float]]) -> dict[str, Any]:
    """The mean per-file difference B − A with its interval clustered by file (each changed
    file is an input, its runs one cluster: the clustered SE eval uses, arXiv 2411.00640),
    and the per-file gap this design detects at 80 % power."""
    interval = clustered_interval(clusters)
    detectable = None if interval is None or interval.df is None else detectable_at(interval.se, interval.df)
    return {
        "by_file": None if interval is None else interval.as_dict(),
        "by_file_detectable": None if detectable is None else round(detectable, 3),
    }


def _file_values(run: dict[str, Any], measure: str) -> dict[str, float]:
    """One run of a change review: a measure per reviewed file (score, findings, or recall
    and precision against the file's answer key)."""
    values: dict[str, float] = {}
    findings = (run.get("result") or {}).get("findings") or []
    for entry in run.get("files") or []:
        if entry.get("status") != "ok":
            continue
        path = entry["path"]
        if measure == "score":
            value = entry.get("score")
        elif measure == "findings":
            value = sum(1 for f in findings if f.get("path") == path)
        else:
            value = (entry.get("answer_key") or {}).get(measure)
        if value is not None:
            values[path] = float(value)
    return values


def file_differences(measure: str, runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]]) -> list[list[float]]:
    """Per changed file, B − A run by run (run k of A against run k of B, as eval pairs
    a model's runs with the recommended one's), over the runs where both reviewed it."""
    pairs = [(_file_values(a, measure), _file_values(b, measure)) for a, b in zip(runs_a, runs_b, strict=False)]
    paths = dict.fromkeys(path for a, b in pairs for path in (*a, *b))
    return [[b[path] - a[path] for a, b in pairs if path in a and path in b] for path in paths]


def _categorical(name: str, a: list[str], b: list[str]) -> CategoricalMeasure | None:
    if not a or not b:
        return None
    # Each side always says the same thing, and the two sides say different things.
    separated = len(set(a)) == 1 and len(set(b)) == 1 and a[0] != b[0]
    chance = separation_chance(len(a), len(b))
    return CategoricalMeasure(
        measure=name, a=a, b=b, separated=separated, chance=round(chance, 3), drift=separated and chance <= MAX_CHANCE
    )


def _agreement(task: str, runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]]) -> AgreementMeasure | None:
    """Agreement of every pair of runs: within A, within B, and between the sides."""

    def agreement(x: dict[str, Any], y: dict[str, Any]) -> float:
        drift = drift_of(task, x, y)
        return drift.agreement if isinstance(drift, ReviewDrift) else drift.actions.agreement

    within = [agreement(x, y) for runs in (runs_a, runs_b) for x, y in combinations(runs, 2)]
    if not within or not runs_a or not runs_b:  # one run per side: no noise to compare with
        return None
    between = [agreement(x, y) for x in runs_a for y in runs_b]
    chance = separation_chance(len(runs_a), len(runs_b))
    separated = max(between) < min(within)
    return AgreementMeasure(
        measure="findings agreement" if task == "review" else "actions agreement",
        within=round(mean(within), 3),
        within_min=min(within),
        between=round(mean(between), 3),
        between_max=max(between),
        separated=separated,
        chance=round(chance, 3),
        drift=separated and chance <= MAX_CHANCE,
    )


def come_and_go(
    items_per_run: list[list[Any]], same: Callable[[Any, Any], bool], label: Callable[[Any], str]
) -> ComeAndGo:
    """Group one side's items (findings, actions) across its runs; those not in every run
    come and go with sampling, however confident each single run sounded."""
    groups: list[tuple[Any, set[int]]] = []
    for run, items in enumerate(items_per_run):
        for item in items:
            for first, seen in groups:
                if run not in seen and same(first, item):
                    seen.add(run)
                    break
            else:
                groups.append((item, {run}))
    runs = len(items_per_run)
    return ComeAndGo(
        stable=sum(1 for _, seen in groups if len(seen) == runs),
        come_and_go=[
            ComeAndGoItem(item=label(first), seen_in=len(seen), runs=runs) for first, seen in groups if len(seen) < runs
        ],
    )


def _same_finding(x: dict[str, Any], y: dict[str, Any]) -> bool:
    from types import SimpleNamespace

    from app.review.matching import finding_citation, similarity

    return similarity(finding_citation(SimpleNamespace(**x)), finding_citation(SimpleNamespace(**y))) is not None


def _same_action(x: dict[str, Any], y: dict[str, Any]) -> bool:
    from app.review.matching import text_similarity

    return text_similarity(x["action"], y["action"]) is not None


def repeat_report(task: str, runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]]) -> dict[str, Any]:
    return noise_of(task, runs_a, runs_b).public()


def noise_of(task: str, runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]]) -> Noise:
    """Spread within each side against the gap between them, with a plain verdict. Only
    runs that finished are counted; failed ones are reported by the caller."""
    numbers = tuple(
        [n for n, r in enumerate(runs, start=1) if r.get("status") == "ok" and r.get("result")]
        for runs in (runs_a, runs_b)
    )
    ok_a, ok_b = [runs_a[n - 1] for n in numbers[0]], [runs_b[n - 1] for n in numbers[1]]
    measures: list[NumericMeasure | CategoricalMeasure | AgreementMeasure | None]
    if task == "review":
        change = any("files" in r for r in (*ok_a, *ok_b))

        def by_file(measure: str) -> list[list[float]] | None:
            return file_differences(measure, ok_a, ok_b) if change else None

        measures = [
            _numeric(
                "score",
                [r["result"]["score"] for r in ok_a if r["result"].get("score") is not None],
                [r["result"]["score"] for r in ok_b if r["result"].get("score") is not None],
                by_file("score"),
            ),
            _numeric(
                "findings",
                [len(task_items("review", r)) for r in ok_a],
                [len(task_items("review", r)) for r in ok_b],
                by_file("findings"),
            ),
            *(_numeric(k, _key_values(ok_a, k), _key_values(ok_b, k), by_file(k)) for k in ("recall", "precision")),
            _agreement(task, ok_a, ok_b),
        ]
        items, same, label = partial(task_items, "review"), _same_finding, lambda f: f"L{f['line_start']} {f['title']}"
        clusters = stability_clusters(
            [items(r) for r in ok_a], [items(r) for r in ok_b], aligner=align_findings, numbers=(numbers[0], numbers[1])
        )
    else:
        totals = [[_judge_mean(r) for r in runs] for runs in (ok_a, ok_b)]
        measures = [
            _categorical("severity", [r["result"]["severity"] for r in ok_a], [r["result"]["severity"] for r in ok_b]),
            _numeric("judge total", [t for t in totals[0] if t is not None], [t for t in totals[1] if t is not None]),
            _numeric(
                "actions", [len(task_items("triage", r)) for r in ok_a], [len(task_items("triage", r)) for r in ok_b]
            ),
            _agreement(task, ok_a, ok_b),
        ]
        items, same, label = partial(task_items, "triage"), _same_action, lambda a: a["action"]
        clusters = stability_clusters(
            [items(r) for r in ok_a],
            [items(r) for r in ok_b],
            aligner=align_actions,
            label=label,
            numbers=(numbers[0], numbers[1]),
        )
    kept = [m for m in measures if m is not None]
    drifting = [m.measure for m in kept if m.drift]
    return Noise(
        runs=RunCounts(a=len(runs_a), b=len(runs_b), ok_a=len(ok_a), ok_b=len(ok_b)),
        measures=kept,
        within=SidesComeAndGo(
            a=come_and_go([items(r) for r in ok_a], same, label),
            b=come_and_go([items(r) for r in ok_b], same, label),
        ),
        drift_beyond_noise=drifting,
        verdict=_verdict(drifting, len(ok_a), len(ok_b)) + _findings_verdict(clusters, task),
        # Finding by finding (action by action): how many runs of each side found it.
        clusters=clusters,
        stability=stability_summary(clusters),
    )


def _key_values(runs: list[dict[str, Any]], measure: str) -> list[float]:
    """Each run's recall or precision against the answer key (runs without one left out)."""
    return [float(value) for r in runs if (value := (r.get("answer_key") or {}).get(measure)) is not None]


def _judge_mean(run: dict[str, Any]) -> float | None:
    totals = [j["total"] for j in run.get("judges") or [] if j.get("total") is not None]
    return round(mean(totals), 2) if totals else None


def _findings_verdict(clusters: list[dict[str, Any]], task: str) -> str:
    """The finding-level part of the verdict: how many findings (actions) drift."""
    drifting = sum(1 for c in clusters if c["verdict"] == "drift")
    if not drifting:
        return ""
    what = "finding(s)" if task == "review" else "action(s)"
    return f"; {drifting} {what} differ between the sides beyond each side's flicker"


def _verdict(drifting: list[str], n_a: int, n_b: int) -> str:
    if drifting:
        return (
            f"drift larger than noise in {', '.join(drifting)}: every run of one provider lies beyond "
            f"every run of the other (noise alone would do that {separation_chance(n_a, n_b):.0%} of the time)"
        )
    if n_a < 1 or n_b < 1:
        return "no verdict: a side has no finished run"
    if separation_chance(n_a, n_b) > MAX_CHANCE:
        more = "--repeat 3 or more" if n_a == n_b else "more runs"
        return (
            f"not distinguishable at this N ({n_a} finished run(s) against {n_b}): a difference this size "
            f"can be sampling noise; run with {more} to tell"
        )
    return f"not distinguishable from noise: the sides' runs overlap on every measure at N={max(n_a, n_b)}"
