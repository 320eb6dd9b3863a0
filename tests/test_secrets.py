"""Secrets in reviewed code: what is caught, what is not, and what is sent.

The true positives are credentials in the formats their issuers use (built here from
pieces so that this file itself holds no scannable secret); the false positives are the
look-alikes a scanner must leave alone: placeholders, environment lookups, hashes of
nothing, ordinary identifiers.
"""

from __future__ import annotations

import json

import pytest

from app.secrets import redact_line, redact_lines, scan_line
from tests.fakeserver import Reply

# Assembled at run time: a literal key in a test file is still a literal key in a repo.
AKIA = "AKIA" + "IOSFODNN7Q2XW4KZ"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ANT = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA"
OAI = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"
SLACK = "xoxb-" + "2400817493-5523018-QrStUvWxYz"
STRIPE = "sk_live_" + "51HaBcDeFgHiJkLmNoPq"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
GOOGLE = "AIza" + "SyD4f8Kq2LmN0pQrStUvWxYz123456789AB"

TRUE_POSITIVES = [
    (f'AWS_ACCESS_KEY_ID = "{AKIA}"', "aws-access-key-id", AKIA),
    (f"token: {GHP}", "github-token", GHP),
    (f'client = Anthropic(api_key="{ANT}")', "anthropic-api-key", ANT),
    (f"OPENAI_API_KEY={OAI}", "openai-api-key", OAI),
    (f'slack = WebClient("{SLACK}")', "slack-token", SLACK),
    (f'stripe.api_key = "{STRIPE}"', "stripe-key", STRIPE),
    (f"Authorization: Bearer {JWT}", "jwt", JWT),
    (f'MAPS_KEY = "{GOOGLE}"', "google-api-key", GOOGLE),
    ('DATABASE_URL = "postgres://app:Xk29fLq8Zp@db.internal:5432/orders"', "url-credentials", "Xk29fLq8Zp"),
    ('PARTNER_API_TOKEN = "invk_live_93be1f0c55d2a7e4b6"', "generic-secret", "invk_live_93be1f0c55d2a7e4b6"),
    ("db_password: 'T7#qLz!9vR2m'", "generic-secret", "T7#qLz!9vR2m"),
]

FALSE_POSITIVES = [
    'password = os.environ["DB_PASSWORD"]',
    'API_KEY = "changeme"',
    'token = "${GITHUB_TOKEN}"',
    'secret = "<your-secret-here>"',
    'password = "xxxxxxxxxxxx"',
    'TOKEN_HEADER = "Authorization"',
    'def rotate_access_key(user, old_key):',
    'password_hash = hashlib.sha256(password.encode()).hexdigest()',
    'sha = "d480b167a9b7380f9b0f516dfa67e211ed5c809b"',  # a commit hash is not a credential
    'logger.info("token refreshed for %s", user)',
    'const TOKEN_TTL_SECONDS = 3600;',
    'token_param = "max_completion_tokens"',
    'api_key_env = "OPENAI_API_KEY"',
]


@pytest.mark.parametrize(("line", "rule", "secret"), TRUE_POSITIVES, ids=[t[1] + str(n) for n, t in
                                                                         enumerate(TRUE_POSITIVES)])
def test_credentials_are_caught_and_only_they_are_redacted(line, rule, secret):
    hits = scan_line(line)
    assert [h[0] for h in hits] == [rule]
    redacted, rules = redact_line(line)
    assert secret not in redacted and f"[REDACTED:{rule}]" in redacted
    assert redacted.replace(f"[REDACTED:{rule}]", secret) == line  # nothing else changed


@pytest.mark.parametrize("line", FALSE_POSITIVES)
def test_look_alikes_are_left_alone(line):
    assert scan_line(line) == []


def test_private_key_blocks_are_blanked_line_for_line():
    lines = ["KEY = '''", "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA7", "Zm9vYmFy", "-----END RSA PRIVATE KEY-----",
             "'''", "print('after')"]
    redacted, hits = redact_lines(lines)
    assert len(redacted) == len(lines) and redacted[6] == "print('after')"
    assert all(line == "[REDACTED:private-key]" for line in redacted[1:5])
    assert [(h.line, h.rule) for h in hits] == [(2, "private-key")]


def _keyed_file(tmp_path):
    path = tmp_path / "deploy.py"
    path.write_text(f'import boto3\n\nAWS_KEY = "{AKIA}"\n\n\ndef client():\n'
                    f'    return boto3.client("s3", aws_access_key_id=AWS_KEY)\n')
    return path


def _finding(evidence: str) -> str:
    return json.dumps({"findings": [{"line_start": 3, "line_end": 3, "severity": "high", "category": "security",
                                     "title": "Hardcoded AWS key", "explanation": "A cloud key in source.",
                                     "suggestion": "Use the environment.", "evidence": evidence}],
                       "summary": "s", "score": 3})


def test_remote_review_sends_redacted_code_and_says_which_lines(fake, run_cli, tmp_path):
    path = _keyed_file(tmp_path)
    fake.script(Reply(text=_finding(f'AWS_KEY = "{AKIA}"')))  # even a model that echoes a secret...
    result = run_cli("review", str(path), "-p", "anthropic:claude-haiku-4-5", "--format", "json")
    assert result.code == 0
    sent = json.dumps(fake.requests[0].body)
    assert AKIA not in sent and 'AWS_KEY = \\"[REDACTED:aws-access-key-id]\\"' in sent
    assert "line 3 (aws-access-key-id) was redacted before sending" in result.stderr
    data = json.loads(result.stdout)
    assert AKIA not in result.stdout  # ...has it redacted in every output
    [finding] = data["result"]["findings"]
    assert finding["line_start"] == 3 and finding["lines_valid"]
    assert [c["name"] for c in data["checks"]] == ["secrets_redacted"]  # the quote still matched line 3


def test_allow_secrets_sends_as_is_with_a_warning(fake, run_cli, tmp_path):
    path = _keyed_file(tmp_path)
    fake.script(Reply(text=_finding(f'AWS_KEY = "{AKIA}"')))
    result = run_cli("review", str(path), "-p", "openai:gpt-5.4-mini", "--allow-secrets", "--format", "json")
    assert result.code == 0
    assert AKIA in json.dumps(fake.requests[0].body)
    assert "as it is (--allow-secrets)" in result.stderr
    assert "secrets_sent" in [c["name"] for c in json.loads(result.stdout)["checks"]]


def test_a_local_model_gets_the_code_as_it_is(tmp_path):
    from types import SimpleNamespace

    from app.review_cli import apply_secret_policy
    from app.source import load_source

    path = _keyed_file(tmp_path)
    source = load_source(str(path), path.read_text())
    kept, flags = apply_secret_policy(source, SimpleNamespace(kind="local", spec="local:smollm2"), allow=False)
    assert kept is source and AKIA in kept.line(3)
    assert [(f.name, f.severity) for f in flags] == [("secrets_present", "info")]


def test_pasted_text_is_redacted_the_same_way(fake, run_cli):
    fake.script(Reply(text="Rotate the key."))
    pasted = f"02:14 deploy failed\n02:15 env dump: AWS_ACCESS_KEY_ID={AKIA}\n02:16 rollback started\n"
    result = run_cli("ask", "-p", "anthropic", "-", stdin=pasted)
    assert result.code == 0
    sent = json.dumps(fake.requests[0].body)
    assert AKIA not in sent and "[REDACTED:aws-access-key-id]" in sent and "02:16 rollback started" in sent
    assert "line 2 (aws-access-key-id) of the prompt was redacted" in result.stderr
