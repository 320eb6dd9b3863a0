"""Finding-level stability across repeated runs: which findings each side makes every
time, which it makes only sometimes, and which difference between the sides is drift.

With `--repeat N` every run's findings (or a triage's actions) are grouped into clusters
with the matching rule of `app.review.matching`, one finding per run at most: each run
is paired best first with the clusters found so far, and what it leaves unpaired starts
new clusters. A cluster says how many runs of each side found it (`found_a` of
`repeat_a`, `found_b` of `repeat_b`).

Whether the sides differ on a cluster is Fisher's exact test on those counts — a side
that finds an issue 3 times in 5 against 2 in 5 is flickering, not drifting — and the
p-values of all clusters are adjusted together (Benjamini-Hochberg), so ten flickering
findings do not produce one "drift" by luck. The verdicts, in the order reported:

- `stable`: every run of both sides found it.
- `drift`: the sides differ beyond the flicker (adjusted p at most FALSE_DISCOVERY).
- `one_side`: one side found it every time and the other never, but N is too small to
  call that drift.
- `flicker`: anything else; the sides' counts are within what chance explains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from app.compare.significance import benjamini_hochberg, fisher_exact
from app.review.matching import Alignment, align, finding_citation, pair_best_first, text_similarity
from app.review.model import SEVERITIES, severity_rank

# The false-discovery rate allowed across a report's clusters (compare's noise bar too).
FALSE_DISCOVERY = 0.10
VERDICT_ORDER = ("stable", "drift", "one_side", "flicker")

#: Pairs the cluster representatives with one run's items, best first.
Aligner = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Alignment]


def task_items(kind: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A finished answer's findings (review) or actions (triage)."""
    result = answer.get("result") or {}
    if kind == "review":
        return list(result.get("findings") or [])
    return list(result.get("actions", result.get("follow_ups")) or [])


def align_findings(reps: list[dict[str, Any]], items: list[dict[str, Any]]) -> Alignment:
    """Pair findings by the matching rule; in a review of a change (findings carry their
    `path`) only within one file, as the change's drift pairs them."""
    paths = list(dict.fromkeys(f.get("path") for f in (*reps, *items)))
    if len(paths) < 2:
        return align(
            [finding_citation(SimpleNamespace(**f)) for f in reps],
            [finding_citation(SimpleNamespace(**f)) for f in items],
        )
    pairs: list[tuple[int, int, float]] = []
    only_a: list[int] = []
    only_b: list[int] = []
    for path in paths:
        here_a = [i for i, f in enumerate(reps) if f.get("path") == path]
        here_b = [j for j, f in enumerate(items) if f.get("path") == path]
        within = align_findings([reps[i] for i in here_a], [items[j] for j in here_b])
        pairs += [(here_a[i], here_b[j], score) for i, j, score in within.pairs]
        only_a += [here_a[i] for i in within.only_a]
        only_b += [here_b[j] for j in within.only_b]
    return Alignment(pairs, sorted(only_a), sorted(only_b))


def align_actions(reps: list[dict[str, Any]], items: list[dict[str, Any]]) -> Alignment:
    return pair_best_first(len(reps), len(items), lambda i, j: text_similarity(reps[i]["action"], items[j]["action"]))


@dataclass
class _Cluster:
    first: dict[str, Any]  # the first finding seen: its wording names the cluster
    members: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: {"a": {}, "b": {}})


def _grow(runs_by_side: dict[str, Sequence[Sequence[dict[str, Any]]]], aligner: Aligner) -> list[_Cluster]:
    clusters: list[_Cluster] = []
    for side, runs in runs_by_side.items():
        for run, items in enumerate(runs):
            items = list(items)
            reps = [c.first for c in clusters]
            alignment = aligner(reps, items)
            for i, j, _ in alignment.pairs:
                clusters[i].members[side][run] = items[j]
            for j in alignment.only_b:
                cluster = _Cluster(items[j])
                cluster.members[side][run] = items[j]
                clusters.append(cluster)
    return clusters


def _severity(members: list[dict[str, Any]]) -> str | None:
    """The severity most runs gave it; a tie goes to the more severe."""
    given = [str(m["severity"]) for m in members if m.get("severity") in SEVERITIES]
    if not given:
        return None
    return min(set(given), key=lambda s: (-given.count(s), severity_rank(s)))


def _verdict(found_a: int, n_a: int, found_b: int, n_b: int, q: float) -> str:
    if found_a == n_a and found_b == n_b:
        return "stable"
    if q <= FALSE_DISCOVERY:
        return "drift"
    if (found_a, found_b) in ((n_a, 0), (0, n_b)):
        return "one_side"
    return "flicker"


