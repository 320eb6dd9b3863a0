"""History: every run and every provider call, in SQLite, in the user data directory.

One database file (WAL mode, so two driftcheck processes can write at once and readers
never wait), created 0600. A run is a task on one input (a review, a triage, ...); a
call is one request to one provider within it, with its role (candidate, judge, hedge),
usage, cost, timings and outcome. While a call streams, its text is checkpointed at
most once a second, so a killed process loses at most the last second; a run whose
process died is shown as interrupted. What is stored is driftcheck's own output and a
reference to the input (path and SHA-256), never a key.

The schema is versioned with `PRAGMA user_version`; `_MIGRATIONS[n]` takes version n to
n+1. A file that is not a database, or fails its integrity check, is moved aside and a
new one is started, and the caller is told where the old one went. Commands that only
read history can still read it where they may not write (a read-only data directory):
they open it read-only, and see runs of dead processes as interrupted without marking them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import StoreError
from app.locations import DATA_DIR_ENV, db_path

CHECKPOINT_EVERY_S = 1.0
BUSY_TIMEOUT_MS = 5000

_MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        finished_at REAL,
        task TEXT NOT NULL,
        input_ref TEXT,
        input_sha256 TEXT,
        providers TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,              -- running | ok | failed | interrupted
        score INTEGER,
        summary TEXT,
        result_json TEXT,                  -- the public JSON of the run when it ended
        pid INTEGER,
        host TEXT
    );
    CREATE INDEX runs_created ON runs(created_at);
    CREATE INDEX runs_input ON runs(input_sha256);
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,                -- candidate | judge | hedge | repair
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        params_json TEXT,
        status TEXT NOT NULL,              -- running | ok | failed | interrupted | cancelled
        error_kind TEXT,
        error_message TEXT,
        text TEXT NOT NULL DEFAULT '',
        parsed_json TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        reasoning_tokens INTEGER,
        cost_usd REAL,
        ttft_ms REAL,
        latency_ms REAL,
        retries INTEGER NOT NULL DEFAULT 0,
        hedge_of INTEGER REFERENCES calls(id),
        fallback_from TEXT,
        request_id TEXT,
        started_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX calls_run ON calls(run_id);
    """,
    # 1 -> 2: the finished parts of a long run (an eval's answers and grades), so that an
    # interrupted run can be resumed without repeating what is done.
    """
    CREATE TABLE run_parts (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        data_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    """,
    # 2 -> 3: the cached part of each call's input, read from and written to the provider's
    # cache (input_tokens counts all of it), so history shows what caching saved.
    """
    ALTER TABLE calls ADD COLUMN cache_read_tokens INTEGER;
    ALTER TABLE calls ADD COLUMN cache_write_tokens INTEGER;
    """,
    # 3 -> 4: each call's provenance (app.calls.provenance: the served model, fingerprint,
    # tier, SDK and the hashes of what was sent), so that two runs' difference can be traced.
    """
    ALTER TABLE calls ADD COLUMN provenance_json TEXT;
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)


class AmbiguousRunId(StoreError):
    """A run id prefix that matches more than one run; the message lists them."""

    SHOWN = 10

    def __init__(self, prefix: str, candidates: list[dict[str, Any]], total: int) -> None:
        self.prefix = prefix
        self.candidates = candidates
        lines = [
            f"{run['id']}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(run['created_at']))}  "
            f"{run['task']}  {run['input_ref'] or ''}".rstrip()
            for run in candidates
        ]
        more = [f"... and {total - len(candidates)} more"] if total > len(candidates) else []
        super().__init__(
            f"{prefix!r} matches {total} runs in history; give more of the id:\n  " + "\n  ".join(lines + more)
        )


@dataclass
class OpenResult:
    store: Store
    moved_aside: Path | None = None  # where a corrupted database was put


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    kept_in_progress: int  # old enough, but their process is still running


def new_run_id() -> str:
    """Sortable by time, short enough to type: r + base36 milliseconds + 3 random chars."""
    millis = int(time.time() * 1000)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while millis:
        millis, rem = divmod(millis, 36)
        out = digits[rem] + out
    return "r" + out + "".join(digits[b % 36] for b in os.urandom(3))


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self._seen_dead: set[str] = set()  # read-only: runs of dead processes, seen as interrupted
        # Which file this connection writes to: if the path is deleted or replaced while a
        # run goes on, SQLite keeps writing to the old, unlinked file without an error.
        self.identity = _identity(path)

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, for_reading: bool = False) -> OpenResult:
        """The history database, created and migrated if need be. `for_reading`: the caller
        only reads, so a database it may not write (a read-only data directory or file) is
        opened read-only instead of refused."""
        path = path or db_path()
        if not _writable(path):
            if for_reading:
                return OpenResult(cls._open_readonly(path))
            what = (
                f"the history database {path}"
                if path.exists() and not os.access(path, os.W_OK)
                else f"the history directory {path.parent}"
            )
            raise StoreError(f"{what} is read-only; set {DATA_DIR_ENV} to a writable directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(
                f"cannot create the history directory {path.parent}: {exc.strerror or exc}. "
                f"Set {DATA_DIR_ENV} to a writable directory"
            ) from None
        moved = None
        try:
            try:
                store = cls._connect(path)
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                moved = _move_aside(path)
                store = cls._connect(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use the history database {path}: {exc}") from None
        return OpenResult(store, moved)

    @classmethod
    def _connect(cls, path: Path) -> Store:
        if not path.exists():
            # Created 0600 before SQLite touches it; SQLite gives the -wal and -shm files
            # the same permissions as the database.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.row_factory = sqlite3.Row  # rows read as mappings: dict(row) names its columns
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            store = cls(conn, path)
            store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _open_readonly(cls, path: Path) -> Store:
        if not path.exists():  # nothing recorded yet
            return cls._empty(path)
        # mode=ro still needs the -shm file of a WAL database, which a read-only directory
        # may not have (SQLite deletes it on the last close); immutable=1 reads the file as
        # it is, without locks. Nobody can write the database while the directory is
        # read-only, so nothing changes under the reader.
        errors = []
        for flags in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?{flags}",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                )
            except sqlite3.Error as exc:
                errors.append(str(exc))
                continue
            conn.row_factory = sqlite3.Row
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("integrity check failed")
            except sqlite3.Error as exc:
                conn.close()
                errors.append(str(exc))
                continue
            if version == 0:  # created, never written
                conn.close()
                return cls._empty(path)
            if version > SCHEMA_VERSION:
                conn.close()
                raise StoreError(
                    f"the history database {path} was written by a newer driftcheck "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade driftcheck"
                )
            return cls(conn, path, readonly=True)
        raise StoreError(f"cannot read the history database {path}: {errors[-1]}")

    @classmethod
    def _empty(cls, path: Path) -> Store:
        """An empty history that reads like the real one, for a reader with nothing to read."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        store = cls(conn, path)
        store._migrate()
        store.readonly = True
        return store

    def _migrate(self) -> None:
        # The version is read inside the write transaction: two processes opening a new
        # database at once must not both run the same migration.
        while True:
            with self.transaction():
                version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the history database {self.path} was written by a newer driftcheck "
                        f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade driftcheck"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # SQLite has already rolled back after e.g. a full disk
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # --- writing ---------------------------------------------------------------------------

    def start_run(self, task: str, *, input_ref: str | None, input_sha256: str | None, providers: list[str]) -> str:
        run_id = new_run_id()
        self.conn.execute(
            "INSERT INTO runs (id, created_at, task, input_ref, input_sha256, providers, status, pid, host)"
            " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
            (
                run_id,
                time.time(),
                task,
                input_ref,
                input_sha256,
                ",".join(providers),
                os.getpid(),
                os.uname().nodename if hasattr(os, "uname") else None,
            ),
        )
        return run_id

    def finish_run(
        self, run_id: str, *, status: str, score: int | None, summary: str | None, result: dict[str, Any] | None
    ) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, score = ?, summary = ?, result_json = ? WHERE id = ?",
                (status, time.time(), score, summary, None if result is None else json.dumps(result), run_id),
            )
            # A call still marked running when its run ends was abandoned (cancelled or failed).
            self.conn.execute(
                "UPDATE calls SET status = ? WHERE run_id = ? AND status = 'running'",
                ("cancelled" if status == "cancelled" else "interrupted", run_id),
            )

    def run_stored_as(self, run_id: str, status: str) -> str | None:
        """None when the database file at `path` holds the run with this status; else what
        went wrong, in words. Read after the run's final write, so a command says
        "recorded" only when it is true."""
        if not self.path.exists():
            return f"the history database {self.path} was deleted while the run was going"
        if _identity(self.path) != self.identity:
            return f"the history database {self.path} was replaced while the run was going"
        row = self.conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return "the run was deleted from history while it was going"
        if row["status"] != status:
            return f"history has it as {row['status']}, not {status}"
        return None

    def start_call(
        self, run_id: str, *, role: str, provider: str, model: str, params: dict[str, Any] | None = None
    ) -> int:
        now = time.time()
        with self.transaction():
            seq = self.conn.execute("SELECT COUNT(*) FROM calls WHERE run_id = ?", (run_id,)).fetchone()[0]
            cursor = self.conn.execute(
                "INSERT INTO calls (run_id, seq, role, provider, model, params_json, status, started_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (run_id, seq + 1, role, provider, model, json.dumps(params or {}), now, now),
            )
        assert cursor.lastrowid is not None  # sqlite sets it after an INSERT
        return cursor.lastrowid

    def reopen_run(self, run_id: str) -> None:
        """A resumed run is running again, in this process."""
        cursor = self.conn.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, pid = ?, host = ? WHERE id = ?",
            (os.getpid(), os.uname().nodename if hasattr(os, "uname") else None, run_id),
        )
        if cursor.rowcount == 0:
            raise StoreError(f"run {run_id} is no longer in history (pruned or deleted)")

    def put_part(self, run_id: str, key: str, data: Any) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO run_parts (run_id, key, data_json, created_at) VALUES (?, ?, ?, ?)",
            (run_id, key, json.dumps(data), time.time()),
        )

    def parts(self, run_id: str) -> dict[str, Any]:
        """Every stored part of a run, by key, in the order they were stored."""
        rows = self.conn.execute(
            "SELECT key, data_json FROM run_parts WHERE run_id = ? ORDER BY created_at, rowid", (run_id,)
        )
        return {row["key"]: json.loads(row["data_json"]) for row in rows}

    def parts_starting(self, prefix: str) -> list[tuple[str, str, Any, float]]:
        """Every run's parts whose key starts with `prefix`: (run id, key, data, stored at)."""
        rows = self.conn.execute(
            "SELECT run_id, key, data_json, created_at FROM run_parts WHERE substr(key, 1, ?) = ? "
            "ORDER BY created_at, rowid",
            (len(prefix), prefix),
        )
        return [(row["run_id"], row["key"], json.loads(row["data_json"]), row["created_at"]) for row in rows]

    def checkpoint(self, call_id: int, text: str) -> None:
        self.conn.execute("UPDATE calls SET text = ?, updated_at = ? WHERE id = ?", (text, time.time(), call_id))

    def finish_call(
        self,
        call_id: int,
        *,
        status: str,
        text: str,
        parsed: Any = None,
        metrics: dict[str, Any] | None = None,
        error_kind: str | None = None,
        error_message: str | None = None,
        request_id: str | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        m = metrics or {}
        self.conn.execute(
            "UPDATE calls SET status = ?, text = ?, parsed_json = ?, error_kind = ?, error_message = ?,"
            " input_tokens = ?, output_tokens = ?, reasoning_tokens = ?, cache_read_tokens = ?,"
            " cache_write_tokens = ?, cost_usd = ?, ttft_ms = ?, latency_ms = ?, retries = ?, fallback_from = ?,"
            " request_id = ?, provenance_json = ?, updated_at = ? WHERE id = ?",
            (
                status,
                text,
                None if parsed is None else json.dumps(parsed),
                error_kind,
                error_message,
                m.get("input_tokens"),
                m.get("output_tokens"),
                m.get("reasoning_tokens"),
                m.get("cache_read_tokens"),
                m.get("cache_write_tokens"),
                m.get("cost_usd"),
                m.get("ttft_ms"),
                m.get("latency_ms"),
                m.get("retries", 0),
                m.get("fallback_from"),
                request_id,
                None if provenance is None else json.dumps(provenance),
                time.time(),
                call_id,
            ),
        )

    # --- reading ---------------------------------------------------------------------------

    def mark_dead_runs(self) -> int:
        """Runs left 'running' by a process that no longer exists become 'interrupted' (on a
        read-only database, only in what this store reads)."""
        rows = self.conn.execute(
            "SELECT id, status, pid, host, finished_at FROM runs WHERE status = 'running'"
        ).fetchall()
        dead = [row["id"] for row in rows if not _in_progress(row)]
        if self.readonly:
            self._seen_dead = set(dead)
            return 0
        for run_id in dead:
            with self.transaction():
                self.conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = COALESCE("
                    "(SELECT MAX(updated_at) FROM calls WHERE run_id = ?), created_at) WHERE id = ?",
                    (run_id, run_id),
                )
                self.conn.execute(
                    "UPDATE calls SET status = 'interrupted' WHERE run_id = ? AND status = 'running'", (run_id,)
                )
        return len(dead)

    def recent_calls(self, spec: str, limit: int = 200) -> tuple[list[float], list[bool]]:
        """The last `limit` finished calls to a provider, oldest first: times to first token
        (seconds) of the successful ones, and success or failure of each."""
        rows = self.last_calls(spec, "status, ttft_ms", "status IN ('ok', 'failed')", limit)
        rows.reverse()
        return (
            [r["ttft_ms"] / 1000 for r in rows if r["status"] == "ok" and r["ttft_ms"] is not None],
            [r["status"] == "ok" for r in rows],
        )

    def provider_record(self, spec: str, limit: int = 200) -> dict[str, Any] | None:
        """A provider's last `limit` finished calls: times to first token (s) of the good
        ones and each outcome (oldest first), failures in a row at the end, and when the
        last call finished; None when history has none."""
        ttfts, outcomes = self.recent_calls(spec, limit)
        if not outcomes:
            return None
        streak = len(outcomes) - (max(i for i, ok in enumerate(outcomes) if ok) + 1 if any(outcomes) else 0)
        provider, _, model = spec.partition(":")
        last = self.conn.execute(
            "SELECT MAX(updated_at) FROM calls WHERE provider = ? AND model = ?", (provider, model)
        ).fetchone()[0]
        return {"ttfts_s": ttfts, "outcomes": outcomes, "failures_in_a_row": streak, "last_call_at": last}

    def prompt_rates(self, spec: str, limit: int = 50) -> list[float]:
        """Prompt tokens read per second before the first token, over a provider's last
        `limit` good calls (a local model's prompt reading dominates its wait)."""
        rows = self.last_calls(
            spec, "input_tokens, ttft_ms", "status = 'ok' AND input_tokens > 0 AND ttft_ms > 0", limit
        )
        return [r["input_tokens"] / (r["ttft_ms"] / 1000) for r in rows]

    def last_calls(self, spec: str, columns: str, condition: str, limit: int) -> list[sqlite3.Row]:
        """`columns` of a provider's last `limit` calls that meet `condition`, newest first
        (both are fixed SQL fragments of this module, never user input)."""
        provider, _, model = spec.partition(":")
        return self.conn.execute(
            f"SELECT {columns} FROM calls WHERE provider = ? AND model = ? AND {condition} ORDER BY id DESC LIMIT ?",
            (provider, model, limit),
        ).fetchall()

    def provider_health(self, limit: int = 200) -> list[dict[str, Any]]:
        """Per provider SPEC seen in history: calls, error rate, p50/p95 time to first token
        over its last `limit` finished calls, failures in a row, when the last call finished."""
        from providers.health import percentile

        rows = self.conn.execute("SELECT DISTINCT provider, model FROM calls WHERE status IN ('ok', 'failed')")
        out = []
        for spec in sorted(f"{row['provider']}:{row['model']}" for row in rows.fetchall()):
            record = self.provider_record(spec, limit)
            if record is None:
                continue
            ttfts, outcomes = record["ttfts_s"], record["outcomes"]
            out.append(
                {
                    "spec": spec,
                    "calls": len(outcomes),
                    "error_rate": round(1 - sum(outcomes) / len(outcomes), 3),
                    "ttft_p50_ms": None if not ttfts else round((percentile(ttfts, 50) or 0.0) * 1000),
                    "ttft_p95_ms": None if not ttfts else round((percentile(ttfts, 95) or 0.0) * 1000),
                    "failures_in_a_row": record["failures_in_a_row"],
                    "last_call_at": record["last_call_at"],
                }
            )
        return out

    def list_runs(
        self, *, task: str | None = None, provider: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        where, args = [], []
        if task:
            where.append("r.task = ?")
            args.append(task)
        if status:
            where.append("r.status = ?")
            args.append(status)
        if provider:
            where.append(
                "EXISTS (SELECT 1 FROM calls c2 WHERE c2.run_id = r.id AND "
                "(c2.provider = ? OR c2.provider || ':' || c2.model = ?))"
            )
            args += [provider, provider]
        sql = (
            "SELECT r.id, r.created_at, r.finished_at, r.task, r.input_ref, r.providers, r.status, r.score,"
            " COUNT(c.id) AS calls, SUM(c.cost_usd) AS cost_usd,"
            " SUM(c.cost_usd IS NULL AND c.id IS NOT NULL) AS calls_without_cost,"
            " MAX(c.latency_ms) AS latency_ms, MIN(c.ttft_ms) AS ttft_ms"
            " FROM runs r LEFT JOIN calls c ON c.run_id = r.id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " GROUP BY r.id ORDER BY r.created_at DESC LIMIT ?"
        )
        runs = [self._as_seen(dict(row)) for row in self.conn.execute(sql, (*args, limit))]
        return [run for run in runs if not status or run["status"] == status]

    def _as_seen(self, run: dict[str, Any]) -> dict[str, Any]:
        """A run as it is now: one whose process died is interrupted, even where the
        database is read-only and cannot be marked."""
        if run["id"] in self._seen_dead:
            run["status"] = "interrupted"
        return run

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run with this id, or the one run whose id starts with it; None when there is
        none. Raises AmbiguousRunId when several runs start with it."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            matches = self.conn.execute(
                "SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC", (len(run_id), run_id)
            ).fetchall()
            if len(matches) > 1:
                raise AmbiguousRunId(run_id, [dict(m) for m in matches[: AmbiguousRunId.SHOWN]], len(matches))
            if not matches:
                return None
            row = matches[0]
        run = self._as_seen(dict(row))
        run["result"] = json.loads(run.pop("result_json")) if run.get("result_json") else None
        run["calls"] = []
        for call_row in self.conn.execute("SELECT * FROM calls WHERE run_id = ? ORDER BY seq", (run["id"],)):
            call = dict(call_row)
            call["params"] = json.loads(call.pop("params_json") or "{}")
            call["parsed"] = json.loads(call.pop("parsed_json")) if call.get("parsed_json") else None
            call["provenance"] = json.loads(call.pop("provenance_json")) if call.get("provenance_json") else None
            run["calls"].append(call)
        return run

    def prune(self, older_than_days: float) -> PruneResult:
        """Delete runs created more than `older_than_days` ago, except those whose process is
        still running: a finished run is not done until its command has reported it (and a
        TUI keeps showing its runs), and a run of another machine may be going on."""
        cutoff = time.time() - older_than_days * 86400
        with self.transaction():
            rows = self.conn.execute(
                "SELECT id, status, pid, host, finished_at FROM runs WHERE created_at < ?", (cutoff,)
            ).fetchall()
            old = [row["id"] for row in rows if not _in_progress(row)]
            self.conn.executemany("DELETE FROM runs WHERE id = ?", [(run_id,) for run_id in old])
        kept = len(rows) - len(old)
        # VACUUM rewrites the whole file under the write lock; a run going on would wait
        # on it, and fail to record if it waited too long, so it waits for a quiet moment.
        if old and not kept and not self.conn.execute("SELECT 1 FROM runs WHERE status = 'running'").fetchone():
            self.conn.execute("VACUUM")
        return PruneResult(len(old), kept)


def _writable(path: Path) -> bool:
    """Whether SQLite can write here: the file, and the directory for its -wal and -shm
    files (or the nearest existing folder, which the directories would be made in)."""
    if path.exists():
        return os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    existing = next((p for p in path.parents if p.exists()), None)
    return existing is not None and os.access(existing, os.W_OK | os.X_OK)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _in_progress(run: sqlite3.Row) -> bool:
    """Whether a run's process may still be working on it: it is alive on this machine,
    or the run is marked running on another machine (which cannot be checked from here).
    A process that started after the run finished only has the number of the one that
    ran it, not its work."""
    host = os.uname().nodename if hasattr(os, "uname") else None
    if run["host"] != host:
        return bool(run["status"] == "running")
    finished = run["finished_at"] if run["status"] != "running" else None
    return bool(_alive(run["pid"]) and (finished is None or not _started_after(run["pid"], finished)))


def _started_after(pid: int, moment: float) -> bool:
    """Whether process `pid` started after `moment`, so it cannot be the one that made a
    run then (its number was reused). Known on Linux; elsewhere assumed not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, after "pid (comm)"
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    # btime is whole seconds and a little uncertain: allow a margin
    return boot + ticks / os.sysconf("SC_CLK_TCK") > moment + 2


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_CORRUPTION = ("file is not a database", "malformed", "integrity check failed", "file is encrypted")


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    return any(words in str(exc) for words in _CORRUPTION)


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return target
