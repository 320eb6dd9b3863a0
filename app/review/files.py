"""What a review of several files, or of a change, is given: each file to review with
what the change did to it, and the files it leaves out with the reason.

The run builder (app.run.change) fills it from paths, a git change or a diff on stdin;
the planner and the review read it. Nothing here has touched a provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.review.answer_key import AnswerKey
from app.source.inputs import TextInput
from app.source.model import SourceFile


@dataclass
class ChangedFile:
    """One file to review."""

    path: str  # as shown to the user: relative to the repository for a change
    text_input: TextInput
    source: SourceFile
    status: str = "file"  # added | modified | renamed, or "file" when named rather than changed
    old_path: str | None = None  # where a renamed file came from
    changed: frozenset[int] | None = None  # the new lines the change touched; None: the whole file
    known: frozenset[int] | None = None  # only these lines are known (a diff without the file at hand)
    key: AnswerKey | None = None


@dataclass(frozen=True)
class LeftOut:
    """A file of the change that is not reviewed, and why."""

    path: str
    status: str  # deleted | renamed | added | modified | file
    reason: str  # deleted | renamed only | binary | vendored | generated | unreadable | too large


@dataclass
class ChangeInput:
    """The files of one review of several files or of a change."""

    label: str  # what is reviewed, for messages: "HEAD~1", "the staged change", "2 paths"
    is_change: bool  # a diff: findings are marked outside_change; else whole files
    files: list[ChangedFile] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    range: str | None = None  # the revision or range, for the JSON (None: working tree, staged, stdin, paths)
    root: str | None = None  # the repository's top, which a change's paths are relative to

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]
