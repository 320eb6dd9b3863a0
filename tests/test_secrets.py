"""Secrets in reviewed code: what is caught, what is not, and what is sent.

The true positives are credentials in the formats their issuers use (built here from
pieces so that this file itself holds no scannable secret); the false positives are the
look-alikes a scanner must leave alone: placeholders, environment lookups, hashes of
nothing, ordinary identifiers.
"""

from __future__ import annotations

import json

import pytest

from app.notes import ignore
from app.source.secrets import redact_line, redact_lines, scan_line
from tests.conftest import ROOT
from tests.fakeserver import Reply
from tests.secret_corpus import ALL_SECRETS, SETTINGS_FILE, SHAPES

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
    # The shapes that used to slip through: no prefix, told by where they stand.
    (
        'fetch(url, {headers: {"Authorization": "Bearer tok_' + 'Qm7xL2pZ9vR4wK8n"}})',
        "authorization-header",
        "tok_Qm7xL2pZ9vR4wK8n",
    ),
    ("# admin password: hx4-" + "Orchid-7731", "generic-secret", "hx4-Orchid-7731"),
    ("SMTP_PASSWORD=" + "Zq81LmTw0Kx", "generic-secret", "Zq81LmTw0Kx"),  # a .env line
    (
        'CERT_SEED = "' + "Lk2Pq9Xw4Rz7Tm1Vb8Nc3Hd6Jf0Gs5Ya" + 'e2Wu7Io4Qp"',
        "base64-blob",
        "Lk2Pq9Xw4Rz7Tm1Vb8Nc3Hd6Jf0Gs5Yae2Wu7Io4Qp",
    ),
]

# A key split across string literals: every piece is redacted, whatever joins them.
SPLIT_HEAD, SPLIT_TAIL = "ghp_" + "Ab12Cd34", "Ef56Gh78Ij90Kl12Mn34Op56Qr78"
SPLIT_LINES = [
    f'gh = Github("{SPLIT_HEAD}" + "{SPLIT_TAIL}")',
    f"TOKEN = ('{SPLIT_HEAD}' '{SPLIT_TAIL}')",
    f'token = "{SPLIT_HEAD}""{SPLIT_TAIL}"',
]

FALSE_POSITIVES = [
    'password = os.environ["DB_PASSWORD"]',
    'API_KEY = "changeme"',
    'token = "${GITHUB_TOKEN}"',
    'secret = "<your-secret-here>"',
    'password = "xxxxxxxxxxxx"',
    'TOKEN_HEADER = "Authorization"',
    "def rotate_access_key(user, old_key):",
    "password_hash = hashlib.sha256(password.encode()).hexdigest()",
    'sha = "d480b167a9b7380f9b0f516dfa67e211ed5c809b"',  # a commit hash is not a credential
    'logger.info("token refreshed for %s", user)',
    "const TOKEN_TTL_SECONDS = 3600;",
    'token_param = "max_completion_tokens"',
    'api_key_env = "OPENAI_API_KEY"',
    # Near misses of the newer rules: names, types and expressions, not values.
    'headers["Authorization"] = f"Bearer {token}"',
    "# Authorization: Bearer YOUR_ACCESS_TOKEN_HERE",
    "private_key: PKCS7PrivateKeyTypes,",
    '"batch_1_day_max_input_tokens": batch_1_day_max_input_tokens,',
    "if not api_key or api_key == settings.API_KEY_PLACEHOLDER2:",
    "password = make_password(raw_password_2)",
    "token = tokens[i2]",
    "class BetaManagedAgentsAgentToolset20260401EditInput(BaseModel):",
    "# https://github.com/python/cpython/blob/3.12/Lib/typing.py#L1773-L1875",
    '"output_token": "DistributionList.NextMarker",',
    'TOKEN_ENDPOINT = "https://oauth2.example.org/v1/token2"',
    'greeting = "Hello, " + "world"',
    'url = "https://user:password@host/db"',
]


@pytest.mark.parametrize(
    ("line", "rule", "secret"), TRUE_POSITIVES, ids=[t[1] + str(n) for n, t in enumerate(TRUE_POSITIVES)]
)
def test_credentials_are_caught_and_only_they_are_redacted(line, rule, secret):
    hits = scan_line(line)
    assert [h[0] for h in hits] == [rule]
    redacted, _rules = redact_line(line)
    assert secret not in redacted and f"[REDACTED:{rule}]" in redacted
    assert redacted.replace(f"[REDACTED:{rule}]", secret) == line  # nothing else changed


