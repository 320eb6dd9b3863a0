"""The drift report between two reviews, on hand-labelled pairs of replies: the same
issue worded differently, cited two lines apart, filed under another category with a
different severity, and the same lines holding a different issue. Then triage actions
paired by meaning, and repeat runs: when a difference is larger than the noise."""

from __future__ import annotations

from app.compare.drift import review_drift, triage_drift
from app.compare.noise import come_and_go, repeat_report, separation_chance


def finding(fid, line, severity, category, title, explanation, symbol="find_item", end=None):
    return {
        "id": fid,
        "line_start": line,
        "line_end": end or line,
        "severity": severity,
        "category": category,
        "title": title,
        "explanation": explanation,
        "suggestion": "",
        "evidence": "",
        "symbol": symbol,
        "lines_valid": True,
        "cited_lines": None,
    }


def review(findings, score, metrics):
    return {"result": {"score": score, "findings": findings}, "metrics": metrics, "answer_key": None}


A = review(
    [
        finding(
            "F1", 35, "critical", "security", "SQL injection in find_item", "The name is formatted into the query."
        ),
        finding(
            "F2",
            33,
            "medium",
            "resource-management",
            "Connection never closed",
            "find_item leaks a connection.",
            end=39,
        ),
        finding(
            "F3",
            49,
            "high",
            "error-handling",
            "Bare except swallows failures",
            "Failed updates vanish.",
            symbol="adjust_stock",
        ),
        finding(
            "F4",
            73,
            "high",
            "security",
            "MD5 used for passwords",
            "MD5 is fast to brute force.",
            symbol="hash_operator_password",
        ),
    ],
    2,
    {"ttft_ms": 400.0, "latency_ms": 4000.0, "input_tokens": 1500, "output_tokens": 800, "cost_usd": 0.0055},
)

B = review(
    [
        # same issue, cited two lines off, different words
        finding("F1", 37, "high", "security", "Query built by string formatting", "User input reaches SQL: injection."),
        # same issue, other category, lower severity
        finding(
            "F2",
            49,
            "medium",
            "correctness",
            "Bare except hides failed stock updates",
            "Errors are swallowed.",
            symbol="adjust_stock",
        ),
        # same lines as A's F1, a different issue
        finding("F3", 35, "low", "performance", "Full table scan on name", "No index on items.name; slow search."),
        finding(
            "F4",
            80,
            "medium",
            "correctness",
            "Division by zero on empty list",
            "len(items) can be 0.",
            symbol="mean_unit_price",
        ),
    ],
    4,
    {"ttft_ms": 200.0, "latency_ms": 6000.0, "input_tokens": 1500, "output_tokens": 1200, "cost_usd": 0.0021},
)


def test_pairs_follow_the_hand_labels():
    drift = review_drift(A, B)
    assert [(m["a"], m["b"]) for m in drift["matched"]] == [("F1", "F1"), ("F3", "F2")]
    assert [f["id"] for f in drift["only_a"]] == ["F2", "F4"]
    assert [f["id"] for f in drift["only_b"]] == ["F3", "F4"]  # the scan on line 35 is not the injection
    assert drift["agreement"] == round(2 / 6, 3)


def test_severity_disagreements_and_deltas():
    drift = review_drift(A, B)
    assert [(d["a"], d["severity"]) for d in drift["severity_disagreements"]] == [
        ("F1", ["critical", "high"]),
        ("F3", ["high", "medium"]),
    ]
    assert drift["score"] == {"a": 2, "b": 4, "delta": 2}
    assert drift["counts"]["critical"] == {"a": 1, "b": 0, "delta": -1}
    assert drift["counts"]["medium"] == {"a": 1, "b": 2, "delta": 1}


def test_metrics_side_by_side_with_ratios():
    metrics = review_drift(A, B)["metrics"]
    assert metrics["ttft_ms"]["ratio_b_to_a"] == 0.5 and metrics["latency_ms"]["ratio_b_to_a"] == 1.5
    assert metrics["cost_usd"] == {"a": 0.0055, "b": 0.0021, "ratio_b_to_a": round(0.0021 / 0.0055, 3)}


def test_identical_reviews_agree_fully_and_empty_ones_too():
    assert review_drift(A, A)["agreement"] == 1.0 and review_drift(A, A)["severity_disagreements"] == []
    empty = review([], 10, {})
    assert review_drift(empty, empty)["agreement"] == 1.0


# --- triage: hand-labelled actions --------------------------------------------------------------


def triage(actions, severity="P2", cause="", escalation="escalate now", judges=(), status="ok"):
    return {
        "status": status,
        "metrics": {},
        "result": {
            "actions": [
                {"priority": n, "action": a, "owner": o, "timeline": t} for n, (a, o, t) in enumerate(actions, start=1)
            ],
            "severity": severity,
            "root_cause": {"summary": cause, "confidence": "medium"},
            "escalation": {"decision": escalation},
        },
        "judges": [{"judge": j, "total": t} for j, t in judges],
        "reference_checks": None,
    }


