"""The one matching rule behind answer-key recall and (later) the drift report.

Each case is a hand-labelled pair of findings, worded the way two different models
word the same complaint (or two different complaints), with the verdict a reviewer
reading both would give.
"""

from __future__ import annotations

import pytest

from app.review.matching import Citation, align, similarity, words_of


def cite(start: int, end: int, category: str | None, text: str, symbol: str | None = None) -> Citation:
    return Citation(start, end, category, symbol, words_of(text))


SAME = [
    pytest.param(
        cite(35, 35, "security", "SQL injection: the name is interpolated into the query string", "find_item"),
        cite(35, 35, "security", "User input is formatted into SQL; use a parameterized query", "find_item"),
        id="same-lines-same-issue-different-wording",
    ),
    pytest.param(
        cite(35, 35, "security", "SQL injection via f-string query", "find_item"),
        cite(37, 37, "security", "Query built with an f-string is open to SQL injection", "find_item"),
        id="cited-two-lines-apart",
    ),
    pytest.param(
        cite(49, 50, "error-handling", "Bare except swallows every error, failed updates go unnoticed", "adjust_stock"),
        cite(49, 49, "correctness", "The bare except hides failed stock updates from the caller", "adjust_stock"),
        id="same-issue-filed-under-another-category",
    ),
    pytest.param(
        cite(33, 39, "resource-management", "The connection is never closed; it leaks", "find_item"),
        cite(39, 39, "resource-management", "find_item returns without closing the connection (leak)", "find_item"),
        id="range-against-last-line-of-it",
    ),
    pytest.param(
        cite(10, 10, "performance", "Quadratic loop over every order for every customer", "build_report"),
        cite(24, 26, "performance", "Nested loop over orders per customer is quadratic", "build_report"),
        id="far-apart-but-same-symbol",
    ),
]

DIFFERENT = [
    pytest.param(
        cite(35, 35, "security", "SQL injection via f-string query", "find_item"),
        cite(35, 35, "performance", "A full table scan on every keystroke; add an index on name", "find_item"),
        id="same-lines-different-issue",
    ),
    pytest.param(
        cite(42, 42, "correctness", "Mutable default argument history is shared between calls", "adjust_stock"),
        cite(49, 50, "error-handling", "Bare except swallows errors", "adjust_stock"),
        id="same-function-different-issue",
    ),
    pytest.param(
        cite(15, 15, "security", "Hardcoded partner API token in source", None),
        cite(
            69, 69, "security", "Shell injection through report_name in subprocess with shell=True", "archive_reports"
        ),
        id="same-category-far-apart",
    ),
    pytest.param(
        cite(73, 73, "security", "MD5 is not a password hash; use bcrypt or argon2", "hash_operator_password"),
        cite(77, 80, "correctness", "Division by zero when items is empty", "mean_unit_price"),
        id="neighbouring-functions",
    ),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_problem_matches(a, b):
    assert similarity(a, b) is not None
    assert similarity(b, a) == similarity(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_problems_do_not_match(a, b):
    assert similarity(a, b) is None


def test_alignment_is_one_to_one_and_prefers_the_closer_candidate():
    # Two findings on the same SQL line from A; B has one of them, worded its own way,
    # plus a finding A does not have.
    a = [
        cite(35, 35, "security", "SQL injection through the name parameter", "find_item"),
        cite(36, 36, "security", "SQL query injection risk from string formatting", "find_item"),
        cite(73, 73, "security", "MD5 password hash is weak", "hash_operator_password"),
    ]
    b = [
        cite(36, 36, "security", "The query is built by string formatting: SQL injection", "find_item"),
        cite(15, 15, "security", "Secret token committed to the repository", None),
    ]
    alignment = align(a, b)
    assert [(i, j) for i, j, _ in alignment.pairs] == [(1, 0)]  # exact line beats one line off
    assert alignment.only_a == [0, 2]
    assert alignment.only_b == [1]


def test_words_are_compared_by_stem_and_ignore_filler():
    assert words_of("parameterised queries") == words_of("Parameterized query")
    assert words_of("the code should use a value") == frozenset()
