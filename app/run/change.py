"""A review of several files or of a change, prepared: the files found (paths walked, a git
change asked of git, a diff read from stdin), each read and checked, the provider
resolved, the plan for the whole change, the history recorder, and the event stream
ready to start. Every input problem is found here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.calls.limits import ProviderLimit
from app.errors import InputError, UsageError
from app.history.recording import RecordOutcome, RunRecorder
from app.history.summary import run_summary
from app.notes import Note, Notify
from app.review.answer_key import find_key
from app.review.change import DEFAULT_FILE_CONCURRENCY, Baseline, change_events
from app.review.files import ChangedFile, ChangeInput, LeftOut
from app.review.plan import ReviewOptions, ReviewPlan, plan_change
from app.run.compare import read_stored_run
from app.run.options import RouteOptions
from app.run.prepared import PreparedRun, Start
from app.run.providers import ProviderResolver
from app.source import git
from app.source.diff import FileChange, parse_diff
from app.source.git import ChangeSpec
from app.source.inputs import MAX_BYTES, TextInput, decode_text, read_text_file
from app.source.model import load_source, split_lines
from app.source.walk import collect_files, skip_reason
from providers import Provider

STDIN = "-"


def load_paths(paths: list[str]) -> ChangeInput:
    """Several files and directories: directories walked with their ignore rules; a file
    named on the command line that cannot be read is an error, one found by the walk is
    left out with the reason."""
    collected = collect_files(paths)
    named = {Path(p).expanduser().resolve() for p in paths if Path(p).expanduser().is_file()}
    label = " ".join(paths) if len(paths) <= 3 else f"{' '.join(paths[:3])} and {len(paths) - 3} more"
    change = ChangeInput(label=label, is_change=False)
    change.left_out = [LeftOut(path, "file", reason) for path, reason in collected.skipped]
    for path in collected.files:
        try:
            text_input = read_text_file(str(path))
        except InputError as exc:
            if path.resolve() in named:
                raise
            change.left_out.append(LeftOut(path.as_posix(), "file", str(exc)))
            continue
        change.files.append(
            ChangedFile(path.as_posix(), text_input, load_source(path.as_posix(), text_input.text), key=find_key(path))
        )
    return change


def load_git_change(spec: ChangeSpec, paths: list[str], cwd: Path) -> ChangeInput:
    """The change in the repository holding `cwd`: the working tree, the index, or a range;
    limited to `paths` (which must be inside the repository)."""
    root = git.repo_root(cwd)
    relative = [git.inside(root, cwd / p) for p in paths]
    rev = spec.rev
    if rev and not git.is_revision(root, rev) and (cwd / rev).exists():
        relative.insert(0, git.inside(root, cwd / rev))  # `--diff app/`: a path, as git would read it
        spec = ChangeSpec(None, spec.staged)
    text = git.diff_text(root, spec, relative)
    return _from_diff(
        parse_diff(text, spec.label),
        label=spec.label,
        range_=spec.rev,
        read=lambda path: git.new_file_bytes(root, spec, path),
        root=root,
        trust_disk=True,
    )


def load_stdin_change(text: str, cwd: Path, label: str = "the diff on stdin") -> ChangeInput:
    """A unified diff from standard input (or a file: `label` names it). Each file's new version comes from the working
    tree when it is there and agrees with the diff; otherwise the hunks alone are reviewed."""
    try:
        root = git.repo_root(cwd)
    except InputError:
        root = cwd

    def read(path: str) -> bytes | None:
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()):  # a symlink out of the tree: the hunks alone
            return None
        try:
            return target.read_bytes()
        except OSError:
            return None

    return _from_diff(
        parse_diff(text, label),
        label=label,
        range_=None,
        read=read,
        root=root,
        trust_disk=False,
    )


def _from_diff(
    changes: list[FileChange],
    *,
    label: str,
    range_: str | None,
    read: Callable[[str], bytes | None],
    root: Path,
    trust_disk: bool,
) -> ChangeInput:
    change = ChangeInput(label=label, is_change=True, range=range_, root=str(root))
    for fc in changes:
        reason = _left_out_reason(fc)
        data = None if reason else read(fc.path)
        if not reason and data is not None:
            reason = skip_reason(fc.path, data[:4096]) or ("too large" if len(data) > MAX_BYTES else None)
        if reason:
            change.left_out.append(LeftOut(fc.path, fc.status, reason))
            continue
        text_input = _decoded(data, fc.path) if data is not None else None
        if text_input is not None and not trust_disk and not _agrees(text_input.text, fc):
            text_input.notes.append(f"{fc.path} in the working tree differs from the diff; reviewing the hunks alone")
            text_input = None
        known: frozenset[int] | None = None
        if text_input is None:
            if trust_disk and data is not None:  # it is there, but not text a review can read
                change.left_out.append(LeftOut(fc.path, fc.status, "not readable as text"))
                continue
            text_input = _hunks_alone(fc)
            known = frozenset(fc.known)
        change.files.append(
            ChangedFile(
                fc.path,
                text_input,
                load_source(fc.path, text_input.text),
                status=fc.status,
                old_path=fc.old_path,
                changed=frozenset(fc.changed),
                known=known,
                key=find_key(root / fc.path) if known is None else None,
            )
        )
    return change


def _left_out_reason(fc: FileChange) -> str | None:
    if fc.binary:
        return "binary"
    if fc.status == "deleted":
        return "deleted"
    if not fc.changed:
        return "renamed only" if fc.status == "renamed" else "no changed lines"
    return None


def _decoded(data: bytes, path: str) -> TextInput | None:
    try:
        return decode_text(data, path)
    except InputError:
        return None


def _agrees(text: str, fc: FileChange) -> bool:
    """Whether the file on disk holds the lines the diff says the new version has."""
    lines = split_lines(text)
    return all(n <= len(lines) and lines[n - 1] == line for n, line in fc.known.items())


def _hunks_alone(fc: FileChange) -> TextInput:
    """The new version as far as the diff shows it: known lines at their numbers, the
    lines between hunks left empty, so every line number is the new file's."""
    last = max(fc.known)
    text = "\n".join(fc.known.get(n, "") for n in range(1, last + 1)) + "\n"
    text_input = decode_text(text.encode("utf-8"), fc.path)
    text_input.notes.append(f"{fc.path} is not in the working tree as the diff has it; reviewing the hunks alone")
    return text_input