TA = triage(
    [
        ("Check pg_replication_slots for an inactive slot retaining WAL", "DBA", "now"),
        ("Expand the volume by 20% to buy headroom", "platform", "15 min"),
        ("Postpone the 01:00 finance batch", "incident commander", ""),
    ],
    severity="P2",
    cause="WAL retained by an inactive replication slot",
    judges=[("j1", 9), ("j2", 7)],
)
TB = triage(
    [
        ("Buy headroom: grow the disk volume again", "platform", "now"),
        ("Look for an inactive replication slot holding WAL in pg_replication_slots", "DBA", "now"),
        ("Run VACUUM FULL on the largest tables", "DBA", "now"),
        ("Page the database team", "", "now"),
    ],
    severity="P1",
    cause="Table bloat because autovacuum cannot keep up",
    escalation="monitor",
    judges=[("j1", 6), ("j2", 6)],
)


def test_triage_actions_pair_by_meaning_not_position():
    drift = triage_drift(TA, TB)
    actions = drift["actions"]
    assert [(m["a"], m["b"]) for m in actions["matched"]] == [(1, 2), (2, 1)]
    assert [i["n"] for i in actions["only_a"]] == [3]
    assert [i["n"] for i in actions["only_b"]] == [3, 4]  # VACUUM FULL and paging are not the batch
    assert actions["agreement"] == round(2 / 5, 3)


def test_triage_severity_escalation_cause_judges_and_actionability():
    drift = triage_drift(TA, TB)
    assert drift["severity"] == {"a": "P2", "b": "P1", "same": False}
    assert drift["escalation"] == {"a": "escalate now", "b": "monitor", "same": False}
    assert drift["root_cause"]["similarity"] < 0.2
    assert triage_drift(TA, TA)["root_cause"]["similarity"] == 1.0
    assert drift["judges"]["a"] == 8 and drift["judges"]["b"] == 6 and drift["judges"]["delta"] == -2
    assert drift["judges"]["by_judge"] == [
        {"judge": "j1", "a": 9, "b": 6, "delta": -3},
        {"judge": "j2", "a": 7, "b": 6, "delta": -1},
    ]
    assert drift["actionability"] == {
        "a": {"actions": 3, "with_owner_and_timeline": 2},
        "b": {"actions": 4, "with_owner_and_timeline": 3},
    }


def test_a_side_without_an_answer_is_not_compared():
    failed = {"status": "failed", "result": None, "metrics": {}}
    drift = triage_drift(TA, failed)
    assert drift["comparable"] is False and drift["severity"]["same"] is None


# --- repeat runs: noise against drift -------------------------------------------------------------


def test_separation_chance_is_the_exchangeable_split():
    assert separation_chance(1, 1) == 1.0
    assert round(separation_chance(2, 2), 3) == 0.333
    assert round(separation_chance(3, 3), 3) == 0.1
    assert round(separation_chance(1, 19), 3) == 0.1


def _reviews(scores):
    return [{"status": "ok", **review(A["result"]["findings"], s, {})} for s in scores]


def test_overlapping_runs_are_noise_and_separated_runs_drift():
    noisy = repeat_report("review", _reviews([3, 5, 4]), _reviews([4, 6, 5]))
    assert noisy["drift_beyond_noise"] == [] and noisy["verdict"].startswith("not distinguishable from noise")
    drifting = repeat_report("review", _reviews([3, 3, 4]), _reviews([6, 7, 7]))
    assert drifting["drift_beyond_noise"] == ["score"]
    too_few = repeat_report("review", _reviews([3, 3]), _reviews([7, 7]))
    score = too_few["measures"][0]
    assert score["separated"] and not score["drift"] and "not distinguishable at this N" in too_few["verdict"]


def test_a_severity_each_side_always_gives_differently_is_drift():
    a = [{**TA, "status": "ok"}] * 3
    b = [{**TB, "status": "ok"}] * 3
    report = repeat_report("triage", a, b)
    assert "severity" in report["drift_beyond_noise"] and "actions agreement" in report["drift_beyond_noise"]


def test_items_that_come_and_go_across_runs():
    same = lambda x, y: x[0] == y[0]  # noqa: E731 - the first letter is the identity here
    grouped = come_and_go([["apple", "bean"], ["avocado", "cherry"], ["apricot", "bean"]], same, str).public()
    assert grouped == {
        "stable": 1,
        "come_and_go": [{"item": "bean", "seen_in": 2, "runs": 3}, {"item": "cherry", "seen_in": 1, "runs": 3}],
    }