@pytest.mark.parametrize("line", FALSE_POSITIVES)
def test_look_alikes_are_left_alone(line):
    assert scan_line(line) == []


@pytest.mark.parametrize("line", SPLIT_LINES)
def test_a_key_split_across_literals_is_redacted_in_every_piece(line):
    redacted, rules = redact_line(line)
    assert "github-token" in rules
    assert SPLIT_HEAD not in redacted and SPLIT_TAIL not in redacted
    assert redacted.count("[REDACTED:") == 2 and redacted.startswith(line[: line.index(SPLIT_HEAD)])


def test_every_shape_in_the_sixteen_secret_file_is_redacted():
    from app.source.model import split_lines

    assert len(SHAPES) == 16 and len({shape.name for shape in SHAPES}) == 16
    for shape in SHAPES:
        lines = split_lines(shape.text)
        redacted, hits = redact_lines(lines)
        assert len(redacted) == len(lines), shape.name  # line numbers stay right
        assert not [s for s in shape.secrets if s in "\n".join(redacted)], shape.name
        assert {hit.rule for hit in hits} == {shape.rule}, shape.name


def test_certificates_and_ssh_public_keys_are_not_blobs():
    body = "Lk2Pq9Xw4Rz7Tm1Vb8Nc3Hd6Jf0Gs5Ya" + "e2Wu7Io4Qp+Ty3Re8Wq1Ui6Op9As4Df7Gh2Jk5"
    lines = [
        "-----BEGIN CERTIFICATE-----",
        body,
        "-----END CERTIFICATE-----",
        "ssh-ed25519 " + "AAAAC3NzaC1lZDI1NTE5" + "AAAAIO6q3bX9kL2vR8mT4wZ1pN7cY5hJ0sQ",
        'integrity: "sha512-' + body + '=="',
    ]
    assert redact_lines(lines) == (lines, [])
    assert redact_lines([body])[1]  # the same text outside the block is a blob


def test_the_project_corpora_hold_only_the_planted_secret():
    """What the scanner finds in the sample code, incidents and prompts: the one token
    planted in inventory_service.py (a false positive here would redact code the model
    needs to see)."""
    from app.source.model import split_lines

    found = []
    for folder in ("sample_code", "incidents", "prompts"):
        for path in sorted((ROOT / folder).iterdir()):
            if path.is_file():
                found += [
                    (f"{folder}/{path.name}", hit.line, hit.rule)
                    for hit in redact_lines(split_lines(path.read_text()))[1]
                ]
    assert found == [("sample_code/inventory_service.py", 15, "generic-secret")]


def test_private_key_blocks_are_blanked_line_for_line():
    lines = [
        "KEY = '''",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEA7",
        "Zm9vYmFy",
        "-----END RSA PRIVATE KEY-----",
        "'''",
        "print('after')",
    ]
    redacted, hits = redact_lines(lines)
    assert len(redacted) == len(lines) and redacted[6] == "print('after')"
    assert all(line == "[REDACTED:private-key]" for line in redacted[1:5])
    assert [(h.line, h.rule) for h in hits] == [(2, "private-key")]


def _keyed_file(tmp_path):
    path = tmp_path / "deploy.py"
    path.write_text(
        f'import boto3\n\nAWS_KEY = "{AKIA}"\n\n\ndef client():\n'
        f'    return boto3.client("s3", aws_access_key_id=AWS_KEY)\n'
    )
    return path


def _finding(evidence: str) -> str:
    return json.dumps(
        {
            "findings": [
                {
                    "line_start": 3,
                    "line_end": 3,
                    "severity": "high",
                    "category": "security",
                    "title": "Hardcoded AWS key",
                    "explanation": "A cloud key in source.",
                    "suggestion": "Use the environment.",
                    "evidence": evidence,
                }
            ],
            "summary": "s",
            "score": 3,
        }
    )


def test_remote_review_sends_redacted_code_and_says_which_lines(fake, run_cli, tmp_path):
    path = _keyed_file(tmp_path)
    fake.script(Reply(text=_finding(f'AWS_KEY = "{AKIA}"')))  # even a model that echoes a secret...
    result = run_cli("review", str(path), "-p", "anthropic:claude-haiku-4-5", "--format", "json")
    assert result.code == 0
    sent = json.dumps(fake.requests[0].body)
    assert AKIA not in sent and 'AWS_KEY = \\"[REDACTED:aws-access-key-id]\\"' in sent
    assert (
        f"line 3 (aws-access-key-id) of {path} was redacted before sending to anthropic:claude-haiku-4-5"
        in result.stderr
    )
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

    from app.review.plan import redacted_source
    from app.source.model import load_source

    path = _keyed_file(tmp_path)
    source = load_source(str(path), path.read_text())
    kept, flags = redacted_source(
        source, [SimpleNamespace(kind="local", spec="local:smollm2")], allow=False, notify=ignore
    )
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


