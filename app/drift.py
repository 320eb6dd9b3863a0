"""The drift between two reviews of the same file: what a provider switch would change.

Findings are paired one to one with the rule the answer key uses (`app.matching`), so
"matched" means the same thing in both places. From the pairing come the agreement rate,
the severity disagreements on matched pairs, the findings only one side has, the score
and count deltas, and — from the calls' metrics — latency, tokens and cost side by side.
Works on public JSON findings (dicts) so a stored run and a live one compare alike.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.matching import align, finding_citation

SEVERITIES = ("critical", "high", "medium", "low", "info")
_METRICS = ("ttft_ms", "latency_ms", "input_tokens", "output_tokens", "cost_usd")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return round(b / a, 3)


def review_drift(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Drift between two public review results (`review_json` objects or stored ones)."""
    fa = [SimpleNamespace(**f) for f in ((a.get("result") or {}).get("findings") or [])]
    fb = [SimpleNamespace(**f) for f in ((b.get("result") or {}).get("findings") or [])]
    alignment = align([finding_citation(f) for f in fa], [finding_citation(f) for f in fb])
    matched = [{"a": fa[i].id, "b": fb[j].id, "lines": [fa[i].line_start, fb[j].line_start],
                "severity": [fa[i].severity, fb[j].severity], "similarity": score}
               for i, j, score in alignment.pairs]
    union = len(fa) + len(fb) - len(matched)
    counts_a = {s: sum(f.severity == s for f in fa) for s in SEVERITIES}
    counts_b = {s: sum(f.severity == s for f in fb) for s in SEVERITIES}
    score_a, score_b = (a.get("result") or {}).get("score"), (b.get("result") or {}).get("score")
    metrics_a, metrics_b = a.get("metrics") or {}, b.get("metrics") or {}
    keys = a.get("answer_key"), b.get("answer_key")
    return {
        "matched": matched,
        "only_a": [{"id": fa[i].id, "line": fa[i].line_start, "severity": fa[i].severity, "title": fa[i].title}
                   for i in alignment.only_a],
        "only_b": [{"id": fb[j].id, "line": fb[j].line_start, "severity": fb[j].severity, "title": fb[j].title}
                   for j in alignment.only_b],
        # Share of all distinct problems (either side) that both sides reported.
        "agreement": round(len(matched) / union, 3) if union else 1.0,
        "severity_disagreements": [m for m in matched if m["severity"][0] != m["severity"][1]],
        "score": {"a": score_a, "b": score_b,
                  "delta": None if score_a is None or score_b is None else score_b - score_a},
        "counts": {s: {"a": counts_a[s], "b": counts_b[s], "delta": counts_b[s] - counts_a[s]} for s in SEVERITIES},
        "answer_key": None if not any(keys) else {
            side: None if k is None else {"recall": k["recall"], "precision": k["precision"]}
            for side, k in zip(("a", "b"), keys, strict=True)},
        "metrics": {m: {"a": metrics_a.get(m), "b": metrics_b.get(m),
                        "ratio_b_to_a": _ratio(metrics_a.get(m), metrics_b.get(m))} for m in _METRICS},
    }
