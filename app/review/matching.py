"""Deciding whether two citations describe the same problem, and pairing two lists of them.

One rule serves both the answer key (expected issue vs. a model's finding) and the drift
report (provider A's finding vs. provider B's), so recall against a key and agreement
between providers are measured the same way.

Two citations can only be the same problem if they are close — overlapping lines, a
gap of at most three lines, or the same enclosing symbol — and if they are about the
same thing — the same category with some words in common, or a clear share of words in
common when the models filed it under different categories ("error-handling" and
"correctness" are often the same complaint). Among the candidates, pairs are taken
best first, each side used once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Below these shares of words in common, two citations are different problems.
MIN_WORDS_SAME_CATEGORY = 0.2
MIN_WORDS_OTHER_CATEGORY = 0.34
MAX_LINE_GAP = 3
_STEM = 6  # words are compared by their first six letters: "parameterised" ~ "parameterized"

_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "does",
        "doesn",
        "for",
        "from",
        "has",
        "have",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "might",
        "must",
        "no",
        "not",
        "of",
        "on",
        "or",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "use",
        "used",
        "uses",
        "using",
        "via",
        "was",
        "were",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "without",
        "would",
        "you",
        "your",
        "code",
        "line",
        "lines",
        "function",
        "method",
        "value",
        "values",
        "call",
        "called",
        "instead",
        "also",
        "make",
        "makes",
    ]
)


@dataclass(frozen=True, slots=True)
class Citation:
    """What matching looks at: where, what kind, in which symbol, and in what words."""

    start: int
    end: int
    category: str | None
    symbol: str | None
    words: frozenset[str]


def words_of(*texts: str) -> frozenset[str]:
    found = set()
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if word not in _STOP:
                found.add(_singular(word)[:_STEM])
    return frozenset(found)


def _singular(word: str) -> str:
    """Enough of a plural rule that "queries" meets "query" and "leaks" meets "leak"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def line_gap(a: Citation, b: Citation) -> int:
    """0 when the ranges overlap, else the number of lines between them."""
    return max(0, max(a.start, b.start) - min(a.end, b.end))


def word_share(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the larger: a short keyword list inside a long
    explanation scores as high as two explanations that say the same thing."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def similarity(a: Citation, b: Citation) -> float | None:
    """How alike two citations are, 0..1; None when they cannot be the same problem."""
    gap = line_gap(a, b)
    same_symbol = a.symbol is not None and a.symbol == b.symbol
    if gap > MAX_LINE_GAP and not same_symbol:
        return None
    same_category = a.category is not None and a.category == b.category
    words = word_share(a.words, b.words)
    if words < (MIN_WORDS_SAME_CATEGORY if same_category else MIN_WORDS_OTHER_CATEGORY):
        return None
    nearness = max(0.0, 1.0 - gap / (MAX_LINE_GAP + 1))
    return 0.4 * nearness + 0.15 * same_symbol + 0.15 * same_category + 0.3 * min(1.0, words)


@dataclass
class Alignment:
    pairs: list[tuple[int, int, float]]  # (index in a, index in b, similarity)
    only_a: list[int]
    only_b: list[int]

    @property
    def matched(self) -> int:
        return len(self.pairs)


def pair_best_first(
    count_a: int,
    count_b: int,
    score: Callable[[int, int], float | None],
    tiebreak: Callable[[int, int], float] = lambda i, j: 0,
    pairs_to_try: Iterable[tuple[int, int]] | None = None,
) -> Alignment:
    """Pair items of two lists one to one, most similar pairs first; `score(i, j)` is None
    when item i of a and item j of b cannot be the same thing. `pairs_to_try` narrows the
    pairs scored (all of them by default)."""
    candidates: list[tuple[float, int, int]] = []
    tried = pairs_to_try if pairs_to_try is not None else ((i, j) for i in range(count_a) for j in range(count_b))
    for i, j in tried:
        value = score(i, j)
        if value is not None:
            candidates.append((value, i, j))
    # Ties go to the tiebreak (e.g. the closer line) and then to list order, so results are stable.
    candidates.sort(key=lambda c: (-c[0], tiebreak(c[1], c[2]), c[1], c[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for value, i, j in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((i, j, round(value, 3)))
    pairs.sort()
    return Alignment(
        pairs=pairs,
        only_a=[i for i in range(count_a) if i not in used_a],
        only_b=[j for j in range(count_b) if j not in used_b],
    )


def _close_pairs(a: list[Citation], b: list[Citation]) -> Iterator[tuple[int, int]]:
    """The pairs that pass similarity's first test — near each other or in the same symbol —
    found without scoring every pair: long reviews have hundreds of findings a side."""
    by_symbol: dict[str, list[int]] = {}
    for j, y in enumerate(b):
        if y.symbol is not None:
            by_symbol.setdefault(y.symbol, []).append(j)
    order = sorted(range(len(b)), key=lambda j: b[j].start)
    starts = [b[j].start for j in order]
    for i, x in enumerate(a):
        near = {
            order[k]
            for k in range(bisect_right(starts, x.end + MAX_LINE_GAP))
            if b[order[k]].end >= x.start - MAX_LINE_GAP
        }
        near.update(by_symbol.get(x.symbol, ()) if x.symbol is not None else ())
        for j in sorted(near):
            yield i, j


def align(a: list[Citation], b: list[Citation]) -> Alignment:
    """Pair each citation in `a` with at most one in `b`, most similar pairs first."""
    return pair_best_first(
        len(a), len(b), lambda i, j: similarity(a[i], b[j]), lambda i, j: line_gap(a[i], b[j]), _close_pairs(a, b)
    )


def text_similarity(a: str, b: str) -> float | None:
    """How alike two sentences without lines are (triage actions, root causes), 0..1; None
    below the clear share of words in common that two citations in different categories need."""
    share = word_share(words_of(a), words_of(b))
    return share if share >= MIN_WORDS_OTHER_CATEGORY else None


def finding_citation(finding: Any) -> Citation:
    """A review finding as a citation (duck-typed to avoid importing the review model)."""
    return Citation(
        finding.line_start,
        finding.line_end,
        finding.category,
        finding.symbol,
        words_of(finding.title, finding.explanation, finding.suggestion),
    )
