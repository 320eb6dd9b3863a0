"""The compare report: both sides' public JSON, the drift between them and, with several
runs, the noise within each side; and its one-line summary for history."""

from __future__ import annotations

from typing import Any

from app.calls.metrics import spend_summary
from app.compare.attribution import attribute
from app.compare.contract import CompareOutput
from app.compare.drift import drift_of
from app.compare.noise import noise_of


def compare_report(
    task: str,
    runs: dict[str, list[dict[str, Any]]],
    *,
    baseline: str | None = None,
    pairwise: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The public compare object: `a` and `b` (each side's first run, in the task's own
    JSON), `drift` between them, and with several runs `runs` and the `noise` analysis."""
    a, b = runs["a"][0], runs["b"][0]
    several = max(len(r) for r in runs.values()) > 1
    # The sides are the tasks' public JSON (live or stored): validated into their models here.
    report = CompareOutput.model_validate(
        {
            "task": "compare",
            "compared": task,
            "baseline": baseline,
            # Every run of both sides: a later run that failed fails the compare, as its exit code says.
            "status": "ok" if all(r["status"] == "ok" for side in ("a", "b") for r in runs[side]) else "failed",
            "input": b.get("input"),
            "a": a,
            "b": b,
            "drift": drift_of(task, a, b),
            # The judges asked which answer is better, in both orders.
            **({"pairwise": pairwise} if pairwise is not None else {}),
            # A stored run against one made now: what changed between them.
            **({"attribution": attribute(a.get("provenance"), b.get("provenance"))} if baseline is not None else {}),
            **({"runs": runs} if several else {}),
            "noise": noise_of(task, runs["a"], runs["b"]),
            # Every run of each side, judges included: what the compare cost and what caching saved.
            "spend": {side: spend_summary([m for run in runs[side] for m in _run_metrics(run)]) for side in ("a", "b")},
        }
    )
    return report.public()


def _run_metrics(run: dict[str, Any]) -> list[dict[str, Any] | None]:
    return [run.get("metrics"), *(j.get("metrics") for j in run.get("judges") or [])]


def report_summary(report: dict[str, Any]) -> str:
    """The line history keeps for a compare run."""
    drift = report["drift"]
    if report["compared"] == "review":
        return (
            f"{len(drift['matched'])} matched, {len(drift['only_a'])} only A, {len(drift['only_b'])} only B; "
            f"score {drift['score']['a']} → {drift['score']['b']}"
        )
    return f"severity {drift['severity']['a']} → {drift['severity']['b']}; {len(drift['actions']['matched'])} actions in common"