def check_reviewable(change: ChangeInput) -> str | None:
    """None when there is something to review; else why not, when that is fine ("nothing
    to review"). Raises InputError when the change holds only what cannot be reviewed."""
    if change.files:
        return None
    reasons = {left.reason for left in change.left_out}
    if reasons and reasons <= {"binary"}:
        raise InputError(
            f"{change.label} changes only binary files ({len(change.left_out)}); there is no text to review"
        )
    if not change.left_out:
        return f"nothing to review: {change.label} is empty"
    shown = ", ".join(f"{left.path} ({left.reason})" for left in change.left_out[:5])
    more = f" and {len(change.left_out) - 5} more" if len(change.left_out) > 5 else ""
    what = "has no changed text to review" if change.is_change else "holds no file to review"
    return f"nothing to review: {change.label} {what} ({shown}{more})"


@dataclass
class PreparedChange:
    """A review of several files, ready to start; nothing has been sent."""

    change: ChangeInput
    provider: Provider  # as resolved (close it when done)
    start: Callable[[], AsyncIterator[Any]]
    recorder: RunRecorder
    plans: list[ReviewPlan]  # each file's, in the change's order

    def finish(self, record: dict[str, Any]) -> RecordOutcome:
        score, summary = run_summary(record)
        return self.recorder.finish(status=record["status"], score=score, summary=summary, result=record)


