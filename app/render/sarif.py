"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning among them).

Rules are one per category and severity actually found ("security/high"), because
GitHub reads a security alert's severity from its rule's `security-severity`, not from
the result. The enclosing symbol becomes a logical location; a finding whose lines are
not in the file keeps its artifact but no region rather than a made-up line. Partial
fingerprints (app.review.fingerprint) hash what the finding is about rather than where
or who said it, so an alert survives code moving above it and a change of provider.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app import __version__
from app.review.change import ChangeOutcome
from app.review.fingerprint import FINGERPRINT_KEY, finding_fingerprint
from app.review.model import SEVERITIES, Finding
from app.review.task import ReviewOutcome
from app.source.model import SourceFile

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
_SYMBOL_KIND = {"class": "type", "type": "type", "method": "member", "function": "function"}


def artifact_uri(path: str, root: Path | None = None) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to `root` (default: the working directory) when inside
    it, else a file URI."""
    root = (root or Path(os.getcwd())).resolve()
    resolved = (root / path).resolve()
    try:
        relative = resolved.relative_to(root)
    except ValueError:
        return resolved.as_uri(), None
    return quote(relative.as_posix()), "%SRCROOT%"


def _rule_id(finding: Finding) -> str:
    return f"{finding.category}/{finding.severity}"


def _rule(rule_id: str) -> dict[str, Any]:
    category, severity = rule_id.split("/")
    properties: dict[str, Any] = {"tags": ["driftcheck", category], "precision": "medium"}
    if category == "security":
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    words = category.replace("-", " ")
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in f"{category} {severity}".replace("-", " ").split()),
        "shortDescription": {"text": f"{severity.capitalize()} {words} problem found by an LLM review"},
        "fullDescription": {
            "text": f"A {severity} {words} problem reported by driftcheck's LLM code review. "
            "Findings come from a language model: verify each before acting."
        },
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": properties,
    }


def _result(
    finding: Finding,
    rule_index: int,
    artifact_index: int,
    uri: str,
    base: str | None,
    language_symbols: dict[str, str],
    fingerprint: str,
) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri, "index": artifact_index}
    if base:
        artifact["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if finding.lines_valid:
        physical["region"] = {"startLine": finding.line_start, "endLine": finding.line_end}
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.symbol:
        location["logicalLocations"] = [
            {
                "fullyQualifiedName": finding.symbol,
                "name": finding.symbol.rsplit(".", 1)[-1],
                "kind": language_symbols.get(finding.symbol, "function"),
            }
        ]
    text = f"{finding.title}. {finding.explanation} Suggested fix: {finding.suggestion}"
    properties: dict[str, Any] = {
        "severity": finding.severity,
        "category": finding.category,
        "driftcheckId": finding.id,
    }
    if finding.cited_lines:
        properties["citedLines"] = finding.cited_lines
    if not finding.lines_valid:
        properties["linesValid"] = False
    return {
        "ruleId": _rule_id(finding),
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {
            "text": text,
            "markdown": f"**{finding.title}**\n\n{finding.explanation}\n\n*Suggested fix:* {finding.suggestion}",
        },
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }


def _stability_properties(cluster: dict[str, Any]) -> dict[str, Any]:
    """How a finding held up over `review --repeat N`, as SARIF result properties."""
    return {
        "foundInRuns": cluster["found"],
        "repeat": cluster["repeat"],
        "stability": cluster["verdict"],
        "runs": sorted(int(n) for n in cluster["runs"]),
    }


def repeated_findings(
    outcomes: list[ReviewOutcome], clusters: list[dict[str, Any]]
) -> list[tuple[Finding, dict[str, Any]]]:
    """Each cluster of a repeated review as the finding of the first run that made it,
    with its stability: what the SARIF of `review --repeat N` reports."""
    out = []
    for cluster in clusters:
        run, finding_id = min((int(n), fid) for n, fid in cluster["runs"].items())
        result = outcomes[run - 1].result
        finding = next(f for f in (result.findings if result else []) if f.id == finding_id)
        out.append((finding, _stability_properties(cluster)))
    return out


def _with_properties(result: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result["properties"].update(extra)
    return result


@dataclass
class Reviewed:
    """One reviewed file as SARIF sees it: an artifact, and the findings in it."""

    path: str
    sha256: str
    source: SourceFile
    findings: list[Finding]
    # Result properties per finding, in order (review --repeat N: its stability).
    extras: list[dict[str, Any]] | None = None


def review_sarif(
    outcome: ReviewOutcome, repeated: list[tuple[Finding, dict[str, Any]]] | None = None, repeat: int | None = None
) -> dict[str, Any]:
    """SARIF of one review; with `repeated` (review --repeat N), one result per finding
    clustered across the runs, each carrying its stability as properties."""
    with_stability = (
        repeated if repeated is not None else [(f, {}) for f in (outcome.result.findings if outcome.result else [])]
    )
    reviewed = [
        Reviewed(
            outcome.input.path,
            outcome.input.sha256,
            outcome.source,
            [f for f, _ in with_stability],
            [extra for _, extra in with_stability],
        )
    ]
    return sarif_log(
        outcome,
        reviewed,
        outcome.result.score if outcome.result else None,
        outcome.result.summary if outcome.result else None,
        repeat=repeat,
    )


def change_sarif(outcome: ChangeOutcome) -> dict[str, Any]:
    """Every reviewed file an artifact, every finding a result pointing at its file."""
    reviewed = [
        Reviewed(f.path, f.text_input.sha256, f.source, (o.result.findings if o is not None and o.result else []))
        for f in outcome.change.files
        if (o := outcome.outcomes.get(f.path)) is not None
    ]
    result = outcome.result
    root = Path(outcome.change.root) if outcome.change.root else None
    return sarif_log(outcome, reviewed, result.score, result.summary, root=root)


def sarif_log(
    outcome: Any,
    reviewed: list[Reviewed],
    score: int | None,
    summary: str | None,
    *,
    root: Path | None = None,
    repeat: int | None = None,
) -> dict[str, Any]:
    """The SARIF log of a review (`outcome` gives the provider, checks and error); paths
    relative to `root` (a change's repository), else to the working directory."""
    findings = [f for r in reviewed for f in r.findings]
    rule_ids = sorted(
        {_rule_id(f) for f in findings}, key=lambda r: (r.split("/")[0], SEVERITIES.index(r.split("/")[1]))
    )
    index = {rule_id: n for n, rule_id in enumerate(rule_ids)}
    artifacts: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    any_base = False
    for n, file in enumerate(reviewed):
        uri, base = artifact_uri(file.path, root)
        any_base = any_base or base is not None
        kinds = {s.name: _SYMBOL_KIND.get(s.kind, "function") for s in file.source.symbols}
        artifact: dict[str, Any] = {
            "location": {"uri": uri, **({"uriBaseId": base} if base else {})},
            "hashes": {"sha-256": file.sha256},
        }
        if file.source.language:
            artifact["sourceLanguage"] = file.source.language
        artifacts.append(artifact)
        extras = file.extras or [{} for _ in file.findings]
        results += [
            _with_properties(
                _result(
                    f, index[_rule_id(f)], n, uri, base, kinds, f.fingerprint or finding_fingerprint(f, file.source)
                ),
                extra,
            )
            for f, extra in zip(file.findings, extras, strict=True)
        ]
    invocation: dict[str, Any] = {"executionSuccessful": outcome.error is None}
    notifications = [
        {
            "level": "error" if c.severity == "error" else "warning",
            "message": {"text": f"{c.name}: {c.message}. {c.diagnosis}"},
        }
        for c in outcome.checks
    ]
    if outcome.error is not None:
        notifications.insert(0, {"level": "error", "message": {"text": outcome.error.one_line()}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "driftcheck",
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/driftcheck/",
                "rules": [_rule(r) for r in rule_ids],
            }
        },
        "automationDetails": {"id": f"driftcheck/review/{outcome.provider}:{outcome.model}/"},
        "artifacts": artifacts,
        "invocations": [invocation],
        "results": results,
        "properties": {
            "provider": outcome.provider,
            "model": outcome.model,
            "score": score,
            "summary": summary,
        },
    }
    if repeat is not None:
        run["properties"]["repeat"] = repeat
    if any_base:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": (root or Path(os.getcwd())).resolve().as_uri() + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
