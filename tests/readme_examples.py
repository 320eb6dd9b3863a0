"""Regenerate the example outputs in README.md and docs/commands.md, against the fake provider server.

    python3 -m tests.readme_examples review     # the `driftcheck review` example
    python3 -m tests.readme_examples compare    # a compare of two providers on one file
    python3 -m tests.readme_examples triage     # the judged triage example
    python3 -m tests.readme_examples history    # two reviews, then `history` and `history diff`
    python3 -m tests.readme_examples ask        # one streamed answer and its metrics line
    python3 -m tests.readme_examples bench      # `bench latency` on a heavy-tailed latency profile
    python3 -m tests.readme_examples providers  # what a machine with no key sees
    python3 -m tests.readme_examples config     # `config set` and the file it writes
    python3 -m tests.readme_examples eval       # four models, two judges, six incidents (+ docs/eval-*)

The models' answers are scripted (the review from the sample's answer key with one issue
left out and every line one off; the triage and verdicts as written below); everything
else — streaming, validation, checks, metrics, history — is driftcheck's own work.
Every scenario runs in a fresh history and config directory, so nothing on this machine
changes what it prints. Timings and request ids differ from run to run.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.fake_reviews import keyed_review_text
from tests.fakeserver import FakeServer, Reply, heavy_tailed_delays

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_code/inventory_service.py"

ASK_PROMPT = "Postgres primary at 87% disk and climbing: first move?"
ASK_ANSWER = (
    "Find what is growing before you free anything: compare du -sh on the data directory with "
    "pg_wal, and check pg_replication_slots for an inactive slot holding WAL."
)

PG_ANSWER = {
    "actions": [
        {
            "priority": 1,
            "action": "Find what is growing: du -sh $PGDATA/* and check pg_replication_slots for an "
            "inactive slot holding WAL",
            "owner": "on-call DBA",
            "timeline": "now",
        },
        {
            "priority": 2,
            "action": "Expand the volume once more to buy headroom while you dig",
            "owner": "platform on-call",
            "timeline": "within 15 minutes",
        },
        {
            "priority": 3,
            "action": "If a stale slot holds WAL, drop it after confirming no consumer uses it",
            "owner": "on-call DBA",
            "timeline": "within 30 minutes",
        },
        {
            "priority": 4,
            "action": "Check autovacuum: n_dead_tup and last_autovacuum in pg_stat_user_tables",
            "owner": "on-call DBA",
            "timeline": "within 1 hour",
        },
        {
            "priority": 5,
            "action": "Postpone the 01:00 finance batch unless growth has stopped",
            "owner": "incident commander",
            "timeline": "before 00:30",
        },
    ],
    "severity": "P2",
    "severity_reason": "No user impact yet, but at ~1.5%/hour the primary fills before the 01:00 batch.",
    "root_cause": {
        "summary": "WAL retained by an inactive replication slot or failing archiving, with bloat adding to it.",
        "confidence": "medium",
        "evidence": ["growth despite two expansions", "CPU and memory rising with disk"],
    },
    "escalation": {"decision": "escalate now", "reason": "The database team should own this before the batch window."},
    "cautions": [
        "Do not run VACUUM FULL: it locks the table and needs free space the primary does not have.",
        "Do not delete files in pg_wal by hand.",
    ],
}
VERDICTS = {
    "gpt-5.4-mini": {
        "diagnosis_reason": "Names retained WAL and bloat, the likely causes, and ties CPU/memory to them.",
        "diagnosis": 5,
        "quality_reason": "Sequenced, owned and timed; warns against VACUUM FULL.",
        "quality": 5,
    },
    "claude-sonnet-4-6": {
        "diagnosis_reason": "Right direction; does not mention checking archive_command failures.",
        "diagnosis": 4,
        "quality_reason": "Actionable and safe.",
        "quality": 5,
    },
}


def _f(
    line: int,
    severity: str,
    category: str,
    title: str,
    explanation: str,
    suggestion: str,
    evidence: str,
    end: int | None = None,
) -> dict[str, object]:
    return {
        "line_start": line,
        "line_end": end or line,
        "severity": severity,
        "category": category,
        "title": title,
        "explanation": explanation,
        "suggestion": suggestion,
        "evidence": evidence,
    }


# Two reviewers of inventory_service.py that agree on most things, as two real models do:
# the same injection worded differently and rated differently, one cites a line off, each
# notices something the other does not.
COMPARE_A = {
    "score": 2,
    "summary": "Injectable SQL and shell commands and unsafe deserialisation; not safe to ship.",
    "findings": [
        _f(
            15,
            "high",
            "security",
            "Live partner token committed in source",
            "PARTNER_API_TOKEN is a live credential in the repository.",
            "Load it from the environment or a secret store.",
            'PARTNER_API_TOKEN = "invk_live_93be1f0c55d2a7e4b6"',
        ),
        _f(
            35,
            "critical",
            "security",
            "SQL injection through the item name",
            "The search-box name is formatted straight into the SQL string.",
            "Use a parameterised query.",
            "cursor.execute(f\"SELECT id, name, qty, price FROM items WHERE name = '{name}'\")",
        ),
        _f(
            42,
            "medium",
            "correctness",
            "Mutable default argument shares history between calls",
            "history=[] is created once, so every call appends to the same list.",
            "Default to None and create the list.",
            "def adjust_stock(item_id, delta, history=[]):",
        ),
        _f(
            49,
            "high",
            "error-handling",
            "Bare except hides failed stock updates",
            "Any failure, including a lost update, is silently ignored.",
            "Catch sqlite3.Error, log it and re-raise.",
            "except:",
            end=50,
        ),
        _f(
            64,
            "critical",
            "security",
            "pickle.load on an uploaded file runs arbitrary code",
            "Unpickling operator uploads executes whatever the file contains.",
            "Use JSON with a schema.",
            "return pickle.load(handle)",
        ),
        _f(
            69,
            "critical",
            "security",
            "Shell command built from the report name",
            "report_name is concatenated into a shell=True command.",
            "Pass an argument list without a shell.",
            'subprocess.call("tar czf /var/backups/reports.tgz reports/" + report_name, shell=True)',
        ),
        _f(
            73,
            "high",
            "security",
            "MD5 used to hash operator passwords",
            "MD5 is fast and unsalted; leaked hashes fall to brute force.",
            "Use argon2 or bcrypt.",
            'return hashlib.md5(password.encode("utf-8")).hexdigest()',
        ),
    ],
}
COMPARE_B = {
    "score": 4,
    "summary": "Several injection risks and weak password hashing; fix before release.",
    "findings": [
        _f(
            37,
            "high",
            "security",
            "Query built with an f-string is open to injection",
            "User input reaches the SQL text unescaped: SQL injection.",
            "Bind the name as a query parameter.",
            "cursor.execute(f\"SELECT id, name, qty, price FROM items WHERE name = '{name}'\")",
        ),
        _f(
            33,
            "medium",
            "resource-management",
            "Connection leaks in find_item",
            "find_item never closes the connection it opens.",
            "Use a with block or close it in finally.",
            "conn = connect()",
            end=39,
        ),
        _f(
            49,
            "medium",
            "correctness",
            "Exceptions swallowed by bare except",
            "Failed updates are silently ignored by the bare except.",
            "Catch specific errors and report them.",
            "except:",
            end=50,
        ),
        _f(
            64,
            "high",
            "security",
            "Untrusted pickle deserialisation",
            "Loading a pickle from an uploaded path can execute code.",
            "Switch to a safe format such as JSON.",
            "return pickle.load(handle)",
        ),
        _f(
            69,
            "critical",
            "security",
            "Command injection via shell=True",
            "The report name is passed to a shell unquoted.",
            "Use subprocess.run with a list of arguments.",
            'subprocess.call("tar czf /var/backups/reports.tgz reports/" + report_name, shell=True)',
        ),
        _f(
            73,
            "high",
            "security",
            "Weak MD5 password hashing",
            "MD5 is unsuitable for passwords.",
            "Use a slow salted hash such as bcrypt.",
            'return hashlib.md5(password.encode("utf-8")).hexdigest()',
        ),
        _f(
            80,
            "medium",
            "correctness",
            "Division by zero when the list is empty",
            "mean_unit_price divides by len(items), which can be 0.",
            "Return None or raise for an empty list.",
            "return total / len(items)",
        ),
    ],
}


@dataclass
class Workspace:
    """The fake server, and a history and config directory of this run's own."""

    server: FakeServer
    data_dir: str
    config_dir: str

    def env(self, **changes: str | None) -> dict[str, str]:
        """The environment a command runs in; a change to None removes that variable."""
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": self.server.anthropic_base_url,
            "OPENAI_BASE_URL": self.server.openai_base_url,
            "ANTHROPIC_API_KEY": "readme-example",
            "OPENAI_API_KEY": "readme-example",
            "COLUMNS": "100",
            "DRIFTCHECK_DATA_DIR": self.data_dir,
            "DRIFTCHECK_CONFIG_DIR": self.config_dir,
        }
        env.pop("LLM_PROVIDER", None)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, *args: str, **changes: str | None) -> None:
        print(f"$ driftcheck {shlex.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", "app", *args], env=self.env(**changes), cwd=ROOT, check=False)


