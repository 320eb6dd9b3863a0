"""Routes from evidence: the config routes an eval's recommendations imply.

Each task of the report (review, triage.active, triage.postmortem) maps to the route of
the same name. A route that already names the recommended model keeps its own fallback
and hedging; a changed route keeps them too (only its model changes). Nothing is
written here: the caller shows the proposal and writes it with `update_config` only
after the user agrees.
"""

from __future__ import annotations

from typing import Any


def propose_routes(report: dict[str, Any], config: Any) -> list[dict[str, Any]]:
    """One entry per task with a recommendation: route, current SPEC (or None), proposed
    SPEC, whether it changes, and the config change that would make it."""
    out = []
    for task in report["tasks"]:
        chosen = task["recommendation"]["model"]
        if chosen is None:
            continue
        current = config.routes.get(task["task"])
        if current is not None and (current.fallback is not None or current.hedge_after is not None):
            value: Any = {
                "spec": chosen,
                **({"fallback": current.fallback} if current.fallback is not None else {}),
                **({"hedge_after": current.hedge_after} if current.hedge_after is not None else {}),
            }
        else:
            value = chosen
        out.append(
            {
                "route": task["task"],
                "current": current.spec if current else None,
                "proposed": chosen,
                "changes": current is None or current.spec != chosen,
                "uncertain": task["recommendation"]["uncertain"],
                "change": {f"routes.{task['task']}": value},
            }
        )
    return out
