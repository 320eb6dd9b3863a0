"""History says "recorded" only when it is: a run whose process is alive is never pruned,
a database deleted or full while a run goes on is reported as such, an id prefix of
several runs lists them, and a data directory that cannot be written can still be read."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.history.store import Store
from tests.fake_reviews import keyed_review_text
from tests.fakeserver import Reply

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_code/inventory_service.py"
HAIKU = "anthropic:claude-haiku-4-5"


@pytest.fixture
def in_process(monkeypatch, cli_env, run_cli):
    """Run `driftcheck ARGS` in this process (run_cli): (exit code, stdout, stderr). The test
    itself runs in the CLI tests' environment too, for the TUI it may open."""
    for key in list(os.environ):
        if key.endswith(("_API_KEY", "_BASE_URL")) or key.startswith("DRIFTCHECK_") or key == "LLM_PROVIDER":
            monkeypatch.delenv(key, raising=False)
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args)
        return result.code, result.stdout, result.stderr

    return run


def _db(cli_env) -> Path:
    return Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db"


def _read(db: Path, sql: str) -> list[tuple]:
    """Rows as another process reads them, without creating the file; [] before the file
    or its tables exist."""
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return []
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def _runs(db: Path) -> list[tuple[str, str]]:
    return _read(db, "SELECT id, status FROM runs")


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        assert proc is None or proc.poll() is None, f"the review ended before {what}"
        time.sleep(0.05)


# --- prune ------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_SETPIPE_SZ"), reason="needs Linux pipe sizes")
def test_prune_never_deletes_a_run_whose_process_is_still_running(fake, run_cli, cli_env):
    import fcntl

    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_size=16, chunk_delay_s=0.01))
    # `driftcheck review ... --format json | slow-reader`: the review's JSON fills the pipe,
    # so the process is still there after its run is written as finished. A real process:
    # prune decides by whether the process that made a run is alive.
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "review", SAMPLE, "-p", HAIKU, "--format", "json"],
        cwd=ROOT,
        env=cli_env,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    db = _db(cli_env)
    try:
        _wait_for(lambda: [status for _, status in _runs(db)] == ["running"], "the run start", proc)
        during = run_cli("history", "prune", "--older-than", "0")
        assert during.code == 0 and "deleted 0 run(s)" in during.stdout
        _wait_for(lambda: [status for _, status in _runs(db)] == ["ok"], "the run finish", proc)
        assert proc.poll() is None  # still writing its output
        after_finish = run_cli("history", "prune", "--older-than", "0")
        assert after_finish.code == 0, after_finish.stderr
        assert "deleted 0 run(s)" in after_finish.stdout
        assert "kept 1 whose process is still running" in after_finish.stdout
    finally:
        with os.fdopen(read_end, "rb") as reader:
            output = reader.read()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(output) > 4096 and json.loads(output)["status"] == "ok"
    [(run_id, _)] = _runs(db)
    assert f"recorded as {run_id}" in err
    shown = run_cli("history", "show", run_id, "--format", "json")
    assert shown.code == 0 and json.loads(shown.stdout)["status"] == "ok"
    # Once its process has gone, the run is old enough for --older-than 0.
    gone = run_cli("history", "prune", "--older-than", "0")
    assert "deleted 1 run(s)" in gone.stdout and _runs(db) == []


def test_a_process_number_used_again_does_not_keep_an_old_run(tmp_path):
    store = Store.open(tmp_path / "history.db").store
    mine = store.start_run("review", input_ref="a.py", input_sha256=None, providers=["a:b"])
    store.finish_run(mine, status="ok", score=5, summary="fine", result={})
    older = store.start_run("review", input_ref="b.py", input_sha256=None, providers=["a:b"])
    store.finish_run(older, status="ok", score=5, summary="fine", result={})
    # Made and finished a day before this process started, by another that had its number.
    store.conn.execute(
        "UPDATE runs SET created_at = created_at - 86400, finished_at = finished_at - 86400 WHERE id = ?", (older,)
    )
    pruned = store.prune(0)
    assert (pruned.deleted, pruned.kept_in_progress) == (1, 1)
    assert store.get_run(mine) is not None and store.get_run(older) is None
    store.close()


