"""Finding secrets in text before it leaves the machine, and redacting them in place.

The credential shapes (a prefix that identifies the credential, then its own format) live
in `providers.credentials`, shared with the scrubber that keeps keys out of what a
provider sends back. Here they are joined by the shapes that have no prefix and are told
by where they stand: a value assigned to a name that says it is a credential (quoted, or
bare as in a comment, YAML or a .env file), an `Authorization: Bearer/Basic` value, a long
random base64 blob, private-key blocks, and a key split across string literals joined by
`+` or written side by side. A value must look random (an entropy floor, a digit) so that
`password = "changeme"` and `token_param = "max_completion_tokens"` are not findings.

A redaction replaces only the secret itself with `[REDACTED:rule]`, never a whole line or
a line break, so every line number the model cites still points at the right code.
Nothing here stores or prints a secret's value: a hit is a line number and a rule name.

Every scan is linear in its input. Python's `re` backtracks, so each rule is written so
that it cannot: a token is matched only where it starts (a lookbehind for the character
class it is made of), taken whole with a bounded possessive quantifier, and never given
back — a line of 1M word characters is read a bounded number of times, not once per
starting position (the old assignment rule took minutes on a 32k-character line).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from providers.credentials import credential_spans

# A name that says it holds a credential, anywhere inside a longer name (DB_PASSWORD, apiKey).
_CREDENTIAL_NAME = re.compile(
    r"(?i)secret|token|passw(?:or)?d|passwd|pwd|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|credentials?"
)
# `name = "value"`, `name: value` (comments, YAML, .env). The name is a whole token taken
# at once; a bare value ends at a space, a comma, a semicolon or the end of the line.
_ASSIGNMENT = re.compile(
    r"""(?x)
    (?<![\w.-])(?P<name>[\w.-]{1,100}+)
    ["']?+[ \t]*+(?P<sep>:=|=>|==|=|:)[ \t]*+
    (?:(?P<quote>["'`])(?P<value>[^"'`\s]{8,200}+)(?P=quote)
      |(?P<bare>[^\s"'`,;()\[\]{}<>]{8,200}+)(?=[\s,;]|$))"""
)
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]{0,30}+://|urn:|(?:/[\w.-]++)++/?$")
# A comment, or a .env line (NAME=value): where a bare word can be a password.
_PLAIN_TEXT_LINE = re.compile(
    r"[ \t]*+(?:#|//|--|;|\*|/\*|<!--|rem\b|(?:export[ \t]++)?[A-Za-z_]\w*+=\S++[ \t]*+$)", re.IGNORECASE
)
# `Authorization: Bearer …` / `Basic …` in code, curl lines and logs.
_AUTH_SCHEME = re.compile(
    r"(?i)(?<![\w-])(?:bearer|basic)[ \t]++(?P<value>[A-Za-z0-9._~+/=-]{16,}+)"
    r"(?![A-Za-z0-9._~+/=-])"
)
# A long run of base64 (standard or URL-safe) standing on its own.
_BLOB = re.compile(r"(?<![A-Za-z0-9+/=_-])(?P<value>[A-Za-z0-9+/_-]{40,}+={0,2}+)(?![A-Za-z0-9+/=_-])")
# Public material that is base64 too: SRI hashes, data URIs, SSH public keys ("AAAA…").
_PUBLIC_BLOB = re.compile(r"sha(?:256|384|512)-|AAAA[BC]3NzaC|AAAAE2VjZHNh")
_PUBLIC_BEFORE = ("base64,", "ssh-rsa ", "ssh-ed25519 ", "ssh-dss ")
# One string literal; quotes of its own kind end it, a backslash or a line break gives up.
_LITERAL = re.compile(r""""[^"\\\n]*+"|'[^'\\\n]*+'|`[^`\\\n]*+`""")
_JOIN = re.compile(r"[ \t]*+\+?+[ \t]*+")  # what may stand between two parts of one string

_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|changeme|change[_-]?me|example|placeholder|dummy|test|secret|"
    r"password|your[_-].*|<.*>|\$\{.*\}|\{\{.*\}\}|%\(.*\)s|none|null|redacted.*)$"
)
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PUBLIC_BEGIN = re.compile(r"-----BEGIN (?:CERTIFICATE|PUBLIC KEY|[A-Z0-9]+ PUBLIC KEY(?: BLOCK)?|X509 CRL)-----")
_PUBLIC_END = re.compile(r"-----END [A-Z0-9 ]+-----")
MIN_ENTROPY_BITS = 3.0  # per character; "hunter2hunter2" is about 2.5, a random token 4+
BLOB_ENTROPY_BITS = 4.2  # 40 random base64 characters score 4.3-5.3; long identifiers about 3.5
BLOB_SWITCH_RATE = 0.45  # random base64 changes character kind at ~64% of steps (1st percentile 46%);
# CamelCase names, paths and URLs at 25-40%


@dataclass(frozen=True, slots=True)
class SecretHit:
    line: int  # 1-based
    rule: str


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value)) or "example" in value.lower()  # AKIDEXAMPLE, wJalr…EXAMPLEKEY in docs


def looks_random(value: str) -> bool:
    """A credential, not a word, an identifier or a placeholder."""
    if _is_placeholder(value):
        return False
    entropy = shannon_entropy(value)
    if entropy < MIN_ENTROPY_BITS:
        return False
    return entropy >= 4.0 or any(ch.isdigit() for ch in value)  # "max_completion_tokens" has neither


def _assignment_hits(line: str) -> list[tuple[str, int, int]]:
    spans = []
    for match in _ASSIGNMENT.finditer(line):
        if not _CREDENTIAL_NAME.search(match["name"]):
            continue
        if match["value"] is not None:
            group = "value"
            if _is_code_name(match["value"], dotted=True) or _ADDRESS.match(match["value"]):
                continue  # "DistributionList.NextMarker", "https://…/token", "/v1/oauth/token"
        else:
            group = "bare"
            if not _bare_value_allowed(line, match["sep"], match["bare"]):
                continue
        if looks_random(match[group]):
            spans.append(("generic-secret", *match.span(group)))
    return spans


def _is_code_name(value: str, *, dotted: bool = False) -> bool:
    """`settings.API_KEY2`, `PKCS7KeyTypes`: a name in code (with a dot in it, when `dotted`)."""
    parts = value.split(".")
    return all(part.isidentifier() for part in parts) and (len(parts) > 1 or not dotted)


def _bare_value_allowed(line: str, sep: str, value: str) -> bool:
    """An unquoted value is a secret in a comment, a .env line or YAML (`password: s3cr3t-42`),
    but in code it is an expression: `token == other`, `private_key: PKCS7KeyTypes`,
    `api_key = settings.API_KEY2` are names, not values."""
    if sep not in ("=", ":") or not any(ch.isdigit() for ch in value):
        return False
    return not _is_code_name(value) or bool(_PLAIN_TEXT_LINE.match(line))


def _auth_scheme_hits(line: str) -> list[tuple[str, int, int]]:
    return [("authorization-header", *m.span("value")) for m in _AUTH_SCHEME.finditer(line) if looks_random(m["value"])]


def _blob_hits(line: str) -> list[tuple[str, int, int]]:
    spans = []
    for match in _BLOB.finditer(line):
        value = match["value"]
        if _PUBLIC_BLOB.match(value) or line[: match.start()].endswith(_PUBLIC_BEFORE):
            continue
        if _looks_encoded(value):
            spans.append(("base64-blob", *match.span("value")))
    return spans


def _looks_encoded(value: str) -> bool:
    """Random base64, not a long identifier (BetaToolset20260401Input), a path or a URL
    (docs/en-US/2021/Guide), or UUIDs joined by dashes: encoded bytes mix upper case,
    lower case and digits at almost every step and rarely hold a separator."""
    kinds = ["u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "s" for c in value.rstrip("=")]
    if _is_placeholder(value) or not {"u", "l", "d"} <= set(kinds) or kinds.count("s") > len(kinds) / 16 + 2:
        return False
    switches = sum(a != b for a, b in pairwise(kinds)) / (len(kinds) - 1)
    return switches >= BLOB_SWITCH_RATE and shannon_entropy(value) >= BLOB_ENTROPY_BITS


def _rule_spans(line: str, *, blobs: bool) -> list[tuple[str, int, int]]:
    found = credential_spans(line) + _assignment_hits(line) + _auth_scheme_hits(line)
    return found + _blob_hits(line) if blobs else found


def _joined_literals(line: str) -> tuple[str, list[tuple[int, int, int]]] | None:
    """The line with each run of string literals joined by `+` or written side by side
    ("ghp_ab" + "cd…", "ghp_ab" "cd…") read as one literal, and how its offsets map back:
    (start in the joined line, end, start in the line). None when there is no such run."""
    literals = list(_LITERAL.finditer(line))
    runs: list[list[re.Match[str]]] = []
    for literal in literals:
        if runs and _JOIN.fullmatch(line, runs[-1][-1].end(), literal.start()):
            runs[-1].append(literal)
        else:
            runs.append([literal])
    runs = [run for run in runs if len(run) > 1]
    if not runs:
        return None
    parts: list[str] = []
    segments: list[tuple[int, int, int]] = []
    at = joined = 0

    def keep(start: int, end: int) -> None:
        nonlocal joined
        parts.append(line[start:end])
        segments.append((joined, joined + end - start, start))
        joined += end - start

    for run in runs:
        keep(at, run[0].end() - 1)  # up to the first literal's body end, opening quote included
        for literal in run[1:]:
            keep(literal.start() + 1, literal.end() - 1)  # the next body, quotes left out
        keep(run[0].end() - 1, run[0].end())  # the first literal's closing quote ends the joined one
        at = run[-1].end()
    keep(at, len(line))
    return "".join(parts), segments


def _map_back(spans: list[tuple[str, int, int]], segments: list[tuple[int, int, int]]) -> list[tuple[str, int, int]]:
    """Spans in the joined line as spans in the line: one per literal a secret reaches into."""
    starts = [s[0] for s in segments]
    out = []
    for rule, start, end in spans:
        index = bisect_right(starts, start) - 1
        while index < len(segments) and segments[index][0] < end:
            seg_start, seg_end, origin = segments[index]
            lo, hi = max(start, seg_start), min(end, seg_end)
            if lo < hi:
                out.append((rule, origin + lo - seg_start, origin + hi - seg_start))
            index += 1
    return out


def scan_line(line: str, *, blobs: bool = True) -> list[tuple[str, int, int]]:
    """(rule, start, end) of each secret in one line, leftmost first, not overlapping.
    `blobs=False` inside a certificate or public-key block, whose base64 is public."""
    found = _rule_spans(line, blobs=blobs)
    joined = _joined_literals(line)
    if joined is not None:
        found += _map_back(_rule_spans(joined[0], blobs=blobs), joined[1])
    found.sort(key=lambda hit: (hit[1], -(hit[2] - hit[1])))
    kept: list[tuple[str, int, int]] = []
    for hit in found:
        if not kept or hit[1] >= kept[-1][2]:
            kept.append(hit)
    return kept


def redact_line(line: str, *, blobs: bool = True) -> tuple[str, list[str]]:
    """The line with each secret replaced by [REDACTED:rule], and the rules that fired."""
    hits = scan_line(line, blobs=blobs)
    pieces, at = [], 0
    for rule, start, end in hits:
        pieces += [line[at:start], f"[REDACTED:{rule}]"]
        at = end
    pieces.append(line[at:])
    return "".join(pieces), list(dict.fromkeys(rule for rule, _, _ in hits))


def redact_lines(lines: list[str]) -> tuple[list[str], list[SecretHit]]:
    """Every line redacted; private-key blocks are blanked from BEGIN to END."""
    out: list[str] = []
    hits: list[SecretHit] = []
    in_key = in_public = False
    for number, line in enumerate(lines, start=1):
        if in_key or _PRIVATE_KEY_BEGIN.search(line):
            if not in_key:
                hits.append(SecretHit(number, "private-key"))
            in_key = not _PRIVATE_KEY_END.search(line)
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}[REDACTED:private-key]")
            continue
        in_public = in_public or bool(_PUBLIC_BEGIN.search(line))
        redacted, rules = redact_line(line, blobs=not in_public)
        if in_public and _PUBLIC_END.search(line):
            in_public = False
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
