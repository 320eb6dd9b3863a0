"""The shapes of credentials: API keys, tokens and passwords with a known format.

Shared by the provider layer, which scrubs keys out of everything a provider sends back,
and by the app's secret scanner, which redacts them from code and pasted text before it
leaves the machine. The rules follow the shape of a maintained scanner's rule set
(gitleaks: a prefix that identifies the credential, then its own format). Every pattern
is bounded so that a scan is linear in its input.
"""

from __future__ import annotations

import re

# (rule id, pattern). Group 1 is the secret; without a group the whole match is.
CREDENTIAL_RULES: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(pattern)) for name, pattern in [
    ("aws-access-key-id", r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b"),
    ("aws-secret-access-key",
     r"(?i)aws.{0,20}?(?:secret|private)?.{0,10}?key.{0,5}?[\s:=\"']{1,5}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
    ("github-token", r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b"),
    ("github-fine-grained-token", r"\b(github_pat_[A-Za-z0-9_]{50,255})\b"),
    ("gitlab-token", r"\b(glpat-[A-Za-z0-9_\-]{20,})"),
    ("slack-token", r"\b(xox[abposr]-[A-Za-z0-9-]{10,})"),
    ("slack-webhook", r"(https://hooks\.slack\.com/services/[A-Za-z0-9+/]{40,})"),
    ("stripe-key", r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"),
    ("google-api-key", r"\b(AIza[0-9A-Za-z_\-]{35})"),
    ("anthropic-api-key", r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{20,})"),
    ("openai-api-key", r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})"),
    ("huggingface-token", r"\b(hf_[A-Za-z]{34})\b"),
    ("npm-token", r"\b(npm_[A-Za-z0-9]{36})\b"),
    ("jwt", r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"),
    ("url-credentials", r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:([^@\s/\"']{3,})@"),
]]


def credential_spans(text: str) -> list[tuple[str, int, int]]:
    """(rule, start, end) of every credential-shaped string in `text`, in rule order."""
    found: list[tuple[str, int, int]] = []
    for name, pattern in CREDENTIAL_RULES:
        for match in pattern.finditer(text):
            start, end = match.span(1) if match.groups() else match.span()
            found.append((name, start, end))
    return found
