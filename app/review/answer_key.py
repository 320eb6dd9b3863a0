"""Answer keys: the deliberate issues planted in a sample file, and scoring a review against them.

A key is a TOML file beside the file it describes, named after it with `.key.toml`
appended (`orders.py` -> `orders.py.key.toml`):

    [[issue]]
    id = "sql-injection"
    lines = [14, 15]
    category = "security"
    severity = "critical"
    keywords = ["sql", "injection", "parameterised query"]

Matching uses `app.review.matching`, the same rule the drift report uses between providers.
Precision is measured against the key: a real problem the key does not list counts
against it, so read it as "share of findings that were planted issues".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from app.errors import InputError
from app.review.contract import AnswerKeyScore, KeyPair
from app.review.matching import Citation, align, finding_citation, words_of
from app.review.model import CATEGORIES, SEVERITIES, Severity

KEY_SUFFIX = ".key.toml"


class AnswerKeyError(InputError):
    """The key file exists but is malformed; the message names the file and the issue."""


@dataclass(frozen=True)
class KeyIssue:
    id: str
    start: int
    end: int
    category: str
    severity: str
    keywords: tuple[str, ...]

    def citation(self, symbol: str | None) -> Citation:
        return Citation(self.start, self.end, self.category, symbol, words_of(*self.keywords))


@dataclass(frozen=True)
class AnswerKey:
    path: Path
    issues: tuple[KeyIssue, ...]
    difficulty: str = ""

    def as_prompt(self) -> str:
        """The planted issues, for a judge to grade a review against."""
        return "\n".join(
            f"- lines {i.start}-{i.end}: {i.category}, {i.severity} ({', '.join(i.keywords)})" for i in self.issues
        )


def key_path_for(source: Path) -> Path:
    return source.with_name(source.name + KEY_SUFFIX)


def find_key(source: str | Path) -> AnswerKey | None:
    path = key_path_for(Path(source))
    return load_key(path) if path.is_file() else None


def load_key(path: Path) -> AnswerKey:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AnswerKeyError(f"answer key {path}: {exc}") from None
    raw_issues = data.get("issue")
    if not isinstance(raw_issues, list) or not raw_issues:
        raise AnswerKeyError(f"answer key {path}: no [[issue]] tables")
    issues = [_issue(raw, path, n) for n, raw in enumerate(raw_issues, start=1)]
    ids = [i.id for i in issues]
    if len(set(ids)) != len(ids):
        raise AnswerKeyError(f"answer key {path}: issue ids are not unique")
    return AnswerKey(path=path, issues=tuple(issues), difficulty=str(data.get("difficulty", "")))


def _issue(raw: Any, path: Path, n: int) -> KeyIssue:
    where = f"answer key {path}, issue {n}"
    try:
        lines = raw["lines"]
        start, end = (lines, lines) if isinstance(lines, int) else (int(lines[0]), int(lines[-1]))
        issue = KeyIssue(
            id=str(raw["id"]),
            start=start,
            end=end,
            category=str(raw["category"]),
            severity=str(raw["severity"]),
            keywords=tuple(str(k) for k in raw["keywords"]),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise AnswerKeyError(f"{where}: missing or malformed field ({exc})") from None
    if issue.category not in CATEGORIES:
        raise AnswerKeyError(f"{where}: category {issue.category!r} is not one of {', '.join(CATEGORIES)}")
    if issue.severity not in SEVERITIES:
        raise AnswerKeyError(f"{where}: severity {issue.severity!r} is not one of {', '.join(SEVERITIES)}")
    if not 1 <= issue.start <= issue.end:
        raise AnswerKeyError(f"{where}: lines must be 1-based and in order")
    return issue


def score_against_key(key: AnswerKey, findings: list[Any], symbol_at: Any) -> dict[str, Any]:
    """The public `answer_key` object: expected, matched, recall, precision, and which."""
    expected = [issue.citation(_name(symbol_at(issue.start))) for issue in key.issues]
    got = [finding_citation(f) for f in findings]
    alignment = align(expected, got)
    matched = alignment.matched
    return AnswerKeyScore(
        key=key.path.name,
        expected=len(key.issues),
        matched=matched,
        recall=round(matched / len(key.issues), 3),
        precision=round(matched / len(findings), 3) if findings else None,
        pairs=[
            KeyPair(
                issue=key.issues[i].id,
                finding=findings[j].id,
                severity_expected=cast(Severity, key.issues[i].severity),  # checked when the key was loaded
                severity_found=findings[j].severity,
            )
            for i, j, _ in alignment.pairs
        ],
        missed=[key.issues[i].id for i in alignment.only_a],
        unexpected=[findings[j].id for j in alignment.only_b],
    ).public()


def _name(symbol: Any) -> str | None:
    return None if symbol is None else symbol.name
