"""Each provider's recent record in history: what `driftcheck providers` shows, and what a
fresh process seeds its providers' health with (time to first token for p95 hedging, a
cooldown still running from failures in earlier commands). History is a record, never a
gate: when it cannot be read, there is simply nothing to show or seed."""

from __future__ import annotations

import time
from typing import Any

from app.config.settings import Resilience
from app.errors import StoreError
from app.history.store import Store
from providers.health import HealthRegistry


def cooldown_left(record: dict[str, Any], resilience: Resilience) -> float:
    """Seconds of cooldown still running after the failures history records (0: none)."""
    if record["failures_in_a_row"] < resilience.cooldown_failures:
        return 0.0
    return max(0.0, resilience.cooldown_s - (time.time() - (record["last_call_at"] or 0)))


def provider_health(resilience: Resilience) -> list[dict[str, Any]]:
    """Each provider's recent calls, errors and first-token times, and whether a cooldown
    would skip it now (`state`)."""
    try:
        store = Store.open(for_reading=True).store
    except StoreError:
        return []
    try:
        health = store.provider_health()
    finally:
        store.close()
    for h in health:
        left = cooldown_left(h, resilience)
        h["state"] = (
            f"cooling down ({left:.0f} s left)"
            if left
            else (f"{h['failures_in_a_row']} failure(s) in a row" if h["failures_in_a_row"] else "ok")
        )
    return health


def seed_health(registry: HealthRegistry, specs: list[str], resilience: Resilience) -> None:
    """Teach `registry` each provider's recent record from history, unless it has its own."""
    try:
        store = Store.open(for_reading=True).store
    except StoreError:
        return
    try:
        for spec in dict.fromkeys(specs):
            health = registry.get(spec)
            record = None if health.ttfts else store.provider_record(spec)
            if record is None:
                continue
            registry.seed(spec, record["ttfts_s"], record["outcomes"])
            health.consecutive_failures = record["failures_in_a_row"]
            left = cooldown_left(record, resilience)
            if left:
                health.cooldown_until = registry.clock() + left
    finally:
        store.close()


def prompt_rate(spec: str) -> float | None:
    """The median prompt-reading rate (tokens a second) history has measured for `spec`."""
    import statistics

    try:
        store = Store.open(for_reading=True).store
    except StoreError:
        return None
    try:
        rates = store.prompt_rates(spec)
    finally:
        store.close()
    return statistics.median(rates) if rates else None
