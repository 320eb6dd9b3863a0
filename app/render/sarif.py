"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning among them).

Rules are one per category and severity actually found ("security/high"), because
GitHub reads a security alert's severity from its rule's `security-severity`, not from
the result. The enclosing symbol becomes a logical location; a finding whose lines are
not in the file keeps its artifact but no region rather than a made-up line. Partial
fingerprints hash what the finding is about rather than where, so an alert survives
code moving above it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app import __version__
from app.review.model import SEVERITIES, Finding
from app.review.task import ReviewOutcome

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
_SYMBOL_KIND = {"class": "type", "type": "type", "method": "member", "function": "function"}


def artifact_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to the working directory when inside it, else a file URI."""
    resolved = Path(path).resolve()
    try:
        relative = resolved.relative_to(Path(os.getcwd()).resolve())
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


def _fingerprint(finding: Finding) -> str:
    basis = "|".join([finding.category, finding.symbol or "", " ".join(finding.evidence.split()), finding.title])
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _result(
    finding: Finding, rule_index: int, uri: str, base: str | None, language_symbols: dict[str, str]
) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri, "index": 0}
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
        "partialFingerprints": {"driftcheckFinding/v1": _fingerprint(finding)},
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


def review_sarif(
    outcome: ReviewOutcome, repeated: list[tuple[Finding, dict[str, Any]]] | None = None, repeat: int | None = None
) -> dict[str, Any]:
    """SARIF of one review; with `repeated` (review --repeat N), one result per finding
    clustered across the runs, each carrying its stability as properties."""
    with_stability = (
        repeated if repeated is not None else [(f, {}) for f in (outcome.result.findings if outcome.result else [])]
    )
    findings = [f for f, _ in with_stability]
    rule_ids = sorted(
        {_rule_id(f) for f in findings}, key=lambda r: (r.split("/")[0], SEVERITIES.index(r.split("/")[1]))
    )
    index = {rule_id: n for n, rule_id in enumerate(rule_ids)}
    uri, base = artifact_uri(outcome.input.path)
    kinds = {s.name: _SYMBOL_KIND.get(s.kind, "function") for s in outcome.source.symbols}
    artifact: dict[str, Any] = {
        "location": {"uri": uri, **({"uriBaseId": base} if base else {})},
        "hashes": {"sha-256": outcome.input.sha256},
    }
    if outcome.source.language:
        artifact["sourceLanguage"] = outcome.source.language
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
        "artifacts": [artifact],
        "invocations": [invocation],
        "results": [
            _with_properties(_result(f, index[_rule_id(f)], uri, base, kinds), extra) for f, extra in with_stability
        ],
        "properties": {
            "provider": outcome.provider,
            "model": outcome.model,
            "score": outcome.result.score if outcome.result else None,
            "summary": outcome.result.summary if outcome.result else None,
        },
    }
    if repeat is not None:
        run["properties"]["repeat"] = repeat
    if base:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": Path(os.getcwd()).resolve().as_uri() + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
