"""`driftcheck providers` as tables: each provider and whether it is usable now, models and
prices, the default and why, the routes, and each provider's recent health."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from app.run.provider_status import ProviderStatus


def print_providers(
    console: Console,
    rows: list[ProviderStatus],
    default: str | None,
    why: str,
    routes: dict[str, dict[str, Any]],
    health: list[dict[str, Any]],
) -> None:
    status = Table(title="Providers", title_justify="left")
    for column in ("provider", "key", "endpoint", "usable now"):
        status.add_column(column, overflow="fold")
    models = Table(title="Models and prices (USD per million tokens)", title_justify="left")
    for column, justify in (("SPEC", "left"), ("input", "right"), ("output", "right")):
        models.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        key = (
            "none needed"
            if row.key_env is None
            else f"{row.key_env} {'[green]set[/]' if row.key_present else '[red]not set[/]'}"
        )
        if row.kind == "local":
            usable = f"[green]yes[/]: {row.reach_detail}" if row.reachable else f"[red]no[/]: {row.reach_detail}"
        elif row.key_env and not row.key_present:
            usable = "[red]no[/]: key missing"
        elif row.usable is None:
            usable = "[dim]not checked[/]"
        else:
            usable = "[green]yes[/]" if row.usable else f"[red]no[/]: {row.reach_detail}"
        status.add_row(
            f"{row.name} [dim]({row.kind})[/]" if row.kind != row.name else row.name, key, row.base_url, usable
        )
        for m in row.models:
            models.add_row(
                f"{row.name}:{m.model}",
                f"${m.price.input_per_mtok:g}" if m.price else "unknown",
                f"${m.price.output_per_mtok:g}" if m.price else "unknown",
            )
        if not row.models:
            models.add_row(f"{row.name}:MODEL", "unknown", "unknown")
    console.print(status)
    console.print(models)
    console.print(f"Without -p, driftcheck uses: [bold]{default or 'nothing'}[/] ({why})")
    if routes:
        table = Table(title="Routes (-p, --fallback and --hedge-after override them)", title_justify="left")
        for column in ("task", "SPEC", "fallback", "hedge after"):
            table.add_column(column)
        for task, r in routes.items():
            table.add_row(task, r["spec"], ", ".join(r["fallback"]) or "none", r["hedge_after"])
        console.print(table)
    if health:
        table = Table(title="Health (recent calls in history)", title_justify="left")
        for column, justify in (
            ("SPEC", "left"),
            ("calls", "right"),
            ("errors", "right"),
            ("first token p50", "right"),
            ("p95", "right"),
            ("state", "left"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for h in health:
            table.add_row(
                h["spec"],
                str(h["calls"]),
                "" if h["error_rate"] is None else f"{h['error_rate']:.0%}",
                "" if h["ttft_p50_ms"] is None else f"{h['ttft_p50_ms']:,} ms",
                "" if h["ttft_p95_ms"] is None else f"{h['ttft_p95_ms']:,} ms",
                h["state"],
            )
        console.print(table)