def stability_clusters(
    runs_a: Sequence[Sequence[dict[str, Any]]],
    runs_b: Sequence[Sequence[dict[str, Any]]],
    *,
    aligner: Aligner = align_findings,
    label: Callable[[dict[str, Any]], str] = lambda f: (f"{f['path']}: " if f.get("path") else "") + str(f["title"]),
    numbers: tuple[Sequence[int], Sequence[int]] | None = None,
) -> list[dict[str, Any]]:
    """The clusters of both sides' items over their finished runs (each a list of
    findings, or of actions with `aligner=align_actions`), ranked by verdict. `numbers`
    are the finished runs' numbers among all runs (1, 2, 4 when the third failed)."""
    n_a, n_b = len(runs_a), len(runs_b)
    num_a, num_b = numbers or (range(1, n_a + 1), range(1, n_b + 1))
    clusters = _grow({"a": runs_a, "b": runs_b}, aligner)
    p_values = [fisher_exact(len(c.members["a"]), n_a, len(c.members["b"]), n_b) for c in clusters]
    q_values = benjamini_hochberg(p_values)
    out = []
    for cluster, p, q in zip(clusters, p_values, q_values, strict=True):
        found_a, found_b = len(cluster.members["a"]), len(cluster.members["b"])
        members = [*cluster.members["a"].values(), *cluster.members["b"].values()]
        entry: dict[str, Any] = {
            "item": label(cluster.first),
            "line": cluster.first.get("line_start"),
            "severity": _severity(members),
            "found_a": found_a,
            "found_b": found_b,
            "repeat_a": n_a,
            "repeat_b": n_b,
            # Which run of each side found it, and that run's finding id (gates and SARIF use them).
            "runs_a": {str(num_a[run]): m.get("id") for run, m in sorted(cluster.members["a"].items())},
            "runs_b": {str(num_b[run]): m.get("id") for run, m in sorted(cluster.members["b"].items())},
            "severities_a": [m.get("severity") for _, m in sorted(cluster.members["a"].items())],
            "severities_b": [m.get("severity") for _, m in sorted(cluster.members["b"].items())],
            "p": round(p, 4),
            "q": round(q, 4),
            "verdict": _verdict(found_a, n_a, found_b, n_b, q),
        }
        entry["favours"] = None if found_a * n_b == found_b * n_a else ("a" if found_a * n_b > found_b * n_a else "b")
        out.append(entry)
    # Stable first, then drift (the largest gap first), one side only, flicker.
    out.sort(
        key=lambda c: (
            VERDICT_ORDER.index(c["verdict"]),
            -abs(c["found_a"] / max(n_a, 1) - c["found_b"] / max(n_b, 1)),
            c["line"] if c["line"] is not None else 0,
        )
    )
    return out


def _times(found: int, runs: int) -> str:
    return f"{found} of {runs} time{'s' if runs != 1 else ''}"


def cluster_sentence(cluster: dict[str, Any], names: tuple[str, str] = ("A", "B")) -> str:
    """The cluster in words: "B never finds "SQL injection" (L12) that A finds 5 of 5 times"
    (`names` are what sides a and b are called: "A" and "B", or two models)."""
    where = f" (L{cluster['line']})" if cluster.get("line") is not None else ""
    what = f'"{cluster["item"]}"{where}'
    found = {"a": (cluster["found_a"], cluster["repeat_a"]), "b": (cluster["found_b"], cluster["repeat_b"])}
    name = dict(zip("ab", names, strict=True))
    counts = f"{name['a']} {found['a'][0]} of {found['a'][1]}, {name['b']} {found['b'][0]} of {found['b'][1]}"
    verdict = cluster["verdict"]
    if verdict == "stable":
        return f"both find {what} every time ({counts})"
    if verdict in ("drift", "one_side"):
        more = cluster["favours"]
        less = "b" if more == "a" else "a"
        said = (
            f"{name[less]} never finds {what} that {name[more]} finds {_times(*found[more])}"
            if found[less][0] == 0
            else f"{name[more]} finds {what} {_times(*found[more])}, {name[less]} only {_times(*found[less])}"
        )
        if verdict == "drift":
            return f"{said}: drift (p = {cluster['p']:.3f}, adjusted {cluster['q']:.3f})"
        return f"{said}: too few runs to call it drift (p = {cluster['p']:.2f}); --repeat more to tell"
    return f"{what}: {counts}: flicker within each side, not drift (p = {cluster['p']:.2f})"


