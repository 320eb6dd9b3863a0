"""Reference answers for incidents, and the objective checks made against them.

`NAME.md.reference.toml` beside an incident holds the root cause, key signals, points a
good answer must make (each with keywords that show it was made) and actions it must not
recommend (with keywords). The checks are deliberately plain — keyword evidence, not a
model's opinion — so they can sit beside the judges as a second, reproducible opinion.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import InputError
from app.triage.contract import PointCovered, ReferenceChecks, Violation

REFERENCE_SUFFIX = ".reference.toml"
_NEGATION = re.compile(r"\b(?:do not|don't|never|avoid|without|instead of|not)\b[^.;]*$", re.IGNORECASE)


class ReferenceError(InputError):
    """The reference file exists but is malformed."""


@dataclass(frozen=True)
class Point:
    text: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    path: Path
    title: str
    difficulty: str
    root_cause: str
    key_signals: tuple[str, ...]
    must_make: tuple[Point, ...]
    must_not: tuple[Point, ...]

    def as_prompt(self) -> str:
        lines = [
            f"Root cause: {self.root_cause}",
            "Key signals: " + "; ".join(self.key_signals),
            "A good answer makes these points:",
        ]
        lines += [f"- {p.text}" for p in self.must_make]
        lines += ["A good answer must not recommend:"] + [f"- {p.text}" for p in self.must_not]
        return "\n".join(lines)


def find_reference(incident: str | Path) -> Reference | None:
    path = Path(incident)
    candidate = path.with_name(path.name + REFERENCE_SUFFIX)
    return load_reference(candidate) if candidate.is_file() else None


def load_reference(path: Path) -> Reference:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Reference(
            path=path,
            title=str(data["title"]),
            difficulty=str(data.get("difficulty", "")),
            root_cause=str(data["root_cause"]),
            key_signals=tuple(str(s) for s in data.get("key_signals", [])),
            must_make=tuple(
                Point(str(p["point"]), tuple(k.lower() for k in p["keywords"])) for p in data.get("must_make", [])
            ),
            must_not=tuple(
                Point(str(p["action"]), tuple(k.lower() for k in p["keywords"])) for p in data.get("must_not", [])
            ),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ReferenceError(f"reference {path}: {exc}") from None


def _recommends(action: str, keyword: str) -> bool:
    """The action text contains the keyword, and not as something to avoid."""
    lowered = action.lower()
    at = lowered.find(keyword)
    return at >= 0 and not _NEGATION.search(lowered[:at])


def reference_checks(reference: Reference | None, result: Any, mode: str) -> dict[str, Any] | None:
    """The public `reference_checks` object, plus actionability (needs no reference)."""
    if result is None:
        return None
    actions = result.actions if mode == "active" else result.follow_ups
    actionable = sum(1 for a in actions if a.owner.strip() and a.timeline.strip())
    checks = ReferenceChecks(
        actions=len(actions),
        actions_with_owner_and_timeline=actionable,
        all_actionable=bool(actions) and actionable == len(actions),
        reference=None,
    )
    if reference is None:
        return checks.public()
    text = result.model_dump_json().lower()
    covered = [PointCovered(point=p.text, covered=any(k in text for k in p.keywords)) for p in reference.must_make]
    action_texts = [a.action for a in actions]
    violations = [
        Violation(action=p.text, recommended_in=[t for t in action_texts if any(_recommends(t, k) for k in p.keywords)])
        for p in reference.must_not
    ]
    return checks.model_copy(
        update={
            "reference": reference.path.name,
            "must_make": covered,
            "coverage": round(sum(c.covered for c in covered) / len(covered), 3) if covered else None,
            "must_not_violations": [v for v in violations if v.recommended_in],
        }
    ).public()
