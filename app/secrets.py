"""Finding secrets in text before it leaves the machine, and redacting them in place.

The credential shapes (a prefix that identifies the credential, then its own format) live
in `providers.credentials`, shared with the scrubber that keeps keys out of what a
provider sends back; here they are joined by generic assignments, with an entropy floor
so that `password = "changeme"` is not a finding, and private-key blocks. A
redaction replaces only the secret itself with `[REDACTED:rule]`, never a whole line or a
line break, so every line number the model cites still points at the right code.
Nothing here stores or prints a secret's value: a hit is a line number and a rule name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from providers.credentials import credential_spans

# `name = "value"` where the name says it is a credential. The value must look random.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<name>[\w.-]*(?:secret|token|passw(?:or)?d|passwd|pwd|api[_-]?key|access[_-]?key|private[_-]?key
                      |client[_-]?secret|auth[_-]?key|credentials?)[\w.-]*)
    ["']?\s*(?::=|=>|==|=|:)\s*
    (?P<quote>["'`])(?P<value>[^"'`\s]{8,200})(?P=quote)""")
_PLACEHOLDER = re.compile(r"(?i)^(?:x+|\*+|\.+|changeme|change[_-]?me|example|placeholder|dummy|test|secret|"
                          r"password|your[_-].*|<.*>|\$\{.*\}|\{\{.*\}\}|%\(.*\)s|none|null|redacted.*)$")
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
MIN_ENTROPY_BITS = 3.0  # per character; "hunter2hunter2" is about 2.5, a random token 4+


@dataclass(frozen=True, slots=True)
class SecretHit:
    line: int   # 1-based
    rule: str


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _generic_hits(line: str) -> list[tuple[int, int]]:
    spans = []
    for match in _ASSIGNMENT.finditer(line):
        value = match.group("value")
        if _PLACEHOLDER.match(value) or shannon_entropy(value) < MIN_ENTROPY_BITS:
            continue
        if not re.search(r"\d", value) and shannon_entropy(value) < 4.0:
            continue  # words and identifiers ("max_completion_tokens"), not a credential
        spans.append(match.span("value"))
    return spans


def scan_line(line: str) -> list[tuple[str, int, int]]:
    """(rule, start, end) of each secret in one line, leftmost first, not overlapping."""
    found = credential_spans(line)
    found += [("generic-secret", start, end) for start, end in _generic_hits(line)]
    found.sort(key=lambda hit: (hit[1], -(hit[2] - hit[1])))
    kept: list[tuple[str, int, int]] = []
    for hit in found:
        if not kept or hit[1] >= kept[-1][2]:
            kept.append(hit)
    return kept


def redact_line(line: str) -> tuple[str, list[str]]:
    """The line with each secret replaced by [REDACTED:rule], and the rules that fired."""
    hits = scan_line(line)
    for rule, start, end in reversed(hits):
        line = f"{line[:start]}[REDACTED:{rule}]{line[end:]}"
    return line, [rule for rule, _, _ in hits]


def redact_lines(lines: list[str]) -> tuple[list[str], list[SecretHit]]:
    """Every line redacted; private-key blocks are blanked from BEGIN to END."""
    out: list[str] = []
    hits: list[SecretHit] = []
    in_key = False
    for number, line in enumerate(lines, start=1):
        if in_key or _PRIVATE_KEY_BEGIN.search(line):
            if not in_key:
                hits.append(SecretHit(number, "private-key"))
            in_key = not _PRIVATE_KEY_END.search(line)
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}[REDACTED:private-key]")
            continue
        redacted, rules = redact_line(line)
        out.append(redacted)
        hits += [SecretHit(number, rule) for rule in rules]
    return out, hits


def describe(hits: list[SecretHit]) -> str:
    """'lines 15 (generic-secret), 40 (aws-access-key-id)' — never the values."""
    by_line: dict[int, list[str]] = {}
    for hit in hits:
        by_line.setdefault(hit.line, []).append(hit.rule)
    shown = [f"{line} ({', '.join(sorted(set(rules)))})" for line, rules in sorted(by_line.items())[:12]]
    more = f" and {len(by_line) - 12} more" if len(by_line) > 12 else ""
    return ("line " if len(by_line) == 1 else "lines ") + ", ".join(shown) + more
