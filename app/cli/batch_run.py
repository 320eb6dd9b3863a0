"""A `--batch` run that `driftcheck history resume ID` can carry on after a kill.

`compare --batch` and `review --repeat N --batch` go through this one mechanism: the run
keeps what it was asked (its command, paths made absolute) and each batch's id and items
from the moment the provider created it, so a killed process loses nothing the provider
is still running and billing. Resumed, the same command runs again on the same input and
collects the stored batches instead of sending them again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import print_batch_progress, print_note, say
from app.errors import UsageError

if TYPE_CHECKING:
    from app.history.recording import RunRecorder
    from app.run.prepared import PreparedRun

#: Options holding a path: kept absolute, so a resume from another directory reads the same files.
PATH_OPTIONS = ("file", "incident", "key", "reference", "out")


class BatchRun:
    """The batches of one `command` run (a compare or a review), kept in its run in history.
    `wrap` goes to the provider resolver before the run is prepared; `started` is told the
    prepared run, whose recorder then keeps each batch as it is created."""

    def __init__(self, command: str, args: argparse.Namespace, sha256: str, input_ref: str) -> None:
        from app.calls.batching import BatchGroups, open_batches

        self.command = command
        self.args = args
        self.parts = stored_parts(command, args, sha256, input_ref)
        self.recorder: RunRecorder | None = None
        groups = BatchGroups(
            keep=self.keep,
            notify=print_note,
            stored=open_batches(self.parts),
            retry=getattr(args, "batch_retry", None) or "live",
            on_progress=print_batch_progress,
        )
        self.wrap = groups.wrap

    def keep(self, key: str, data: Any) -> None:
        # Batches are created only once the run runs, so its recorder is known by then.
        if self.recorder is not None:
            self.recorder.put_part(key, data)

    def started(self, prepared: PreparedRun, resolved: dict[str, str | None]) -> None:
        """The run is prepared: its batches are kept in it from now on, and a new run keeps
        its command (`resolved`: options as resolved, e.g. the SPECs, so a resume asks the
        same models whatever the environment says then)."""
        self.recorder = prepared.recorder
        if not self.args.resume:
            keep_command(self.command, prepared.recorder, self.args, resolved)

    def cancelled(self) -> None:
        """Ctrl-C: the run ends cancelled; its batches run on at the provider, so say how to
        collect them rather than pay twice."""
        if self.recorder is None:
            return
        recording = self.recorder.finish(status="cancelled")
        if recording.run_id:
            say(f"resume it, collecting its batches: driftcheck history resume {recording.run_id}")


def stored_parts(command: str, args: argparse.Namespace, sha256: str, input_ref: str) -> dict[str, Any]:
    """For a resumed run (`history resume`): its stored parts (the batches it submitted),
    once its input is known to be what it was. Else nothing."""
    if not args.resume:
        return {}
    from app.history.recording import RunRecorder

    run, parts = RunRecorder.stored(args.resume, task=command)
    if run["input_sha256"] != sha256:
        raise UsageError(f"cannot resume: {input_ref} has changed since {command} {run['id']} started")
    return parts


def keep_command(
    command: str, recorder: RunRecorder, args: argparse.Namespace, resolved: dict[str, str | None]
) -> None:
    """Keep what the run was asked (paths made absolute, sides as resolved), so `history
    resume` can run it again and collect its batches after a kill."""
    from app.history.resume import COMMAND_PART

    if getattr(args, "incident_text", None) == "-":
        say(f"note: this {command} reads standard input, which cannot be read again: it cannot be resumed")
        return
    kept = {key: value for key, value in vars(args).items() if isinstance(value, str | int | float | bool | list)}
    for key in PATH_OPTIONS:
        if isinstance(path := kept.get(key), str):
            kept[key] = str(Path(path).resolve())
    if isinstance(paths := kept.get("paths"), list):
        kept["paths"] = [str(Path(p).resolve()) for p in paths]
    kept.update({key: value for key, value in resolved.items() if value})
    recorder.put_part(COMMAND_PART, {"command": command, "args": kept})
