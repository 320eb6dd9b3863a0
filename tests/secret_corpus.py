"""Sixteen kinds of secret as they turn up in a real settings module: the credential
formats issuers use, and the shapes that have no prefix and are told by where they stand
(a Bearer or Basic header, a password in a comment, a base64 blob, a key split across
two string literals, an assignment to a name that says it is a credential).

Every value is assembled here from pieces, so that this file holds no scannable secret
itself; `SETTINGS_FILE` is the text a careless user might review, paste or pass as a
system prompt. Each `Shape` names the rule expected to catch it and the strings that
must never leave the machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str
    rule: str
    text: str  # the line (or lines) as written in the settings file
    secrets: tuple[str, ...]  # every piece that must be gone once redacted


def _join(*parts: str) -> str:
    return "".join(parts)


AWS_KEY_ID = _join("AKIA", "W7QX", "2LMP", "9RTZ", "4KBN")
AWS_SECRET = _join("hT3q", "Zp8vLw2N", "x/Kc5RbY", "m4GsQj7e", "Fu1Ad9Wo", "Xi6+")
GITHUB = _join("ghp", "_", "R4nd0mG1tHubT0k3nW1th", "Thirty6Chars007")
SLACK = _join("xoxb", "-", "90417723301", "-", "5521889034", "-", "uVd9TqLm2Rs7Xw4Kp1Zc")
STRIPE = _join("sk", "_live_", "51Nc8QpLmZ", "v3Xr7Tw2Ks")
GOOGLE = _join("AI", "za", "SyB7kQ2mLx9", "Rw4Tz8Vn1Pc", "5Hd3Jg6Fs0EaQ")
JWT = _join(
    "ey",
    "JhbGciOiJIUzI1NiJ9",
    ".",
    "ey",
    "JzdWIiOiJvcHMtYm90IiwiZXhwIjoxOTAwMDAwMDAwfQ",
    ".",
    "Wq8dK2mZpR7vXc4LnT9bYs3HfJ6gA1eU0oIkQ5wNtVy",
)
DB_PASSWORD = _join("Vx7", "qL2", "mR9", "tZ4")
KEY_BODY = (_join("MIIEow", "IBAAKCAQEAx2Lq9Vb7Rk3ZtNw8pYs4Hd1Jf6"), _join("Gm0Ce5Ua2XoKi9", "Tq3Lr7Wv8Zs1Bn4Md6Fh"))
BEARER = _join("tok", "_", "9fK2mQ7x", "Lp4Rz8Wv", "1Nb6")
COMMENT_PASSWORD = _join("s3cr3t", "-", "Lantern", "-", "2291")
BLOB = _join("q2Vh8RzL0mXw", "4TpN7cK1yBd9", "GfJ3sA6uEo5i", "Ht2WnZ8rQk4M", "vP7xLc1b")
SPLIT = (_join("ghp", "_", "Sp1it"), _join("Acr0ssTw0L1ter4lsXy", "Z98765432abc"))
WEBHOOK = _join("whsec", "_", "7Hq2Lx9Pz4", "Vb8Nk3Tm6R")
ANTHROPIC = _join("sk", "-ant-", "api03", "-", "Yk4Rm8Tq2Lx7Wz", "9Pc3Nv6Bs1Hd5J")
BASIC = _join("ZGVwbG95", "OnBhNXM3", "dzByZC0y", "MDI1")  # base64 of a user:password pair

SHAPES: list[Shape] = [
    Shape("aws access key id", "aws-access-key-id", f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"', (AWS_KEY_ID,)),
    Shape("aws secret access key", "aws-secret-access-key", f"# aws_secret_access_key = {AWS_SECRET}", (AWS_SECRET,)),
    Shape("github token", "github-token", f"    #   GITHUB_TOKEN: {GITHUB}", (GITHUB,)),
    Shape("slack bot token", "slack-token", f'slack = WebClient(token="{SLACK}")', (SLACK,)),
    Shape("stripe live key", "stripe-key", f'stripe.api_key = "{STRIPE}"', (STRIPE,)),
    Shape(
        "google api key",
        "google-api-key",
        f'GEOCODE_URL = "https://maps.googleapis.com/maps/api/geocode/json?key={GOOGLE}"',
        (GOOGLE,),
    ),
    Shape("jwt in a header", "jwt", f'requests.get(STATUS_URL, headers={{"X-Session": "{JWT}"}})', (JWT,)),
    Shape(
        "credentials in a url",
        "url-credentials",
        f'DATABASE_URL = "postgres://billing:{DB_PASSWORD}@db.internal:5432/billing"',
        (DB_PASSWORD,),
    ),
    Shape(
        "private key block",
        "private-key",
        "SIGNING_KEY = '''\n-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(KEY_BODY)
        + "\n-----END RSA PRIVATE KEY-----\n'''",
        KEY_BODY,
    ),
    Shape("bearer header", "authorization-header", f'HEADERS = {{"Authorization": "Bearer {BEARER}"}}', (BEARER,)),
    Shape(
        "password in a comment",
        "generic-secret",
        f"# staging box password: {COMMENT_PASSWORD} (rotate monthly)",
        (COMMENT_PASSWORD,),
    ),
    Shape("base64 blob", "base64-blob", f'SEED = base64.b64decode("{BLOB}")', (BLOB,)),
    Shape("token split across literals", "github-token", f'gh = Github("{SPLIT[0]}" + "{SPLIT[1]}")', SPLIT),
    Shape("assignment to a credential name", "generic-secret", f'WEBHOOK_SECRET = "{WEBHOOK}"', (WEBHOOK,)),
    Shape("anthropic key in env style", "anthropic-api-key", f"ANTHROPIC_API_KEY={ANTHROPIC}", (ANTHROPIC,)),
    Shape(
        "basic auth header",
        "authorization-header",
        f'# curl -H "Authorization: Basic {BASIC}" https://deploy.internal/hooks',
        (BASIC,),
    ),
]

SETTINGS_FILE = (
    "\n".join(
        [
            '"""Settings for the billing service (do not commit real values)."""',
            "import base64",
            "",
            "import requests",
            "import stripe",
            "from github import Github",
            "from slack_sdk import WebClient",
            "",
            "STATUS_URL = 'https://status.internal/health'",
            *(shape.text for shape in SHAPES),
            "",
            "",
            "def charge(customer_id: str, cents: int) -> None:",
            "    stripe.Charge.create(customer=customer_id, amount=cents, currency='eur')",
        ]
    )
    + "\n"
)

ALL_SECRETS: tuple[str, ...] = tuple(secret for shape in SHAPES for secret in shape.secrets)
