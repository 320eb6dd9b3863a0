"""The drift report between two reviews, on hand-labelled pairs of replies: the same
issue worded differently, cited two lines apart, filed under another category with a
different severity, and the same lines holding a different issue."""

from __future__ import annotations

from app.drift import review_drift


def finding(fid, line, severity, category, title, explanation, symbol="find_item", end=None):
    return {"id": fid, "line_start": line, "line_end": end or line, "severity": severity, "category": category,
            "title": title, "explanation": explanation, "suggestion": "", "evidence": "", "symbol": symbol,
            "lines_valid": True, "cited_lines": None}


def review(findings, score, metrics):
    return {"result": {"score": score, "findings": findings}, "metrics": metrics, "answer_key": None}


A = review([
    finding("F1", 35, "critical", "security", "SQL injection in find_item", "The name is formatted into the query."),
    finding("F2", 33, "medium", "resource-management", "Connection never closed", "find_item leaks a connection.",
            end=39),
    finding("F3", 49, "high", "error-handling", "Bare except swallows failures", "Failed updates vanish.",
            symbol="adjust_stock"),
    finding("F4", 73, "high", "security", "MD5 used for passwords", "MD5 is fast to brute force.",
            symbol="hash_operator_password"),
], 2, {"ttft_ms": 400.0, "latency_ms": 4000.0, "input_tokens": 1500, "output_tokens": 800, "cost_usd": 0.0055})

B = review([
    # same issue, cited two lines off, different words
    finding("F1", 37, "high", "security", "Query built by string formatting", "User input reaches SQL: injection."),
    # same issue, other category, lower severity
    finding("F2", 49, "medium", "correctness", "Bare except hides failed stock updates", "Errors are swallowed.",
            symbol="adjust_stock"),
    # same lines as A's F1, a different issue
    finding("F3", 35, "low", "performance", "Full table scan on name", "No index on items.name; slow search."),
    finding("F4", 80, "medium", "correctness", "Division by zero on empty list", "len(items) can be 0.",
            symbol="mean_unit_price"),
], 4, {"ttft_ms": 200.0, "latency_ms": 6000.0, "input_tokens": 1500, "output_tokens": 1200, "cost_usd": 0.0021})


def test_pairs_follow_the_hand_labels():
    drift = review_drift(A, B)
    assert [(m["a"], m["b"]) for m in drift["matched"]] == [("F1", "F1"), ("F3", "F2")]
    assert [f["id"] for f in drift["only_a"]] == ["F2", "F4"]
    assert [f["id"] for f in drift["only_b"]] == ["F3", "F4"]  # the scan on line 35 is not the injection
    assert drift["agreement"] == round(2 / 6, 3)


def test_severity_disagreements_and_deltas():
    drift = review_drift(A, B)
    assert [(d["a"], d["severity"]) for d in drift["severity_disagreements"]] == [
        ("F1", ["critical", "high"]), ("F3", ["high", "medium"])]
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