# --- the final write --------------------------------------------------------------------------


def test_a_database_deleted_mid_run_is_not_reported_as_recorded(fake, in_process, cli_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_size=16, chunk_delay_s=0.01))
    db = _db(cli_env)

    def delete_when_checkpointed() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _read(db, "SELECT 1 FROM calls WHERE text != ''"):
            time.sleep(0.05)
        shutil.rmtree(db.parent)  # rm -rf ~/.local/share/driftcheck, mid-run

    deleter = threading.Thread(target=delete_when_checkpointed)
    deleter.start()
    code, out, err = in_process("review", SAMPLE, "-p", HAIKU, "--format", "json")
    deleter.join()
    assert code == 0 and json.loads(out)["status"] == "ok"
    assert "recorded as" not in err
    assert (
        f"warning: this run is not in history: the history database {db} was deleted while the run "
        f"was going; its result is only in this command's output"
    ) in err


@pytest.mark.parametrize(
    ("fills_at", "lost"),
    [
        ("finish_run", "its result was not stored (database or disk is full)"),
        (
            "finish_call",
            "history stopped recording it part way (database or disk is full), and its result was not "
            "stored (database or disk is full)",
        ),
    ],
)
def test_a_disk_that_fills_keeps_how_the_run_ended_and_says_what_was_lost(
    fake, in_process, monkeypatch, fills_at, lost
):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")))
    write = getattr(Store, fills_at)  # the call's outcome (mid-run), or the run's (the final write)

    def on_a_full_disk(store: Store, *args, **kwargs):
        # The file may not grow by one page from here on: SQLite answers SQLITE_FULL.
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        return write(store, *args, **kwargs)

    monkeypatch.setattr(Store, fills_at, on_a_full_disk)
    code, out, err = in_process("review", SAMPLE, "-p", HAIKU, "--format", "json")
    assert code == 0 and json.loads(out)["status"] == "ok"
    assert "recorded as" not in err
    run_id = err.split("warning: run ", 1)[1].split()[0]
    assert (
        f"warning: run {run_id} is in history as ok but incomplete: {lost}; the full result is in this command's output"
    ) in err
    monkeypatch.setattr(Store, fills_at, write)
    code, out, _ = in_process("history", "show", run_id, "--format", "json")
    run = json.loads(out)
    assert (run["status"], run["score"], run["result"]) == ("ok", 3, None)  # not "interrupted"
    assert run["calls"][0]["status"] == ("ok" if fills_at == "finish_run" else "interrupted")
    code, out, _ = in_process("history", "show", run_id)
    assert "its result was not stored" in out


# --- reading --------------------------------------------------------------------------------


def _stored_runs(db: Path, *ids: str) -> None:
    store = Store.open(db).store
    for n, run_id in enumerate(ids):
        store.start_run(
            "review" if n % 2 == 0 else "triage", input_ref=f"/src/f{n}.py", input_sha256=None, providers=["a:b"]
        )
        store.conn.execute(
            "UPDATE runs SET id = ?, status = 'ok', pid = NULL WHERE id = "
            "(SELECT id FROM runs ORDER BY rowid DESC LIMIT 1)",
            (run_id,),
        )
    store.close()


def test_an_id_prefix_of_several_runs_lists_them(in_process, cli_env):
    _stored_runs(_db(cli_env), "rmxaaa01", "rmxaab02", "rqqq0003")
    code, out, err = in_process("history", "show", "rmx")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "driftcheck: error: 'rmx' matches 2 runs in history; give more of the id:"
    assert [line.split()[0] for line in lines[1:]] == ["rmxaab02", "rmxaaa01"]  # newest first
    assert "triage" in lines[1] and "/src/f1.py" in lines[1] and "review" in lines[2]
    assert in_process("history", "show", "rmxaab", "--format", "json")[0] == 0  # one match: that run
    code, _, err = in_process("history", "show", "rnone")
    assert code == 2 and "no run 'rnone' in history" in err


