"""How far the judges can be trusted: with each other, and against the answer keys.

Per rubric dimension (diagnosis, quality, total) over every answer two or more judges
graded: Cohen's weighted kappa when there are two judges, Krippendorff's alpha for any
number (app.eval.agreement). Each judge's offset is how far above or below the other
judges it grades the same answers, on average. Where an answer has an objective measure
(answer-key F1, reference coverage), each judge's totals are set against it by rank
(Spearman's rho): a judge that ranks answers unlike the key is grading something else.
The effective number of independent judges counts model families, not judges: two
judges of one family share its preferences.
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from app.eval.agreement import krippendorff_alpha, spearman, weighted_kappa
from app.eval.plan import family_of

DIMENSIONS = {"diagnosis": (1, 5), "quality": (1, 5), "total": (2, 10)}
# Krippendorff's bars (2004, "Content Analysis", 2nd ed., §11.4): rely on data at 0.800
# or more, draw only tentative conclusions from 0.667 to 0.800, and none below.
RELIABLE, TENTATIVE = 0.800, 0.667
# An offset this large (points of the 10-point total) is worth a reader's attention.
NOTABLE_OFFSET = 1.0


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def reading(value: float | None) -> str:
    if value is None:
        return "undefined"
    return "reliable" if value >= RELIABLE else "tentative" if value >= TENTATIVE else "unreliable"


def judge_reliability(
    records: list[dict[str, Any]], judges: list[str], *, objective: list[float | None], self_judging: bool = True
) -> dict[str, Any]:
    """The public `reliability` object of a task's judges. `records` are the task's cells
    (answer and grades), `objective` each one's key-based quality (None without one)."""
    # A grade counts where it scored every dimension (a failed grade, or one stored without
    # the parts of its total, has nothing to agree on).
    grades = [
        {g["judge"]: g for g in r["grades"] if all(g.get(dim) is not None for dim in DIMENSIONS)} for r in records
    ]
    dimensions = {dim: _agreement(grades, judges, dim) for dim in DIMENSIONS}
    families = [family_of(r["model"]) for r in records]
    offsets = {j: _offset(grades, families, judges, j) for j in judges}
    against_key = {j: _against_key(grades, objective, j) for j in judges}
    independent = {
        model: len({family_of(j) for r, g in zip(records, grades, strict=True) if r["model"] == model for j in g})
        for model in dict.fromkeys(r["model"] for r in records)
    }
    section = {
        "statistic": "weighted_kappa" if len(judges) == 2 else "krippendorff_alpha",
        "dimensions": dimensions,
        "offsets": offsets,
        "against_key": against_key,
        "families": sorted({family_of(j) for j in judges}),
        "self_judging": self_judging,
        "independent_judges": independent,
    }
    section["text"] = _text(section)
    return section


def _agreement(grades: list[dict[str, dict[str, Any]]], judges: list[str], dim: str) -> dict[str, Any]:
    low, high = DIMENSIONS[dim]
    units = [[g[j][dim] if j in g else None for j in judges] for g in grades]
    pairable = [u for u in units if sum(v is not None for v in u) >= 2]
    alpha = krippendorff_alpha(pairable, level="interval")
    out: dict[str, Any] = {"answers": len(pairable), "alpha": _r(alpha)}
    if len(judges) == 2:
        both = [(int(u[0]), int(u[1])) for u in pairable if u[0] is not None and u[1] is not None]
        kappa = weighted_kappa([a for a, _ in both], [b for _, b in both], low=low, high=high) if both else None
        out["kappa"] = _r(kappa)
        out["reading"] = reading(kappa)
    else:
        out["reading"] = reading(alpha)
    return out


def _offset(
    grades: list[dict[str, dict[str, Any]]], families: list[str], judges: list[str], judge: str
) -> dict[str, Any]:
    """Mean of (this judge's score − the other judges' mean) over answers both graded; and
    of the total apart for answers of the judge's own model family and of the others, so a
    judge that favours its own family shows even where its overall offset averages out."""

    def gap(g: dict[str, dict[str, Any]], dim: str) -> float:
        return float(g[judge][dim] - mean(g[j][dim] for j in judges if j != judge and j in g))

    shared = [
        (g, family)
        for g, family in zip(grades, families, strict=True)
        if judge in g and any(j in g for j in judges if j != judge)
    ]
    out: dict[str, Any] = {}
    for dim in DIMENSIONS:
        gaps = [gap(g, dim) for g, _ in shared]
        out[dim] = _r(mean(gaps), 2) if gaps else None
    own_family = family_of(judge)
    own = [gap(g, "total") for g, family in shared if family == own_family]
    others = [gap(g, "total") for g, family in shared if family != own_family]
    out["own_family_total"] = _r(mean(own), 2) if own else None
    out["other_families_total"] = _r(mean(others), 2) if others else None
    out["answers"] = len(shared)
    return out


def _against_key(grades: list[dict[str, dict[str, Any]]], objective: list[float | None], judge: str) -> dict[str, Any]:
    pairs = [(g[judge]["total"], o) for g, o in zip(grades, objective, strict=True) if judge in g and o is not None]
    rho = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    return {"rho": _r(rho), "answers": len(pairs)}


def _text(section: dict[str, Any]) -> list[str]:
    """The section in sentences, for the text and Markdown reports."""
    symbol = "κ" if section["statistic"] == "weighted_kappa" else "α"
    dims = section["dimensions"]
    parts = []
    for dim, entry in dims.items():
        value = entry.get("kappa", entry["alpha"])
        parts.append(f"{dim} {symbol} = {value:.2f} ({entry['reading']})" if value is not None else f"{dim} n/a")
    lines = [f"judges' agreement over {dims['total']['answers']} answer(s): " + "; ".join(parts)]
    for judge, offset in section["offsets"].items():
        if offset["total"] is not None and abs(offset["total"]) >= NOTABLE_OFFSET:
            lines.append(
                f"offset: {judge} grades {abs(offset['total']):g} point(s) "
                f"{'above' if offset['total'] > 0 else 'below'} the other judges on the same answers"
            )
    for judge, offset in section["offsets"].items():
        own, others = offset["own_family_total"], offset["other_families_total"]
        if own is not None and own - (others or 0.0) >= NOTABLE_OFFSET:
            lines.append(
                f"own family: {judge} grades answers of its own family {own:+g} against the other judges"
                + (f", other answers {others:+g}" if others is not None else "")
                + " (--no-self-judging drops it from those grades)"
            )
    for judge, key in section["against_key"].items():
        if key["rho"] is not None:
            lines.append(
                f"against the key: {judge} ranks answers with ρ = {key['rho']:.2f} to the objective measure "
                f"({key['answers']} answers)"
            )
    counts = sorted(set(section["independent_judges"].values()))
    independent = (
        f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}" if counts else "0"
    ) + f" ({len(section['families'])} model families among the judges)"
    dropped = "" if section["self_judging"] else "; --no-self-judging: no judge graded its own family"
    lines.append(f"effective independent judges per model: {independent}{dropped}")
    return lines
