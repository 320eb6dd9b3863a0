"""`driftcheck providers` as tables: each provider and whether it is usable now, models and
prices, the default and why, the routes, and each provider's recent health."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from app.render.listing import Column, print_listing
from app.run.provider_status import ProviderStatus


def _usable_style(text: str) -> str:
    return "green" if text.startswith("yes") else "red" if text.startswith("no") else "dim"


def _key_style(text: str) -> str:
    return "red" if text.endswith("not set") else "green" if text.endswith(" set") else ""


STATUS_COLUMNS = (
    Column("provider"),
    Column("key", style=_key_style),
    Column("endpoint"),
    Column("usable now", free=True, min_width=12, style=_usable_style),
)
MODEL_COLUMNS = (Column("SPEC"), Column("input", justify="right"), Column("output", justify="right"))
ROUTE_COLUMNS = (Column("task"), Column("SPEC"), Column("fallback", free=True, min_width=12), Column("hedge after"))
HEALTH_COLUMNS = (
    Column("SPEC"),
    Column("calls", justify="right"),
    Column("errors", justify="right"),
    Column("first token p50", justify="right"),
    Column("p95", justify="right"),
    Column("state"),
)


def _usable(row: ProviderStatus) -> str:
    if row.kind == "local":
        return f"yes: {row.reach_detail}" if row.reachable else f"no: {row.reach_detail}"
    if row.key_env and not row.key_present:
        return "no: key missing"
    if row.usable is None:
        return "not checked"
    return "yes" if row.usable else f"no: {row.reach_detail}"


def print_providers(
    console: Console,
    rows: list[ProviderStatus],
    default: str | None,
    why: str,
    routes: dict[str, dict[str, Any]],
    health: list[dict[str, Any]],
) -> None:
    """Tables through app.render.listing: in a pipe, one provider or model per line, with
    no name, URL or SPEC cut or wrapped."""
    status, models = [], []
    for row in rows:
        key = "none needed" if row.key_env is None else f"{row.key_env} {'set' if row.key_present else 'not set'}"
        name = f"{row.name} ({row.kind})" if row.kind != row.name else row.name
        status.append([name, key, row.base_url or "", _usable(row)])
        for m in row.models:
            models.append(
                [
                    f"{row.name}:{m.model}",
                    f"${m.price.input_per_mtok:g}" if m.price else "unknown",
                    f"${m.price.output_per_mtok:g}" if m.price else "unknown",
                ]
            )
        if not row.models:
            models.append([f"{row.name}:MODEL", "unknown", "unknown"])
    print_listing(console, STATUS_COLUMNS, status, title="Providers")
    print_listing(console, MODEL_COLUMNS, models, title="Models and prices (USD per million tokens)")
    console.print(f"Without -p, driftcheck uses: [bold]{default or 'nothing'}[/] ({why})")
    if routes:
        print_listing(
            console,
            ROUTE_COLUMNS,
            [[task, r["spec"], ", ".join(r["fallback"]) or "none", r["hedge_after"]] for task, r in routes.items()],
            title="Routes (-p, --fallback and --hedge-after override them)",
        )
    if health:
        print_listing(
            console,
            HEALTH_COLUMNS,
            [
                [
                    h["spec"],
                    str(h["calls"]),
                    "" if h["error_rate"] is None else f"{h['error_rate']:.0%}",
                    "" if h["ttft_p50_ms"] is None else f"{h['ttft_p50_ms']:,} ms",
                    "" if h["ttft_p95_ms"] is None else f"{h['ttft_p95_ms']:,} ms",
                    h["state"],
                ]
                for h in health
            ],
            title="Health (recent calls in history)",
        )