def adjust_together(clusters: Sequence[dict[str, Any]]) -> None:
    """One Benjamini-Hochberg adjustment over clusters from several comparisons (every
    input and every model of an eval against the recommended one), as a compare adjusts
    over all of its clusters: each cluster's `q` and `verdict` are set again, in place.
    Each test's p is recomputed from its counts, so the rounding of `p` plays no part."""
    p_values = [fisher_exact(c["found_a"], c["repeat_a"], c["found_b"], c["repeat_b"]) for c in clusters]
    for cluster, q in zip(clusters, benjamini_hochberg(p_values), strict=True):
        cluster["q"] = round(q, 4)
        cluster["verdict"] = _verdict(
            cluster["found_a"], cluster["repeat_a"], cluster["found_b"], cluster["repeat_b"], q
        )


def stability_summary(clusters: list[dict[str, Any]]) -> dict[str, int]:
    """How many clusters got each verdict."""
    return {verdict: sum(1 for c in clusters if c["verdict"] == verdict) for verdict in VERDICT_ORDER}


# --- gates ----------------------------------------------------------------------------------


def runs_at_or_above(severities: list[str | None], fail_on: str) -> int:
    """How many runs reported the cluster at or above the severity `fail_on`."""
    top = severity_rank(fail_on)
    return sum(1 for s in severities if s in SEVERITIES and severity_rank(s) <= top)


def passes_gate(severities_per_side: list[list[str | None]], fail_on: str, *, consensus: int, agree: bool) -> bool:
    """Does a cluster fail a `--fail-on` gate? It must be reported at or above `fail_on`
    in at least `consensus` runs of a side (of every side when `agree`: the findings both
    providers report; of any side otherwise). A side with fewer runs than `consensus` (a
    stored baseline) needs all of its runs."""
    if fail_on == "none":
        return False
    enough = [
        runs_at_or_above(severities, fail_on) >= min(consensus, max(len(severities), 1))
        for severities in severities_per_side
    ]
    return all(enough) if agree else any(enough)


def compare_gate(clusters: list[dict[str, Any]], fail_on: str, *, consensus: int, agree: bool) -> list[dict[str, Any]]:
    """The clusters of a compare that fail the gate (see passes_gate)."""
    return [
        c
        for c in clusters
        if passes_gate([_padded(c, "a"), _padded(c, "b")], fail_on, consensus=consensus, agree=agree)
    ]


def _padded(cluster: dict[str, Any], side: str) -> list[str | None]:
    # One entry per run of the side: the runs that did not find it count as None.
    severities: list[str | None] = list(cluster[f"severities_{side}"])
    return severities + [None] * (cluster[f"repeat_{side}"] - len(severities))


# --- one side's runs (review --repeat) -------------------------------------------------------


def one_side_view(cluster: dict[str, Any]) -> dict[str, Any]:
    """A cluster of one provider's runs: how many of its runs found it, and in which."""
    return {
        "item": cluster["item"],
        "line": cluster["line"],
        "severity": cluster["severity"],
        "found": cluster["found_a"],
        "repeat": cluster["repeat_a"],
        "runs": cluster["runs_a"],
        "severities": cluster["severities_a"],
        # Found in every run, or only in some: a finding that comes and goes with sampling.
        "verdict": "stable" if cluster["found_a"] == cluster["repeat_a"] else "flicker",
    }


def review_repeat_record(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One review's public JSON for `review --repeat N`: the first run as the contract
    reads it, every run under `runs`, and the stability of each finding across the runs
    that finished. The status is failed when any run failed."""
    numbers = [n for n, r in enumerate(runs, start=1) if r.get("status") == "ok" and r.get("result")]
    finished = [runs[n - 1] for n in numbers]
    clusters = stability_clusters([(r["result"].get("findings") or []) for r in finished], [], numbers=(numbers, []))
    first_failure = next((r for r in runs if r.get("status") != "ok"), None)
    record = {**runs[0], "repeat": len(runs), "runs": runs}
    if first_failure is not None:
        record["status"], record["error"] = first_failure["status"], first_failure.get("error")
    record["stability"] = {
        "runs": len(runs),
        "finished": len(finished),
        "clusters": [one_side_view(c) for c in clusters],
    }
    return record


def consensus_sentence(cluster: dict[str, Any]) -> str:
    """One provider's finding over its runs, in words."""
    where = f" (L{cluster['line']})" if cluster.get("line") is not None else ""
    if cluster["verdict"] == "stable":
        return f'"{cluster["item"]}"{where}: in every run ({cluster["found"]} of {cluster["repeat"]})'
    return f'"{cluster["item"]}"{where}: in {cluster["found"]} of {cluster["repeat"]} runs, comes and goes'


def review_gate(clusters: list[dict[str, Any]], fail_on: str, *, consensus: int) -> list[dict[str, Any]]:
    """The clusters of a repeated review (one_side_view) that fail the gate."""
    return [
        c
        for c in clusters
        if passes_gate(
            [[*c["severities"], *[None] * (c["repeat"] - len(c["severities"]))]],
            fail_on,
            consensus=consensus,
            agree=False,
        )
    ]
