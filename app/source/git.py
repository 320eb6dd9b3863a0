"""The change in a git repository, asked of git itself.

git is the authority on what changed (its rename detection, its ignore rules, its
revision syntax), so this module runs `git` as a subprocess with options that no user
configuration can change the shape of: no colour, no external diff tool, a/ b/ prefixes.
Every failure is an InputError with git's own reason in it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from app.errors import InputError

_GIT_TIMEOUT_S = 60


@dataclass(frozen=True)
class ChangeSpec:
    """Which change: the working tree against HEAD (rev None), the index (staged), a single
    revision against the working tree ("HEAD~1"), or a range ("main...HEAD", "A..B")."""

    rev: str | None = None
    staged: bool = False

    @property
    def label(self) -> str:
        if self.staged:
            return "the staged change"
        return f"the change {self.rev}" if self.rev else "the working tree's change"

    @property
    def new_side(self) -> str | None:
        """The revision holding the new files, or None when they are on disk (or staged)."""
        if self.rev and ".." in self.rev:
            return self.rev.split("..")[-1].lstrip(".") or "HEAD"
        return None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("git is not installed (or not on PATH); --diff needs it") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} did not answer within {_GIT_TIMEOUT_S} s") from None


def _reason(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0].removeprefix("fatal: ").removeprefix("error: ") if lines else f"exit status {result.returncode}"


def repo_root(cwd: Path) -> Path:
    """The top of the repository holding `cwd`; InputError when there is none."""
    if not cwd.is_dir():
        raise InputError(f"{cwd}: no such directory")
    result = _git(cwd, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise InputError(
            f"{cwd} is not inside a git repository; --diff reviews a git change (or pass --diff - with a patch on stdin)"
        )
    return Path(result.stdout.decode("utf-8", "replace").strip())


def is_revision(root: Path, rev: str) -> bool:
    """Whether git reads `rev` as a revision or a range (not as a path)."""
    if rev.startswith("-"):
        return False
    return _git(root, "rev-parse", "--quiet", rev, "--").returncode == 0


def diff_text(root: Path, spec: ChangeSpec, paths: list[str]) -> str:
    """The unified diff of `spec`, limited to `paths` (relative to `root`) when given."""
    if spec.rev is not None and (spec.rev.startswith("-") or not spec.rev.strip()):
        raise InputError(f"{spec.rev!r} is not a revision or range (e.g. HEAD~1, main...HEAD)")
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--src-prefix=a/", "--dst-prefix=b/"]
    if spec.staged:
        args.append("--cached")
    if spec.rev:
        args.append(spec.rev)
    result = _git(root, *args, "--", *paths)
    if result.returncode != 0:
        reason = _reason(result)
        if spec.rev and ("unknown revision" in reason or "bad revision" in reason or "ambiguous argument" in reason):
            raise InputError(f"{spec.rev}: unknown revision or range in {root} ({reason})")
        raise InputError(f"git diff failed in {root}: {reason}")
    return result.stdout.decode("utf-8", "surrogateescape")


def new_file_bytes(root: Path, spec: ChangeSpec, path: str) -> bytes | None:
    """The new version of `path` as the change has it: from the range's last revision, the
    index, or the working tree. None when it cannot be read."""
    revision = spec.new_side
    if revision is None and not spec.staged:
        try:
            return (root / path).read_bytes()
        except OSError:
            return None
    result = _git(root, "show", f"{revision or ''}:{path}")
    return result.stdout if result.returncode == 0 else None


def inside(root: Path, path: Path) -> str:
    """`path` relative to the repository at `root`; InputError when it is outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"{path} is outside the repository {root}") from None
