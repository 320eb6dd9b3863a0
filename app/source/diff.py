"""A unified diff, read into what a review of the change needs: for each file its path,
what happened to it, and which lines of the new file the change touched.

`unidiff` does the parsing (git's extended headers, renames, binary markers, "\\ No
newline"); this module turns its hunks into new-file line numbers. A line counts as
changed when it was added, and the line after a deletion counts too, so that a change
that only removes code is still looked at where the code used to be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from app.errors import InputError

if TYPE_CHECKING:
    from unidiff.patch import PatchedFile

ChangeStatus = Literal["added", "modified", "deleted", "renamed"]


@dataclass
class FileChange:
    """One file's part of a change."""

    path: str  # the new path (the old one for a deleted file), relative to the repository
    status: ChangeStatus
    old_path: str | None = None  # where a renamed file came from
    binary: bool = False
    changed: set[int] = field(default_factory=set)  # new-file lines added, or next to a deletion
    known: dict[int, str] = field(default_factory=dict)  # new-file lines the hunks show (context and added)


def parse_diff(text: str, label: str) -> list[FileChange]:
    """The files of a unified diff (git's, or a .patch), in the order it lists them.
    Raises InputError naming `label` when the text is not a diff."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(f"{label} is not a unified diff that can be read: {exc}") from None
    if not len(patch) and text.strip():
        raise InputError(f"{label} is not a unified diff (no '--- a/FILE' / '+++ b/FILE' headers found)")
    return [_file_change(patched, label) for patched in patch]


def _file_change(patched: PatchedFile, label: str) -> FileChange:
    status: ChangeStatus
    if patched.is_added_file:
        status = "added"
    elif patched.is_removed_file:
        status = "deleted"
    elif patched.is_rename:
        status = "renamed"
    else:
        status = "modified"
    # unidiff's `path` has git's a/ or b/ already taken off; the source file name does not.
    path = safe_relative(patched.path, label)
    old = _strip_prefix(patched.source_file) if status == "renamed" else None
    change = FileChange(
        path=path,
        status=status,
        old_path=safe_relative(old, label) if old else None,
        binary=bool(patched.is_binary_file),
    )
    for hunk in patched:
        previous = hunk.target_start - 1  # the new-file line before the next one we see
        for line in hunk:
            if (line.is_added or line.is_context) and line.target_line_no is not None:
                previous = line.target_line_no
                change.known[previous] = line.value.rstrip("\r\n")
                if line.is_added:
                    change.changed.add(previous)
            elif line.is_removed and status != "deleted":
                change.changed.add(max(1, previous + 1))  # where the removed code was
    if change.known:  # a deletion at the very end points one past the last line
        last = max(change.known)
        change.changed = {min(n, last) for n in change.changed}
    return change


def _strip_prefix(path: str) -> str:
    for prefix in ("a/", "b/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def safe_relative(path: str, label: str) -> str:
    """`path` as a relative path inside the repository; InputError for anything that would
    reach outside it (absolute, or through '..')."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not path.strip():
        raise InputError(f"{label} names a path outside the repository: {path!r}")
    return pure.as_posix()


def changed_ranges(lines: set[int]) -> list[tuple[int, int]]:
    """Changed line numbers as sorted, merged ranges: {3, 4, 5, 9} -> [(3, 5), (9, 9)]."""
    ranges: list[tuple[int, int]] = []
    for n in sorted(lines):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    return ranges
