"""The compare report: both sides' public JSON, the drift between them and, with several
runs, the noise within each side; and its one-line summary for history."""

from __future__ import annotations

from typing import Any

from app.calls.metrics import spend_summary
from app.compare.attribution import attribute
from app.compare.drift import task_drift
from app.compare.noise import repeat_report


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
    report: dict[str, Any] = {
        "task": "compare",
        "compared": task,
        "baseline": baseline,
        # Every run of both sides: a later run that failed fails the compare, as its exit code says.
        "status": "ok" if all(r["status"] == "ok" for side in ("a", "b") for r in runs[side]) else "failed",
        "input": b.get("input"),
        "a": a,
        "b": b,
        "drift": task_drift(task, a, b),
    }
    if pairwise is not None:  # the judges asked which answer is better, in both orders
        report["pairwise"] = pairwise
    if baseline is not None:  # a stored run against one made now: say what changed between them
        report["attribution"] = attribute(a.get("provenance"), b.get("provenance"))
    if max(len(r) for r in runs.values()) > 1:
        report["runs"] = runs
    report["noise"] = repeat_report(task, runs["a"], runs["b"])
    # Every run of each side, judges included: what the compare cost and what caching saved.
    report["spend"] = {side: spend_summary([m for run in runs[side] for m in _run_metrics(run)]) for side in ("a", "b")}
    return report


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