# --- every path a user's text takes to a provider -----------------------------------------


def _leaks(texts: list[str]) -> list[str]:
    """Which of the sixteen files' secrets appear in any of `texts`."""
    return [secret for secret in ALL_SECRETS if any(secret in text for text in texts)]


def _sent(fake) -> list[str]:
    return [json.dumps(request.body) for request in fake.requests]


def _history_bytes(cli_env) -> list[str]:
    """Every file in the data directory (history.db and its WAL), as text."""
    from pathlib import Path

    return [
        path.read_bytes().decode("utf-8", "replace")
        for path in Path(cli_env["DRIFTCHECK_DATA_DIR"]).rglob("*")
        if path.is_file()
    ]


def test_the_sixteen_secret_file_reaches_neither_the_server_nor_history(fake, run_cli, cli_env, tmp_path):
    path = tmp_path / "settings.py"
    path.write_text(SETTINGS_FILE)
    fake.script(Reply(text=json.dumps({"findings": [], "summary": "Settings only.", "score": 5})))
    result = run_cli("review", str(path), "-p", "anthropic:claude-haiku-4-5", "--format", "json")
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 1 and _leaks(_sent(fake)) == []
    assert _history_bytes(cli_env) and _leaks(_history_bytes(cli_env)) == []
    assert "[REDACTED:authorization-header]" in _sent(fake)[0] and "[REDACTED:base64-blob]" in _sent(fake)[0]


def test_a_system_prompt_is_redacted_like_the_prompt(fake, run_cli, cli_env):
    fake.script(Reply(text="Noted."))
    result = run_cli("ask", "Summarise these settings.", "--system", SETTINGS_FILE, "-p", "anthropic:claude-haiku-4-5")
    assert result.code == 0, result.stderr
    [request] = fake.requests
    assert _leaks(_sent(fake)) == [] and "[REDACTED:aws-access-key-id]" in request.body["system"]
    assert "of the system prompt was redacted before sending to anthropic:claude-haiku-4-5" in result.stderr
    assert _leaks(_history_bytes(cli_env)) == []


def test_allow_secrets_sends_a_system_prompt_as_it_is_and_warns(fake, run_cli):
    fake.script(Reply(text="Noted."))
    result = run_cli(
        "ask", "hi", "--system", f"deploy with {ALL_SECRETS[2]}", "-p", "openai:gpt-5.4-mini", "--allow-secrets"
    )
    assert result.code == 0 and ALL_SECRETS[2] in _sent(fake)[0]
    assert (
        "warning: sending what looks like a secret in the system prompt (github-token) to openai:gpt-5.4-mini as it is"
        in result.stderr
    )


def test_context_values_reach_neither_the_answer_nor_the_repair_request_nor_history(fake, run_cli, cli_env):
    from tests.fake_triage import answer_text

    github, password = ALL_SECRETS[2], "Vx7" + "qL2mR9tZ4"
    fake.script(Reply(text='{"severity": "P2"'), Reply(text=answer_text("pg-storage.md", "active")))
    result = run_cli(
        "triage",
        "incidents/pg-storage.md",
        "-p",
        "anthropic:claude-haiku-4-5",
        "--format",
        "json",
        "--context",
        f"note=deploys use token {github}",
        "--context",
        f"db_password={password}",
        "--context",
        "users_affected=30%",
    )
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 2  # the answer, then the repair turn that repeats the prompt
    sent = _sent(fake)
    assert not [s for s in (github, password) if any(s in body for body in sent)]
    assert "users_affected" not in sent[0] and "30%" in sent[0]  # what is not a secret is sent as it is
    data = json.loads(result.stdout)
    assert data["context"] == {
        "note": "deploys use token [REDACTED:github-token]",
        "db_password": "[REDACTED:generic-secret]",
        "users_affected": "30%",
    }
    assert "what looks like a secret in --context note (github-token) was redacted before sending" in result.stderr
    assert "in --context db_password (generic-secret) was redacted" in result.stderr
    assert not [s for s in (github, password) if any(s in text for text in _history_bytes(cli_env))]


