"""Which stored run `driftcheck history resume ID` can carry on, and with which command.

An eval (live or `--batch`) resumes from its stored plan and parts; a `compare --batch`
or a `review --repeat N --batch` resumes from the command it stored and collects the
batches it submitted. Anything else — a finished run, a review or triage without
`--batch`, an unknown id — is refused with one line saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.calls.batching import open_batches
from app.errors import UsageError

#: The part a resumable compare or review keeps its command in (the arguments it was given).
COMMAND_PART = "command"
#: How a compare or review ends that left work to do: killed (history marks it so) or cancelled.
UNFINISHED = frozenset({"interrupted", "cancelled"})


@dataclass(frozen=True)
class Resumable:
    command: Literal["eval", "compare", "review"]
    run: dict[str, Any]
    parts: dict[str, Any]

    @property
    def open_batches(self) -> int:
        return len(open_batches(self.parts))


def find_resumable(run_id: str) -> Resumable:
    """The stored run `run_id` and the command that resumes it. Raises UsageError when it
    cannot be resumed (and StoreError when history cannot be read)."""
    from app.history.store import Store

    store = Store.open(for_reading=True).store
    try:
        store.mark_dead_runs()
        run = store.get_run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} in history (see `driftcheck history list`)")
        parts = store.parts(run["id"])
    finally:
        store.close()
    rid, task, status = run["id"], run["task"], run["status"]
    if status == "running":
        raise UsageError(f"run {rid} is still running in process {run['pid']}; stop it first")
    if task == "eval":
        if "plan" not in parts:
            raise UsageError(f"run {rid} has no stored plan to resume")
        if status == "ok":
            raise UsageError(f"run {rid} finished (ok): nothing to resume")
        return Resumable("eval", run, parts)
    if task in ("compare", "review") and COMMAND_PART in parts:
        if status not in UNFINISHED:
            raise UsageError(f"run {rid} finished ({status}): nothing to resume")
        return Resumable(task, run, parts)
    what = f"a {task} without --batch" if task in ("compare", "review") else f"a {task}"
    raise UsageError(
        f"run {rid} is {what}: only an eval, a compare --batch or a review --repeat N --batch can be resumed"
    )