def review(ws: Workspace) -> None:
    ws.server.script(
        Reply(
            text=keyed_review_text("inventory_service.py", drop=("division-by-zero",), shift=1, score=2),
            input_tokens=1850,
            output_tokens=1020,
        )
    )
    ws.run("review", SAMPLE, "-p", "anthropic:claude-haiku-4-5", "--no-history")


def history(ws: Workspace) -> None:
    ws.server.script(
        Reply(text=keyed_review_text("inventory_service.py", drop=("division-by-zero",), score=2)),
        Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except", "pickle-untrusted"), score=4)),
    )
    for spec in ("anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"):
        ws.run("review", SAMPLE, "-p", spec)
    ws.run("history", COLUMNS="150")  # wide enough for every column
    listing = subprocess.run(
        [sys.executable, "-m", "app", "history", "--format", "json"],
        cwd=ROOT,
        env=ws.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    newest, oldest = [r["id"] for r in json.loads(listing.stdout)["runs"]]
    ws.run("history", "diff", oldest, newest)


def triage(ws: Workspace) -> None:
    ws.server.script(Reply(text=json.dumps(PG_ANSWER), input_tokens=1150, output_tokens=610), model="claude-haiku-4-5")
    for model, verdict in VERDICTS.items():
        ws.server.script(Reply(text=json.dumps(verdict)), model=model)
    ws.run(
        "triage",
        "incidents/pg-storage.md",
        "-p",
        "anthropic:claude-haiku-4-5",
        "--judge",
        "openai:gpt-5.4-mini",
        "--judge",
        "anthropic:claude-sonnet-4-6",
        "--context",
        "customer_facing=no",
        "--no-history",
    )


def compare(ws: Workspace) -> None:
    ws.server.script(
        Reply(
            text=json.dumps(COMPARE_A),
            input_tokens=1850,
            output_tokens=1100,
            first_token_delay_s=0.9,
            chunk_delay_s=0.01,
        ),
        model="claude-haiku-4-5",
    )
    ws.server.script(
        Reply(
            text=json.dumps(COMPARE_B),
            input_tokens=1790,
            output_tokens=980,
            first_token_delay_s=0.5,
            chunk_delay_s=0.006,
        ),
        model="gpt-5.4-mini",
    )
    ws.run("compare", SAMPLE, "-a", "anthropic:claude-haiku-4-5", "-b", "openai:gpt-5.4-mini", "--no-history")


def ask(ws: Workspace) -> None:
    ws.server.script(Reply(text=ASK_ANSWER, input_tokens=24, output_tokens=58), model="claude-haiku-4-5")
    ws.run("ask", "-p", "anthropic:claude-haiku-4-5", ASK_PROMPT, "--no-history")


def bench(ws: Workspace) -> None:
    """First-token delays drawn from the seeds-shaped heavy-tailed profile, scaled by 0.1."""
    ws.server.latency_profile(
        "gpt-5.4-mini",
        heavy_tailed_delays(51, scale=0.1),
        Reply(text="Check disk growth first, then the WAL.", chunk_size=8),
    )
    ws.run("bench", "latency", "-p", "openai:gpt-5.4-mini", "-n", "50", "--no-history")


def providers(ws: Workspace) -> None:
    """A machine with no key and no config: only the bundled model (when installed) is usable."""
    ws.run("providers", ANTHROPIC_API_KEY=None, OPENAI_API_KEY=None, ANTHROPIC_BASE_URL=None, OPENAI_BASE_URL=None)


def config(ws: Workspace) -> None:
    ws.run("config", "set", "default", "anthropic:claude-haiku-4-5")
    ws.run("config", "set", "compare", "anthropic:claude-sonnet-4-6, openai:gpt-5.4-mini")
    ws.run("config", "set", "routes.triage.active", "openai:gpt-5.4-mini")
    ws.run("config", "set", "resilience.retries", "99")
    ws.run("config")


def eval_(ws: Workspace) -> None:
    """Four scripted models and two judges over the bundled incidents (tests/fake_eval.py):
    the text report, and the HTML report with its two charts saved under docs/."""
    import re

    from tests import fake_eval

    fake_eval.script(ws.server)
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    specs = ("--models", ",".join(fake_eval.MODELS), "--judges", ",".join(fake_eval.JUDGES))
    ws.run("eval", *specs)
    ws.run("eval", *specs, "--format", "html", "--out", str(docs / "eval-example.html"))
    html = (docs / "eval-example.html").read_text(encoding="utf-8")
    for name, svg in zip(("eval-cost-quality", "eval-latency"), re.findall(r"<svg.*?</svg>", html, re.S), strict=False):
        # Standalone SVG files need their namespace; the HTML report itself names no address at all.
        standalone = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" style="background:#fff" ', 1)
        (docs / f"{name}.svg").write_text(standalone + "\n", encoding="utf-8")


SCENARIOS: dict[str, Callable[[Workspace], None]] = {
    "review": review,
    "compare": compare,
    "triage": triage,
    "history": history,
    "ask": ask,
    "bench": bench,
    "providers": providers,
    "config": config,
    "eval": eval_,
}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "review"
    scenario = SCENARIOS.get(name)
    if scenario is None:
        sys.exit(f"unknown scenario {name!r}: {', '.join(SCENARIOS)}")
    server = FakeServer().start()
    # mkdtemp makes both 0700, as driftcheck wants its config directory.
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as config_dir:
        scenario(Workspace(server, data_dir, config_dir))
    server.stop()


if __name__ == "__main__":
    main()