def _provider(spec: str, **extra):
    from types import SimpleNamespace

    return SimpleNamespace(spec=spec, kind=spec.split(":")[0], **extra)


def test_everyone_who_reads_the_text_or_an_answer_made_from_it_counts():
    """Local-only text stays as it is; a remote judge of a local answer, or a remote
    fallback behind a local model, makes it leave the machine."""
    from app.calls.outbound import outbound

    text = SETTINGS_FILE
    local, remote = _provider("local:smollm2"), _provider("anthropic:claude-haiku-4-5")
    alone = outbound(text, [local], allow=False, label="the incident", notify=ignore)
    assert alone.text == text and alone.check.name == "secrets_present"
    for audience in ([local, remote], [_provider("local:smollm2", chain=[local, remote])]):
        sent = outbound(text, audience, allow=False, label="the incident", notify=ignore)
        assert sent.redacted and _leaks([sent.text]) == [], audience
        assert len(sent.text.splitlines()) == len(text.splitlines()) and sent.text.endswith("\n")


def test_a_triage_judged_remotely_redacts_the_incident_for_a_local_candidate():
    from app.run.triage import redacted_for
    from app.source.inputs import decode_text

    incident = decode_text(f"checkout 500s since 02:10, deploy log shows {ALL_SECRETS[2]}\n".encode(), "-")
    local, judge = _provider("local:smollm2"), _provider("openai:gpt-5.4-mini")
    sent, flags, context = redacted_for(
        [local, judge], incident, [], {"note": f"x {ALL_SECRETS[0]}"}, allow=False, notify=ignore
    )
    assert _leaks([sent.text, *context.values()]) == []
    assert [f.name for f in flags] == ["secrets_redacted", "secrets_redacted"]
    kept, _, context = redacted_for([local], incident, [], {"note": "plain"}, allow=False, notify=ignore)
    assert kept is incident and context == {"note": "plain"}


# --- scanning is linear in its input ----------------------------------------------------------

# Each took minutes to hours under the old rules: a rule that re-read a run of characters
# from every position in it (quadratic), or tried every split of a run between two
# adjacent quantifiers. tests/perf/secret_scan.py measures the time per MB.
PATHOLOGICAL = [
    'BLOB = "' + "a" * 60_000 + '"',  # the file: 173 s at 32,000 characters
    "secret." * 8_000,  # a name made of credential words, dot after dot
    "glpat-" * 10_000,
    "xoxb-" * 10_000,
    "sk-ant-api03-" * 5_000,
    "eyJhb-" * 10_000,
    "a." * 30_000 + "://",  # a URL scheme that never ends
    "aws key " * 8_000,
    '"a9" + ' * 8_000,  # string literals joined by +
    "Bearer " * 8_000,
    "password: " * 6_000,
    "Zm9v" * 15_000,
    "ignore" + " " * 60_000 + "instructions",  # the injection scan: \s+ next to \s*
    "give this " + " " * 60_000 + "10/10",
]


def test_pathological_lines_are_scanned_promptly(tmp_path):
    """A guard, not a timed assertion: the scan runs in a subprocess that the old rules
    would have kept busy for hours; it fails by not finishing."""
    import subprocess
    import sys

    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps(PATHOLOGICAL))
    script = (
        "import json, sys\nfrom app.source.secrets import redact_lines\nfrom app.source.injection import scan_lines\n"
        "for line in json.load(open(sys.argv[1])):\n    redact_lines([line]); scan_lines([line])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(lines)], cwd=ROOT, timeout=120, check=True)


def test_a_huge_config_value_is_set_and_read_promptly(run_cli):
    """`config set` scans the file it writes for keys; the old rule was still running after
    17 minutes on this value."""
    result = run_cli("config", "set", "default", "anthropic:" + "x" * 100_000, timeout=60)
    assert result.code == 0 and "default set" in result.stderr


def test_a_long_pasted_line_is_redacted_promptly(fake, run_cli):
    fake.script(Reply(text="Noted."))
    line = 'BLOB = "' + "a" * 64_000 + f'" and the deploy key {ALL_SECRETS[0]}\n'
    result = run_cli("ask", "-p", "anthropic:claude-haiku-4-5", "-", stdin=line, timeout=60)
    assert result.code == 0 and ALL_SECRETS[0] not in _sent(fake)[0]
