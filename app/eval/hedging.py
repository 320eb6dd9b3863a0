"""The hedging account of an eval: per model, how often a hedge fired and won, what the
extra requests cost, and what hedging saved at the slow end of the time to first token.

What a won hedge saved cannot be read off the call: the primary request was cancelled
before its first token, so its time is only known to be longer than the moment the hedge
answered (right-censored). The time without hedging is therefore estimated with the
Kaplan-Meier product-limit estimator (Kaplan & Meier 1958, JASA 53:457), which uses each
censored call for as long as it was seen waiting. Its assumption — a censored call is as
slow afterwards as the calls still waiting then — is optimistic for hedging, which cuts
off exactly the slow calls, so the saving it reports errs on the small side. When the
slowest calls were all cut off, the quantile is beyond anything observed, and the report
says "at least".

The time as served counts the hedge's wait: a won hedge's `ttft_ms` is timed from when
the primary was sent (providers/resilience.py adds the threshold it waited). An answer made of
several calls (a large file reviewed in chunks) is timed by its first call, and is taken
as hedged by its first hedge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

QUANTILES = (0.95, 0.99)


def km_quantile(times: Sequence[tuple[float, bool]], q: float) -> tuple[float, bool] | None:
    """The q-quantile of a time from (time, observed) pairs, observed False for a
    right-censored time: the smallest observed time where the Kaplan-Meier estimate of
    the share done reaches q, and True; or, when it never does, the largest time seen and
    False ("at least"). None without any time. With nothing censored it is the inverse of
    the empirical distribution (the smallest time with at least a share q at or below it)."""
    if not times:
        return None
    # At a tie, the calls that finished go before those still waiting (the usual rule).
    ordered = sorted(times, key=lambda t: (t[0], not t[1]))
    at_risk = len(ordered)
    surviving = 1.0
    index = 0
    while index < len(ordered):
        time = ordered[index][0]
        here = [observed for t, observed in ordered[index:] if t == time]
        done = sum(here)
        if done:
            surviving *= 1 - done / at_risk
            if 1 - surviving >= q - 1e-12:
                return time, True
        at_risk -= len(here)
        index += len(here)
    return ordered[-1][0], False


def served_ttft(answer: dict[str, Any]) -> tuple[float, bool] | None:
    """An answer's time to first token as served, and whether the primary's own time is
    known (False: a won hedge cut it off, so it is only known to be longer)."""
    ttft = (answer.get("metrics") or {}).get("ttft_ms")
    if answer.get("status") != "ok" or ttft is None:
        return None
    hedge = answer.get("hedge") or {}
    return float(ttft), not hedge.get("won")


def hedge_account(answers: list[dict[str, Any]], hedge_after: str) -> dict[str, Any]:
    """One model's hedging over its answers (public JSON, each with `hedge` when a hedge
    fired or was withheld)."""
    answered = [a for a in answers if a.get("status") == "ok"]
    fired = sum((a.get("hedge") or {}).get("fired", 0) for a in answered)
    won = sum((a.get("hedge") or {}).get("won", 0) for a in answered)
    withheld = sum((a.get("hedge") or {}).get("withheld", 0) for a in answered)
    costs = [a["metrics"]["hedge_cost_usd"] for a in answered if (a.get("metrics") or {}).get("hedged")]
    extra = None if any(c is None for c in costs) else round(sum(costs), 8)
    times = [t for a in answered if (t := served_ttft(a)) is not None]
    served = [(t, True) for t, _ in times]
    quantiles = {}
    for q in QUANTILES:
        with_hedge, without = km_quantile(served, q), km_quantile(times, q)
        quantiles[f"p{round(q * 100)}"] = (
            None
            if with_hedge is None or without is None
            else {
                "served_ms": round(with_hedge[0], 1),
                "without_ms": round(without[0], 1),
                "at_least": not without[1],
                "saved_ms": round(without[0] - with_hedge[0], 1),
            }
        )
    return {
        "after": hedge_after,
        "calls": len(answered),
        "fired": fired,
        "won": won,
        "withheld": withheld,
        "extra_cost_usd": extra,
        **quantiles,
    }


def hedge_sentence(model: str, account: dict[str, Any]) -> str:
    """The account in words: "openai:gpt-5.4-mini: hedged 2 of 3 calls, the hedge won 1,
    extra $0.0004; first token p95 0.21 s (without hedging ≥ 0.21 s, saved ≥ 0.00 s), ..."."""
    from providers.pricing import format_cost

    extra = (
        "extra cost unknown" if account["extra_cost_usd"] is None else f"extra {format_cost(account['extra_cost_usd'])}"
    )
    said = f"{model}: hedged {account['fired']} of {account['calls']} calls, the hedge won {account['won']}, {extra}"
    if account["withheld"]:
        said += f", {account['withheld']} withheld by the budget"
    parts = []
    for name in (f"p{round(q * 100)}" for q in QUANTILES):
        figures = account.get(name)
        if figures is None:
            continue
        bound = "≥ " if figures["at_least"] else ""
        parts.append(
            f"{name} {figures['served_ms'] / 1000:.2f} s (without hedging {bound}{figures['without_ms'] / 1000:.2f} s, "
            f"saved {bound}{figures['saved_ms'] / 1000:.2f} s)"
        )
    return said + (f"; first token {', '.join(parts)}" if parts else "")
