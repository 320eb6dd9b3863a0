"""`driftcheck bench latency` as text: the spread table, the histogram and the cost."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from app.bench.latency import histogram
from providers.pricing import format_cost


def print_bench(console: Console, data: dict[str, Any], totals: list[float]) -> None:
    """The spread of time to first token and total time, a histogram of total time, whether
    slowness follows length, and what it cost (with hedging: how often, and the extra)."""
    table = Table(
        title=f"{data['spec']}: {data['ok']} of {data['requests']} requests answered"
        + (f" (hedge after {data['hedge_after']})" if data["hedge_after"] != "off" else ""),
        title_justify="left",
    )
    for column in ("", "median", "p95", "max", "p95 / median"):
        table.add_column(column, justify="right" if column else "left")
    for label, key in (("time to first token", "ttft"), ("total time", "total")):
        s = data[key]
        table.add_row(
            label,
            *(f"{s[k]:.2f} s" if s[k] is not None else "n/a" for k in ("median", "p95", "max")),
            f"{s['p95_over_median']:.2f}×" if s["p95_over_median"] else "n/a",
        )
    console.print(table)
    console.print("[bold]Total time[/]")
    for line in histogram(totals):
        console.print(line)
    length = data["length"]
    if length:
        r = length["r_total_vs_output"]
        console.print(
            f"Slowest tenth wrote {length['slowest_tenth_output_tokens']} output tokens on average, the "
            f"others {length['others_output_tokens']}"
            + (
                ": every answer had the same length, so length cannot explain the slow ones"
                if r is None
                else f" (r = {r}): "
                + ("slowness follows length" if r >= 0.5 else "slowness is not explained by length")
            )
        )
    hedged = data["hedged"]
    console.print(
        f"Cost {format_cost(data['cost_usd'])}"
        + (
            f" · hedged {hedged['requests']} ({hedged['share']:.0%}), extra {format_cost(hedged['extra_cost_usd'])}"
            if data["hedge_after"] != "off"
            else ""
        )
    )
    if hedged["withheld_by_budget"]:
        console.print(
            f"[yellow]{hedged['withheld_by_budget']} slow request(s) were not hedged: the hedge budget "
            f"was spent (raise [resilience] hedge_budget to hedge more often)[/]"
        )
    if data["failed"]:
        console.print(f"[red]{data['failed']} request(s) failed: {', '.join(data['errors'])}[/]")
