"""History as a user meets it: runs recorded by real `driftcheck review` processes against
the fake server, read back with `driftcheck history`, including a process killed with
SIGKILL mid-stream, two processes writing at once, and a damaged database file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from app.errors import StoreError
from app.history.store import SCHEMA_VERSION, Store
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_code/inventory_service.py"
HAIKU = "anthropic:claude-haiku-4-5"


def _history_json(run_cli, *args: str) -> dict:
    result = run_cli("history", *args, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _db(cli_env) -> Path:
    return Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db"


def test_a_review_is_recorded_with_its_call_and_result(fake, run_cli, cli_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=3), input_tokens=1500, output_tokens=700))
    review = run_cli("review", SAMPLE, "-p", HAIKU, "--format", "json")
    assert review.code == 0
    run_id = review.stderr.split("recorded as ", 1)[1].split()[0]
    [listed] = _history_json(run_cli, "list")["runs"]
    assert (listed["id"], listed["task"], listed["status"], listed["score"], listed["calls"]) == (
        run_id,
        "review",
        "ok",
        3,
        1,
    )
    assert listed["cost_usd"] == pytest.approx(1500 * 1e-6 + 700 * 5e-6)
    run = _history_json(run_cli, "show", run_id)
    assert run["result"] == json.loads(review.stdout)  # exactly what was printed
    [call] = run["calls"]
    assert (call["role"], call["provider"], call["model"], call["status"]) == (
        "candidate",
        "anthropic",
        "claude-haiku-4-5",
        "ok",
    )
    assert (call["input_tokens"], call["output_tokens"]) == (1500, 700) and call["ttft_ms"] > 0
    assert call["parsed"]["score"] == 3 and call["text"].startswith('{"findings"')
    assert run["input_sha256"] == json.loads(review.stdout)["input"]["sha256"]
    mode = stat.S_IMODE(_db(cli_env).stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(_db(cli_env).parent.stat().st_mode) == 0o700


def test_a_failed_review_keeps_the_partial_text(fake, run_cli):
    text = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=text, chunk_size=20, drop_after=30))
    review = run_cli("review", SAMPLE, "-p", HAIKU, "--format", "json")
    assert review.code == 3
    [listed] = _history_json(run_cli, "list", "--status", "failed")["runs"]
    run = _history_json(run_cli, "show", listed["id"])
    [call] = run["calls"]
    assert call["status"] == "failed" and call["error_kind"] == "interrupted"
    assert call["text"] == text[:600]
    shown = run_cli("history", "show", listed["id"])
    assert "text received (600 characters)" in shown.stdout


def _latest_call_text(db: Path) -> str:
    """The newest call's text, or "" while the run has not got that far: the file exists
    (created 0600 first) a moment before its tables do, and a poll can land in between."""
    if not db.exists():
        return ""
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT text FROM calls ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # no such table yet, or the writer holds a lock
        return ""
    return row[0] if row else ""


def test_polling_a_history_file_created_but_not_yet_migrated_reads_nothing(tmp_path):
    # The flake this guards: the poll below once ran between the file's creation and its
    # first migration, and failed with "no such table: calls".
    db = tmp_path / "history.db"
    db.touch()
    assert _latest_call_text(db) == ""


def test_sigkill_mid_stream_leaves_an_interrupted_run_with_the_checkpointed_text(fake, run_cli, cli_env):
    text = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=text, chunk_size=16, chunk_delay_s=0.03))  # ~8 s of streaming
    # A real process: SIGKILL is the point, and what history sees after it is a dead pid.
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "review", SAMPLE, "-p", HAIKU],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpointed = ""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and len(checkpointed) < 200:
            time.sleep(0.2)
            checkpointed = _latest_call_text(_db(cli_env))
        assert proc.poll() is None, "the review ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert checkpointed and text.startswith(checkpointed)

    [run] = _history_json(run_cli, "list")["runs"]
    assert run["status"] == "interrupted"
    [call] = _history_json(run_cli, "show", run["id"])["calls"]
    assert call["status"] == "interrupted"
    # At most the last second is lost: what was checkpointed is all there, and is the reply's start.
    assert len(call["text"]) >= len(checkpointed) and text.startswith(call["text"])


def test_two_processes_record_at_once(fake, cli_env):
    fake.script(
        *[Reply(text=keyed_review_text("inventory_service.py"), chunk_size=40, chunk_delay_s=0.01) for _ in range(2)]
    )
    # Real processes: two SQLite connections in two processes writing one database is the point.
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "review", SAMPLE, "-p", HAIKU, "--format", "json"],
            cwd=ROOT,
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "history stopped" not in err and "history is off" not in err, err
    with sqlite3.connect(_db(cli_env)) as conn:
        assert conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall() == [("ok", 2)]
        assert conn.execute("SELECT COUNT(*) FROM calls WHERE status = 'ok'").fetchone()[0] == 2


def test_diff_export_and_prune(fake, run_cli, cli_env):
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py", score=2)),
        Reply(text=keyed_review_text("inventory_service.py", drop=("bare-except",), score=4)),
    )
    for spec in (HAIKU, "openai:gpt-5.4-mini"):
        assert run_cli("review", SAMPLE, "-p", spec, "--format", "json").code == 0
    newest, oldest = [r["id"] for r in _history_json(run_cli, "list")["runs"]]
    diff = _history_json(run_cli, "diff", oldest, newest)
    assert diff["same_input"] and diff["score"] == {"a": 2, "b": 4, "delta": 2}
    assert len(diff["matched"]) == 8 and len(diff["only_a"]) == 1 and diff["only_b"] == []
    assert diff["only_a"][0]["line"] == 49 and diff["agreement"] == round(8 / 9, 3)
    assert diff["counts"]["high"] == {"a": 4, "b": 3, "delta": -1}

    sarif = run_cli("history", "export", oldest, "--format", "sarif")
    assert sarif.code == 0
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(json.loads(sarif.stdout), schema)
    markdown = run_cli("history", "export", oldest, "--format", "markdown")
    assert "**Score 2/10.**" in markdown.stdout

    missing = run_cli("history", "show", "rNOPE")
    assert missing.code == 2 and "no run 'rNOPE' in history" in missing.stderr
    # The reviews ran inside this test's process, which is alive, and prune spares the runs
    # of live processes; each review's own process would have ended by now.
    conn = sqlite3.connect(_db(cli_env))
    with conn:
        conn.execute("UPDATE runs SET pid = ?", (_dead_pid(),))
    conn.close()
    pruned = run_cli("history", "prune", "--older-than", "0")
    assert pruned.code == 0 and "deleted 2 run(s)" in pruned.stdout
    assert _history_json(run_cli, "list")["runs"] == []


def test_no_history_records_nothing(fake, run_cli, cli_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")))
    result = run_cli("review", SAMPLE, "-p", HAIKU, "--no-history")
    assert result.code == 0 and "recorded as" not in result.stderr
    assert not _db(cli_env).exists()


def test_a_damaged_database_is_moved_aside_and_a_new_one_started(run_cli, cli_env):
    _db(cli_env).parent.mkdir(parents=True)
    _db(cli_env).write_bytes(b"this is not a database at all" * 100)
    result = run_cli("history", "list")
    assert result.code == 0
    assert "the history database was damaged; it was moved to" in result.stderr
    assert "No runs yet" in result.stdout
    assert list(_db(cli_env).parent.glob("history.db.corrupt-*"))


def test_a_database_from_a_newer_driftcheck_is_refused(tmp_path):
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer driftcheck"):
        Store.open(path)
    assert path.exists()  # not moved aside: it is not damaged


def test_interrupted_runs_of_live_processes_are_not_touched(tmp_path):
    store = Store.open(tmp_path / "h.db").store
    run_id = store.start_run("review", input_ref="x.py", input_sha256="0" * 64, providers=["a:b"])
    assert store.mark_dead_runs() == 0  # this process is alive
    store.conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (_dead_pid(), run_id))
    assert store.mark_dead_runs() == 1
    assert store.get_run(run_id)["status"] == "interrupted"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid if not _exists(proc.pid) else 2**22 + 1


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
