"""Finding-level stability in an eval with `--repeat N`: per model, which findings (or
triage actions) every run on an input makes and which come and go; and, against the
recommended model, the findings one of them makes and the other does not, beyond what
each one's flicker explains (app.compare.stability, one false-discovery control over all
of them)."""

from __future__ import annotations

from typing import Any

from app.compare.stability import (
    adjust_together,
    align_actions,
    align_findings,
    cluster_sentence,
    stability_clusters,
    task_items,
)

# How many come-and-go findings, and how many drifting ones, a report lists by name.
LISTED = 10


def _runs(records: list[dict[str, Any]], model: str, item: str, kind: str) -> list[list[dict[str, Any]]]:
    mine = sorted(
        (r for r in records if r["model"] == model and r["item"] == item and r["answer"]["status"] == "ok"),
        key=lambda r: r["run"],
    )
    return [task_items(kind, r["answer"]) for r in mine]


def _clusters(
    kind: str, runs_a: list[list[dict[str, Any]]], runs_b: list[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    if kind == "review":
        return stability_clusters(runs_a, runs_b, aligner=align_findings)
    return stability_clusters(runs_a, runs_b, aligner=align_actions, label=lambda a: str(a["action"]))


def model_stability(records: list[dict[str, Any]], model: str, item_ids: list[str], kind: str) -> dict[str, Any]:
    """How many of a model's findings held over its runs on each input, and which came and went."""
    stable = flicker = 0
    come_and_go: list[dict[str, Any]] = []
    for item in item_ids:
        runs = _runs(records, model, item, kind)
        if len(runs) < 2:
            continue
        for cluster in _clusters(kind, runs, []):
            if cluster["found_a"] == cluster["repeat_a"]:
                stable += 1
            else:
                flicker += 1
                come_and_go.append(
                    {
                        "input": item,
                        "item": cluster["item"],
                        "line": cluster["line"],
                        "found": cluster["found_a"],
                        "repeat": cluster["repeat_a"],
                    }
                )
    total = stable + flicker
    return {
        "stable": stable,
        "flicker": flicker,
        "stable_share": round(stable / total, 3) if total else None,
        "come_and_go": come_and_go,
    }


def drift_against(
    records: list[dict[str, Any]], models: list[str], chosen: str, item_ids: list[str], kind: str
) -> dict[str, list[dict[str, Any]]]:
    """Per model of `models`, the findings where it (side a) and the recommended `chosen`
    (side b) differ beyond their flicker. The false-discovery control runs over the whole
    family — every input of every model against `chosen` — as a compare's runs over all of
    its clusters, so more inputs or models cannot make a "drift" by luck."""
    family: list[tuple[str, str, dict[str, Any]]] = []
    for model in models:
        for item in item_ids:
            runs_a, runs_b = _runs(records, model, item, kind), _runs(records, chosen, item, kind)
            if len(runs_a) < 2 or len(runs_b) < 2:
                continue
            family += [(model, item, cluster) for cluster in _clusters(kind, runs_a, runs_b)]
    adjust_together([cluster for _, _, cluster in family])
    drifting: dict[str, list[dict[str, Any]]] = {model: [] for model in models}
    for model, item, cluster in family:
        if cluster["verdict"] == "drift":
            drifting[model].append(
                {
                    "input": item,
                    "item": cluster["item"],
                    "line": cluster["line"],
                    "found_a": cluster["found_a"],
                    "found_b": cluster["found_b"],
                    "repeat_a": cluster["repeat_a"],
                    "repeat_b": cluster["repeat_b"],
                    "p": cluster["p"],
                    "q": cluster["q"],
                    "text": f"{item}: {cluster_sentence(cluster, (model, chosen))}",
                }
            )
    return drifting