def prepare_change(
    change: ChangeInput,
    spec: str | None,
    *,
    resolver: ProviderResolver,
    options: ReviewOptions = ReviewOptions(),
    route: RouteOptions = RouteOptions(),
    record: bool = True,
    changed_only: bool = False,
    concurrency: int = DEFAULT_FILE_CONCURRENCY,
    baseline: Baseline | None = None,
    new_only: bool = False,
    notify: Notify | None = None,
) -> PreparedChange:
    """The provider, each file's plan and the recorder. Raises an error meant for the user
    when anything is wrong; nothing has been sent then."""
    notify = notify or resolver.notify
    if changed_only and not change.is_change:
        raise UsageError("--changed-only needs a change to compare against: use it with --diff or --staged")
    provider = resolver.provider(spec, task="review", route=route, max_tokens=options.max_tokens)
    change_notes(change, notify)
    plans = plan_change(provider, change, options, notify=notify)
    recorder = RunRecorder.start(
        "review",
        input_ref=change.label,
        input_sha256=change_sha(change),
        providers=[provider.spec],
        enabled=record,
        notify=notify,
    )
    recorded = recorder.recorded(provider, None)
    limit = ProviderLimit(concurrency)

    def start() -> AsyncIterator[Any]:
        return change_events(
            plans, recorded, change, limit=limit, changed_only=changed_only, baseline=baseline, new_only=new_only
        )

    return PreparedChange(change, provider, start, recorder, plans)


def change_notes(change: ChangeInput, notify: Notify) -> None:
    """What reading the files found worth saying, and each file left out and why."""
    for file in change.files:
        for text in file.text_input.notes:
            notify(Note("note", text))
    for left in change.left_out:
        notify(Note("note", f"{left.path}: not reviewed ({left.reason})"))


def prepare_change_compare(
    change: ChangeInput,
    specs: dict[str, str],
    *,
    resolver: ProviderResolver,
    options: ReviewOptions = ReviewOptions(),
    record: bool = True,
    concurrency: int = DEFAULT_FILE_CONCURRENCY,
) -> PreparedRun:
    """The same change on two providers, each exactly its SPEC, each with its own plan (its
    context window) and its own limit; recorded as one compare."""
    notify = resolver.notify
    providers = {side: resolver.exactly(spec, max_tokens=options.max_tokens) for side, spec in specs.items()}
    change_notes(change, notify)
    plans = {side: plan_change(provider, change, options, notify=notify) for side, provider in providers.items()}
    sha256 = change_sha(change)
    recorder = RunRecorder.start(
        "compare",
        input_ref=change.label,
        input_sha256=sha256,
        providers=[p.spec for p in providers.values()],
        enabled=record,
        notify=notify,
    )

    def starter(side: str) -> Start:
        recorded = recorder.recorded(providers[side], side)

        def start(run: int) -> AsyncIterator[Any]:
            return change_events(plans[side], recorded, change, limit=ProviderLimit(concurrency))

        return start

    label = TextInput(path=change.label, text="", encoding="utf-8", sha256=sha256, size_bytes=0)
    return PreparedRun("review", True, label, providers, {side: starter(side) for side in providers}, recorder)


def change_sha(change: ChangeInput) -> str:
    """One digest of every file's path and content: what a stored run or a resumed eval
    checks to know the change is the same."""
    import hashlib

    digest = hashlib.sha256()
    for file in change.files:
        digest.update(f"{file.path}\0{file.text_input.sha256}\0".encode())
    return digest.hexdigest()


def load_review_baseline(ref: str) -> Baseline:
    """--baseline RUN_ID: a stored review of several files or of a change, whose findings
    carry fingerprints; UsageError for anything else."""
    run = read_stored_run(ref, "--baseline")
    record = run["result"]
    if run["task"] != "review" or not record or "files" not in record:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} is not a review of a change or of several files (it has no "
            f"fingerprints); record the base with `driftcheck review --diff RANGE` or `driftcheck review PATH...`"
        )
    if record.get("status") != "ok" or record.get("result") is None:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} did not finish ({record.get('status')}); a baseline has to be complete"
        )
    return Baseline(str(run["id"]), list(record["result"]["findings"]))
