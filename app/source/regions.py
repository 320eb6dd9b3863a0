"""What of a changed file is sent for review: each changed stretch widened to the symbol
that encloses it (tree-sitter knows which), or to a few lines either side when there is
no symbol or it is too long to send whole, and packed into requests within the budget.

A change to one method of a large class sends that method, not the class; a change at
module level sends its neighbourhood. Unchanged files are not touched at all.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from app.source.diff import changed_ranges
from app.source.model import Chunk, SourceFile, estimate_tokens, split_into_chunks

# Lines of context either side of a change outside any symbol (or in one too long to send).
CONTEXT_LINES = 8
# A symbol longer than this is not sent whole around a change inside it.
MAX_SYMBOL_LINES = 200
# Stretches closer than this are sent as one (a short gap costs less than the seam).
MERGE_GAP = 3


def change_regions(source: SourceFile, changed: set[int], *, known: set[int] | None = None) -> list[tuple[int, int]]:
    """The line ranges to send around `changed`, merged and in order. With `known` (the
    lines a diff shows, when the file itself is not at hand) the ranges stay within it."""
    n = source.line_count
    regions: list[tuple[int, int]] = []
    for start, end in changed_ranges({line for line in changed if 1 <= line <= n}):
        lo, hi = max(1, start - CONTEXT_LINES), min(n, end + CONTEXT_LINES)
        if known is None:
            for line in (start, end):
                symbol = source.symbol_at(line)
                if symbol is not None and symbol.end - symbol.start < MAX_SYMBOL_LINES:
                    lo, hi = min(lo, symbol.start), max(hi, min(n, symbol.end))
        regions.append((lo, hi))
    if known is not None:  # only what the hunks show: clip each region to the known lines
        lines = sorted(known)
        regions = [
            (a, b)
            for lo, hi in regions
            for a, b in changed_ranges(set(lines[bisect_left(lines, lo) : bisect_right(lines, hi)]))
        ]
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(regions):
        if merged and lo <= merged[-1][1] + MERGE_GAP:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def region_chunks(source: SourceFile, regions: list[tuple[int, int]], budget_tokens: int) -> list[Chunk]:
    """`regions` packed into as few requests as the budget allows, in order. A region too
    large for one request is cut where the whole file would be (between symbols)."""
    pieces: list[tuple[int, int]] = []
    whole: list[Chunk] | None = None
    for lo, hi in regions:
        if _cost(source, lo, hi) <= budget_tokens:
            pieces.append((lo, hi))
            continue
        whole = whole if whole is not None else split_into_chunks(source, budget_tokens)
        pieces += [(max(lo, c.start), min(hi, c.end)) for c in whole if c.start <= hi and c.end >= lo]
    chunks: list[list[tuple[int, int]]] = []
    used = 0
    for lo, hi in pieces:
        cost = _cost(source, lo, hi)
        if chunks and used + cost <= budget_tokens:
            chunks[-1].append((lo, hi))
            used += cost
        else:
            chunks.append([(lo, hi)])
            used = cost
    return [
        Chunk(i, parts[0][0], parts[-1][1], sum(_cost(source, a, b) for a, b in parts), tuple(parts))
        for i, parts in enumerate(chunks)
    ]


def _cost(source: SourceFile, lo: int, hi: int) -> int:
    return sum(estimate_tokens(source.line(i)) + 1 for i in range(lo, hi + 1))
