"""Could the gap between two models be noise? A permutation test, paired by item.

Items differ in difficulty far more than models differ from each other, so models are
compared item by item: under "no difference", the labels of the two models' runs on one
item could be swapped freely, and the test counts how often a relabelling gives a total
gap at least as large as the one observed. With one run per item this is the sign-flip
test (6 items all favouring one model: p = 2/64 ≈ 0.03; 3 items: never below 0.25); with
--repeat N the runs within each item are exchanged too. Small designs are enumerated
exactly; larger ones are sampled with a fixed seed, so a report is reproducible.
"""

from __future__ import annotations

import random
from itertools import combinations, product
from math import comb, prod
from statistics import mean

# Below this chance, a gap counts as real (the same bar as compare's noise analysis).
MAX_CHANCE = 0.10
EXACT_LIMIT = 50_000
SAMPLES = 20_000


def _stat(groups: list[tuple[list[float], list[float]]]) -> float:
    return sum(mean(a) - mean(b) for a, b in groups)


def arrangements(groups: list[tuple[list[float], list[float]]]) -> int:
    return prod(comb(len(a) + len(b), len(a)) for a, b in groups)


def min_p(groups: list[tuple[list[float], list[float]]]) -> float:
    """The smallest p-value this design can produce: above MAX_CHANCE, no gap could count."""
    return min(1.0, 2 / arrangements(groups)) if groups else 1.0


def paired_p(groups: list[tuple[list[float], list[float]]]) -> float:
    """Two-sided p-value that model A's and model B's scores differ, given per item the
    scores of A's runs and of B's runs. Items missing either side are left out by the caller."""
    groups = [(list(a), list(b)) for a, b in groups if a and b]
    if not groups:
        return 1.0
    observed = abs(_stat(groups))
    pools = [(a + b, len(a)) for a, b in groups]

    def gap(pool: list[float], chosen: tuple[int, ...]) -> float:
        # mean(chosen) - mean(the rest), from sums: statistics.mean's exact arithmetic
        # made a sampled test take seconds.
        picked = sum(pool[i] for i in chosen)
        return picked / len(chosen) - (sum(pool) - picked) / (len(pool) - len(chosen))

    eps = 1e-9
    if arrangements(groups) <= EXACT_LIMIT:
        # Every relabelling of every item, as the sum of one gap per item.
        gaps = [[gap(pool, chosen) for chosen in combinations(range(len(pool)), n)] for pool, n in pools]
        hits = count = 0
        for choice in product(*gaps):
            count += 1
            hits += abs(sum(choice)) >= observed - eps
        return hits / count
    rng = random.Random(0)
    hits = sum(
        abs(sum(gap(pool, tuple(rng.sample(range(len(pool)), n))) for pool, n in pools)) >= observed - eps
        for _ in range(SAMPLES)
    )
    return (hits + 1) / (SAMPLES + 1)
