"""The shapes of credentials: API keys, tokens and passwords with a known format.

Shared by the provider layer, which scrubs keys out of everything a provider sends back,
and by the app's secret scanner, which redacts them from code and pasted text before it
leaves the machine. The rules follow the shape of a maintained scanner's rule set
(gitleaks: a prefix that identifies the credential, then its own format). Every pattern
is bounded so that a scan is linear in its input: a token is matched only where it
starts (a lookbehind for the characters it is made of, not `\b`, which lets `glpat-glpat-…`
start again after every dash), so no run of characters is re-read from every position.
"""

from __future__ import annotations

import re

# (rule id, pattern). Group 1 is the secret; without a group the whole match is.
CREDENTIAL_RULES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("aws-access-key-id", r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b"),
        (
            "aws-secret-access-key",
            (
                r"(?i)(?<![a-z0-9])aws[\w. -]{0,30}?key[\w -]{0,10}?[\"']?+[ \t]*+[:=][ \t]*+[\"']?+"
                r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
            ),
        ),
        ("github-token", r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b"),
        ("github-fine-grained-token", r"\b(github_pat_[A-Za-z0-9_]{50,255})\b"),
        ("gitlab-token", r"(?<![A-Za-z0-9_-])(glpat-[A-Za-z0-9_\-]{20,})"),
        ("slack-token", r"(?<![A-Za-z0-9_-])(xox[abposr]-[A-Za-z0-9-]{10,})"),
        ("slack-webhook", r"(https://hooks\.slack\.com/services/[A-Za-z0-9+/]{40,})"),
        ("stripe-key", r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"),
        ("google-api-key", r"\b(AIza[0-9A-Za-z_\-]{35})"),
        ("anthropic-api-key", r"(?<![A-Za-z0-9_-])(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{20,})"),
        (
            "openai-api-key",
            (
                r"(?<![A-Za-z0-9_-])(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}"
                r"|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})"
            ),
        ),
        ("huggingface-token", r"\b(hf_[A-Za-z]{34})\b"),
        ("npm-token", r"\b(npm_[A-Za-z0-9]{36})\b"),
        ("jwt", r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}+\.eyJ[A-Za-z0-9_-]{10,}+\.[A-Za-z0-9_-]{10,}+)"),
        # The scheme is read from where it starts, at most 32 characters, so a long run of
        # letters is not re-read from every position; a placeholder password is not a secret.
        (
            "url-credentials",
            (
                r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}+://[^/\s:@\"']++:"
                r"(?!(?:pass(?:word)?|pwd|secret|\*++|x++|<[^>@\s]*+>|\$\{[^}@\s]*+\})@)([^@\s/\"']{3,}+)@"
            ),
        ),
    ]
]


def credential_spans(text: str) -> list[tuple[str, int, int]]:
    """(rule, start, end) of every credential-shaped string in `text`, in rule order."""
    found: list[tuple[str, int, int]] = []
    for name, pattern in CREDENTIAL_RULES:
        for match in pattern.finditer(text):
            start, end = match.span(1) if match.groups() else match.span()
            found.append((name, start, end))
    return found