def _without_root(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`driftcheck ARGS` as a user whom file permissions bind: root ignores them, so as
    root the command runs in a user namespace (it keeps its files, not its privilege).
    A real process: only a new process can be put in a user namespace."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("unshare") or subprocess.run(["unshare", "--user", "true"]).returncode != 0:
            pytest.skip("running as root without user namespaces: permissions cannot be tested")
        prefix = ["unshare", "--user"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "app", *args], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("read_only", ["directory", "file"])
def test_a_read_only_history_can_be_read_and_writers_run_without_it(fake, cli_env, read_only):
    db = _db(cli_env)
    _stored_runs(db, "rmxaaa01", "rmxaab02")
    conn = sqlite3.connect(db)  # a run left running by a process that is gone
    conn.execute("UPDATE runs SET status = 'running' WHERE id = 'rmxaaa01'")
    conn.commit()
    conn.close()
    locked = db.parent if read_only == "directory" else db
    mode = locked.stat().st_mode
    locked.chmod(0o555 if read_only == "directory" else 0o444)
    try:
        listed = _without_root(cli_env, "history", "list", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        runs = {r["id"]: r["status"] for r in json.loads(listed.stdout)["runs"]}
        assert runs == {"rmxaaa01": "interrupted", "rmxaab02": "ok"}  # as it is, though it cannot be marked
        shown = _without_root(cli_env, "history", "show", "rmxaab0")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("rmxaab02 · triage")
        read_only_message = (
            f"the history directory {db.parent} is read-only"
            if read_only == "directory"
            else f"the history database {db} is read-only"
        )
        pruned = _without_root(cli_env, "history", "prune", "--older-than", "0")
        assert (
            pruned.returncode == 2
            and f"cannot prune: {read_only_message}; set DRIFTCHECK_DATA_DIR to a writable directory" in pruned.stderr
        )

        fake.script(Reply(text=keyed_review_text("inventory_service.py")))
        review = _without_root(cli_env, "review", SAMPLE, "-p", HAIKU, "--format", "json")
        assert review.returncode == 0, review.stderr
        assert json.loads(review.stdout)["status"] == "ok"
        assert f"warning: history is off for this run: {read_only_message}" in review.stderr
        assert "recorded as" not in review.stderr
        if read_only == "directory":
            assert sorted(os.listdir(db.parent)) == ["history.db"]  # nothing could be, nothing was tried
    finally:
        locked.chmod(mode)
    assert _runs(db)[0] == ("rmxaaa01", "running")


async def test_the_tui_says_what_history_lost(fake, in_process, monkeypatch):
    """The same sentence as the CLI's, as a notification when the review ends."""
    from app.tui.app import DriftcheckApp
    from app.tui.review_screen import ReviewScreen

    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    finish_run = Store.finish_run

    def on_a_full_disk(store: Store, *args, **kwargs):
        store.conn.execute(f"PRAGMA max_page_count = {store.conn.execute('PRAGMA page_count').fetchone()[0]}")
        return finish_run(store, *args, **kwargs)

    monkeypatch.setattr(Store, "finish_run", on_a_full_disk)
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, HAIKU))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if any(n.title == "History" for n in app._notifications):
                break
            await pilot.pause(0.05)
        [note] = [n for n in app._notifications if n.title == "History"]
    assert note.severity == "warning"
    assert (
        note.message.startswith("run r")
        and "is in history as ok but incomplete: its result was not stored "
        "(database or disk is full); the full result is in the panes on this screen"
        in note.message
    )
