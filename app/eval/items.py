"""What an eval runs on: incidents (triaged), source files and changes (reviewed).

`--set incidents`, `samples` and `all` name the bundled folders; any other value is a
path: an incident file (.md, .txt, .log, or anything with a .reference.toml beside it),
a change (a unified diff, .diff or .patch, reviewed as `review --diff -` reviews it), a
source file, or a folder, from which every incident, change and source file in a
language driftcheck knows is taken (READMEs and hidden files are left out). An input
without a reference or answer key is still run: the judges alone grade it. Every
problem is a UsageError before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.resources import bundled_dir
from app.review.answer_key import KEY_SUFFIX, AnswerKey
from app.review.files import ChangeInput
from app.source.inputs import TextInput
from app.source.model import SourceFile, detect_language
from app.triage.reference import REFERENCE_SUFFIX, Reference
from providers import Check

INCIDENT_SUFFIXES = {".md", ".txt", ".log"}
CHANGE_SUFFIXES = {".diff", ".patch"}
BUNDLED = {"incidents": "incidents", "samples": "sample_code"}
MAX_ITEMS = 200


@dataclass
class EvalItem:
    id: str  # how the report names it: a bundled name or the path as given
    task: str  # triage | review
    path: Path
    difficulty: str
    text_input: TextInput
    reference: Reference | None = None  # triage: the incident's reference answer
    key: AnswerKey | None = None  # review: the file's answer key
    source: SourceFile | None = None  # review: the parsed source
    flags: list[Check] = field(default_factory=list)
    change: ChangeInput | None = None  # review of a change: its files (text_input is the diff)
    change_sha256: str | None = None  # a change: the diff's and every new file's digest

    @property
    def sha256(self) -> str:
        return self.change_sha256 or self.text_input.sha256

    @property
    def keyed(self) -> bool:
        """Whether a reference (incident) or an answer key (source file, or a file of a
        change) can check the answers."""
        if self.change is not None:
            return any(f.key is not None for f in self.change.files)
        return self.reference is not None or self.key is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "path": str(self.path),
            "sha256": self.sha256,
            "difficulty": self.difficulty,
            "keyed": self.keyed,
        }


def find_inputs(selection: list[str]) -> list[tuple[str, Path, str]]:
    """(id, path, task) of every input the `--set` values name, in a stable order; a path
    named twice is run once. Reading and checking each is the run builder's (app.run.eval)."""
    found: dict[Path, tuple[str, str]] = {}  # path -> (id, task); a path named twice is run once
    for value in selection:
        names = ["incidents", "samples"] if value == "all" else [value] if value in BUNDLED else []
        for name in names:
            folder = bundled_dir(BUNDLED[name])
            for path, task in _inputs_in(folder):
                found.setdefault(path, (f"{BUNDLED[name]}/{path.name}", task))
        if not names:
            for path, task in _from_path(value):
                found.setdefault(path, (str(path) if value.startswith("/") else _shown(path), task))
    if not found:
        raise UsageError("nothing to evaluate: --set incidents, samples, all, or paths to incidents and source files")
    if len(found) > MAX_ITEMS:
        raise UsageError(f"{len(found)} inputs; an eval takes at most {MAX_ITEMS}. Narrow --set")
    return [(item_id, path, task) for path, (item_id, task) in found.items()]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _inputs_in(folder: Path) -> list[tuple[Path, str]]:
    """The incidents and source files in `folder`, with or without a reference or key."""
    out = []
    for path in sorted(folder.iterdir()):
        if (
            path.name.endswith((KEY_SUFFIX, REFERENCE_SUFFIX))
            or path.name.startswith(".")
            or path.name.upper().startswith("README")
            or not path.is_file()
        ):
            continue
        if _is_incident(path):
            out.append((path.resolve(), "triage"))
        elif (
            is_change(path) or path.with_name(path.name + KEY_SUFFIX).is_file() or detect_language(path, "") is not None
        ):
            out.append((path.resolve(), "review"))
    return out


def is_change(path: Path) -> bool:
    """A unified diff: reviewed as a change, scored by the keys beside its new files."""
    return path.suffix.lower() in CHANGE_SUFFIXES


def _is_incident(path: Path) -> bool:
    return path.suffix.lower() in INCIDENT_SUFFIXES or path.with_name(path.name + REFERENCE_SUFFIX).is_file()


def _from_path(value: str) -> list[tuple[Path, str]]:
    path = Path(value).expanduser()
    if not path.exists():
        raise UsageError(f"--set {value}: no such file or folder (the bundled sets are incidents, samples, all)")
    if path.is_dir():
        files = _inputs_in(path)
        if not files:
            raise UsageError(
                f"--set {value}: no incident ({', '.join(sorted(INCIDENT_SUFFIXES))}), no change "
                f"({', '.join(sorted(CHANGE_SUFFIXES))}) and no source file in a language driftcheck knows "
                f"in this folder"
            )
        return files
    return [(path.resolve(), "triage" if _is_incident(path) else "review")]
