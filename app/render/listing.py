"""Listings (tables of records) that never wrap an identifier, on a terminal or in a pipe.

A listing's columns say what they hold: an identifier or a number is never cut or
wrapped; free text (an input's name, a provider list) is shortened with "…" to fit the
width; an optional column is left out when even shortened text does not fit. On a
terminal the listing is a rich table; in a pipe (`| cat`, `| grep`, a CI log) it is one
record per line, plain columns with no box, at the console's width (which honours
`COLUMNS`), so a run id or a task name is always whole on its line.

The same fitting serves the TUI's history table (`fit_columns`), so the screen and the
command choose columns by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.text import Text

ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    name: str
    justify: Literal["left", "right"] = "left"
    # Free text may be shortened down to `min_width`; anything else keeps its full width.
    free: bool = False
    min_width: int = 8
    # Left out when the listing does not fit otherwise: the highest number goes first.
    drop: int = 0
    # A rich style for a cell, from its text (a status colour), on a terminal only.
    style: Callable[[str], str] | None = None


def shorten(text: str, width: int, *, keep_end: bool = False) -> str:
    """`text` cut to `width` characters, the cut marked with "…": its start kept, or with
    `keep_end` its end (a path is read by its file name)."""
    if len(text) <= width:
        return text
    if width <= 0:
        return ""
    return ELLIPSIS + text[len(text) - width + 1 :] if keep_end else text[: width - 1] + ELLIPSIS


def natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(c.name), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]


def fit_widths(columns: Sequence[Column], naturals: Sequence[int], budget: int) -> list[int]:
    """Each column's width within `budget` characters of cells: identifiers at their
    natural width; free text shortened, the widest first, no lower than its minimum.
    The result may exceed the budget when the identifiers alone do."""
    widths = list(naturals)
    excess = sum(widths) - budget
    while excess > 0:
        shrinkable = [i for i, c in enumerate(columns) if c.free and widths[i] > min(c.min_width, naturals[i])]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        floor = min(columns[widest].min_width, naturals[widest])
        others = sorted((widths[i] for i in shrinkable if i != widest), reverse=True)
        target = max(floor, others[0] if others else floor, widths[widest] - excess)
        if target >= widths[widest]:  # ties: shave one character at a time
            target = widths[widest] - 1
        excess -= widths[widest] - target
        widths[widest] = target
    return widths


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, *, gap: int, keep_text: bool = True
) -> tuple[list[int], list[int]]:
    """Which columns to show (their indexes) and at what widths, so that the cells plus
    `gap` characters per column fit `width`; optional columns are left out, the highest
    `drop` first, until they do. When nothing optional is left and the identifiers alone
    are too wide, every column keeps its full width (the line is long, nothing is lost),
    unless `keep_text` is False (a terminal table, which folds its identifiers instead)."""
    shown = list(range(len(columns)))
    naturals = natural_widths(columns, rows)
    while True:
        kept = [columns[i] for i in shown]
        budget = width - gap * len(shown)
        widths = fit_widths(kept, [naturals[i] for i in shown], budget)
        droppable = [i for i in shown if columns[i].drop > 0]
        if sum(widths) <= budget:
            return shown, widths
        if not droppable:
            if not keep_text:
                return shown, widths
            # The identifiers alone are wider than the line: cutting the free text would
            # lose it and still not fit, so every cell keeps its full text.
            return shown, [naturals[i] for i in shown]
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))


def print_listing(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
) -> None:
    """`rows` (plain text cells, untrusted: never read as markup) under `columns`."""
    if console.is_terminal:
        _print_table(console, columns, rows, title)
    else:
        _print_plain(console, columns, rows, title)


def _print_table(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None) -> None:
    from rich.table import Table

    # A rich table's cell takes its padding (2) and a rule (1), plus the table's left edge.
    shown, widths = fit_columns(columns, rows, console.width - 1, gap=3, keep_text=False)
    table = Table(title=escape(title) if title else None, title_justify="left")
    for i, width in zip(shown, widths, strict=True):
        column = columns[i]
        if column.free:
            table.add_column(column.name, justify=column.justify, width=width, no_wrap=True, overflow="ellipsis")
        else:  # on a terminal narrower than its identifiers, one is folded rather than cut
            table.add_column(column.name, justify=column.justify, min_width=min(width, 12), overflow="fold")
    for row in rows:
        cells = []
        for i, width in zip(shown, widths, strict=True):
            style = columns[i].style
            cells.append(Text(shorten(row[i], width), style=style(row[i]) if style else ""))
        table.add_row(*cells)
    console.print(table)


def _print_plain(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None) -> None:
    gap = 2
    shown, widths = fit_columns(columns, rows, console.width + gap, gap=gap)  # no gap after the last column

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, width in zip(shown, widths, strict=True):
            text = shorten(cells[i], width)
            parts.append(text.rjust(width) if columns[i].justify == "right" else text.ljust(width))
        return (" " * gap).join(parts).rstrip()

    if title:
        console.print(Text(title), soft_wrap=True)
    console.print(Text(line([c.name for c in columns])), soft_wrap=True)
    for row in rows:
        # soft_wrap: never folded at the width, even when identifiers alone exceed it
        console.print(Text(line(row)), soft_wrap=True)
