"""Agreement between judges, and between a judge and an objective measure.

Pure functions over scores, no I/O:

- `weighted_kappa`: Cohen's weighted kappa for two judges on an ordinal scale (Cohen 1968,
  "Weighted kappa", Psychological Bulletin 70(4)). Quadratic weights by default: a
  disagreement of two points costs four times one of one point.
- `krippendorff_alpha`: Krippendorff's alpha for any number of judges, missing grades
  allowed (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"), with the
  interval, ordinal or nominal difference.
- `spearman`: Spearman's rank correlation with average ranks for ties, for "does this
  judge rank answers the way recall or coverage does?".

Each returns None where the statistic is undefined (no variation to agree on, too few
pairs), never a made-up 0 or 1. Written here rather than taken from the `krippendorff`
package, which would bring numpy for a few dozen additions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Literal

Weights = Literal["quadratic", "linear"]
Level = Literal["interval", "ordinal", "nominal"]


def weighted_kappa(
    a: Sequence[int],
    b: Sequence[int],
    *,
    low: int | None = None,
    high: int | None = None,
    weights: Weights = "quadratic",
) -> float | None:
    """Cohen's weighted kappa of paired ratings `a` and `b` on the scale low..high (by
    default the smallest and largest rating seen). 1 is perfect agreement, 0 what chance
    gives, below 0 worse than chance; None when chance alone explains everything (for
    example both judges gave one score throughout)."""
    if len(a) != len(b):
        raise ValueError("weighted_kappa takes two equally long lists of paired ratings")
    if not a:
        return None
    lo = min(min(a), min(b)) if low is None else low
    hi = max(max(a), max(b)) if high is None else high
    if hi == lo:
        return None
    span = hi - lo

    def weight(i: int, j: int) -> float:
        d = abs(i - j) / span
        return d * d if weights == "quadratic" else d

    n = len(a)
    observed = sum(weight(i, j) for i, j in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[i] * count_b[j] * weight(i, j) for i in count_a for j in count_b) / (n * n)
    return None if expected == 0 else 1 - observed / expected


def krippendorff_alpha(units: Sequence[Sequence[float | None]], *, level: Level = "interval") -> float | None:
    """Krippendorff's alpha over `units` (one list of the judges' values per rated unit,
    None where a judge gave none). Units with fewer than two values are not pairable and
    are left out. None when fewer than two values are pairable or all of them are equal."""
    values = [[v for v in unit if v is not None] for unit in units]
    values = [unit for unit in values if len(unit) >= 2]
    # The coincidence matrix: every ordered pair of values within a unit, weighted 1/(m-1).
    coincidences: defaultdict[tuple[float, float], float] = defaultdict(float)
    for unit in values:
        m = len(unit)
        for i, j in combinations(range(m), 2):
            coincidences[(unit[i], unit[j])] += 1 / (m - 1)
            coincidences[(unit[j], unit[i])] += 1 / (m - 1)
    totals: defaultdict[float, float] = defaultdict(float)
    for (c, _), count in coincidences.items():
        totals[c] += count
    n = sum(totals.values())
    if n < 2 or len(totals) < 2:
        return None
    delta = _difference(level, totals)
    observed = sum(count * delta(c, k) for (c, k), count in coincidences.items())
    expected = sum(totals[c] * totals[k] * delta(c, k) for c in totals for k in totals) / (n - 1)
    return None if expected == 0 else 1 - observed / expected


def _difference(level: Level, totals: dict[float, float]) -> Callable[[float, float], float]:
    """Krippendorff's squared difference δ² between two values at this level of measurement."""
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: (c - k) ** 2
    ranks = sorted(totals)
    position = {v: i for i, v in enumerate(ranks)}

    def ordinal(c: float, k: float) -> float:
        lo, hi = sorted((position[c], position[k]))
        between = sum(totals[ranks[g]] for g in range(lo, hi + 1))
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho of paired values (Pearson's r of their average ranks); None with
    fewer than three pairs or no variation on a side."""
    if len(x) != len(y):
        raise ValueError("spearman takes two equally long lists of paired values")
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return None if sxx == 0 or syy == 0 else sxy / (sxx * syy) ** 0.5


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1  # ties share the mean of their ranks
        start = end + 1
    return ranks
