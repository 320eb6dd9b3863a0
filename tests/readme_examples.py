"""Regenerate the example outputs shown in README, against the fake provider server.

    python3 -m tests.readme_examples review    # the `driftcheck review` example
    python3 -m tests.readme_examples history   # two reviews, then `history` and `history diff`
    python3 -m tests.readme_examples triage    # the judged triage example

The models' answers are scripted (the review from the sample's answer key with one issue
left out and every line one off; the triage and verdicts as written below); everything
else — streaming, validation, checks, metrics, history — is driftcheck's own work.
Timings and request ids differ from run to run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.fake_reviews import keyed_review_text
from tests.fakeserver import FakeServer, Reply

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_code/inventory_service.py"

PG_ANSWER = {
    "actions": [
        {"priority": 1, "action": "Find what is growing: du -sh $PGDATA/* and check pg_replication_slots for an "
                                  "inactive slot holding WAL", "owner": "on-call DBA", "timeline": "now"},
        {"priority": 2, "action": "Expand the volume once more to buy headroom while you dig",
         "owner": "platform on-call", "timeline": "within 15 minutes"},
        {"priority": 3, "action": "If a stale slot holds WAL, drop it after confirming no consumer uses it",
         "owner": "on-call DBA", "timeline": "within 30 minutes"},
        {"priority": 4, "action": "Check autovacuum: n_dead_tup and last_autovacuum in pg_stat_user_tables",
         "owner": "on-call DBA", "timeline": "within 1 hour"},
        {"priority": 5, "action": "Postpone the 01:00 finance batch unless growth has stopped",
         "owner": "incident commander", "timeline": "before 00:30"}],
    "severity": "P2",
    "severity_reason": "No user impact yet, but at ~1.5%/hour the primary fills before the 01:00 batch.",
    "root_cause": {"summary": "WAL retained by an inactive replication slot or failing archiving, with bloat "
                              "adding to it.", "confidence": "medium",
                   "evidence": ["growth despite two expansions", "CPU and memory rising with disk"]},
    "escalation": {"decision": "escalate now", "reason": "The database team should own this before the batch window."},
    "cautions": ["Do not run VACUUM FULL: it locks the table and needs free space the primary does not have.",
                 "Do not delete files in pg_wal by hand."]}
VERDICTS = {
    "gpt-5.4-mini": {"diagnosis_reason": "Names retained WAL and bloat, the likely causes, and ties CPU/memory to "
                                         "them.", "diagnosis": 5,
                     "quality_reason": "Sequenced, owned and timed; warns against VACUUM FULL.", "quality": 5},
    "claude-sonnet-4-6": {"diagnosis_reason": "Right direction; does not mention checking archive_command "
                                              "failures.", "diagnosis": 4,
                          "quality_reason": "Actionable and safe.", "quality": 5},
}


def _run(server: FakeServer, data_dir: str, *args: str) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": server.anthropic_base_url, "OPENAI_BASE_URL": server.openai_base_url,
           "ANTHROPIC_API_KEY": "readme-example", "OPENAI_API_KEY": "readme-example", "COLUMNS": "100",
           "DRIFTCHECK_DATA_DIR": data_dir}
    print(f"$ driftcheck {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, check=False)


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "review"
    server = FakeServer().start()
    with tempfile.TemporaryDirectory() as data_dir:
        if scenario == "review":
            server.script(Reply(text=keyed_review_text("inventory_service.py", drop=("division-by-zero",), shift=1,
                                                       score=2), input_tokens=1850, output_tokens=1020))
            _run(server, data_dir, "review", SAMPLE, "-p", "anthropic:claude-haiku-4-5", "--no-history")
        elif scenario == "history":
            server.script(Reply(text=keyed_review_text("inventory_service.py", drop=("division-by-zero",), score=2)),
                          Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except", "pickle-untrusted"),
                                                       score=4)))
            for spec in ("anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"):
                _run(server, data_dir, "review", SAMPLE, "-p", spec)
            _run(server, data_dir, "history")
            listing = subprocess.run([sys.executable, "-m", "app", "history", "--format", "json"], cwd=ROOT,
                                     env={**os.environ, "DRIFTCHECK_DATA_DIR": data_dir}, capture_output=True,
                                     text=True, check=True)
            newest, oldest = [r["id"] for r in json.loads(listing.stdout)["runs"]]
            _run(server, data_dir, "history", "diff", oldest, newest)
        elif scenario == "triage":
            server.script(Reply(text=json.dumps(PG_ANSWER), input_tokens=1150, output_tokens=610),
                          model="claude-haiku-4-5")
            for model, verdict in VERDICTS.items():
                server.script(Reply(text=json.dumps(verdict)), model=model)
            _run(server, data_dir, "triage", "incidents/pg-storage.md", "-p", "anthropic:claude-haiku-4-5",
                 "--judge", "openai:gpt-5.4-mini", "--judge", "anthropic:claude-sonnet-4-6",
                 "--context", "customer_facing=no", "--no-history")
        else:
            sys.exit(f"unknown scenario {scenario!r}: review, history or triage")
    server.stop()


if __name__ == "__main__":
    main()
