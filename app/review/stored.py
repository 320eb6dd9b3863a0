"""A review outcome rebuilt from its stored public JSON, so history can export a past run
as Markdown or SARIF exactly as it was, without the file it reviewed; a review of a
change or of several files rebuilt file by file."""

from __future__ import annotations

from typing import Any

from app.review.change import ChangeOutcome
from app.review.files import ChangedFile, ChangeInput, LeftOut
from app.review.model import Finding, ReviewResult
from app.review.task import ReviewOutcome
from app.source.inputs import TextInput
from app.source.model import Chunk, SourceFile
from providers.errors import ProviderError
from providers.types import Check


class StoredError(ProviderError):
    """An error as it was recorded: its one line is the recorded message."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(
            str(data.get("message", "")),
            status=data.get("status"),
            request_id=data.get("request_id"),
            retries=int(data.get("retries") or 0),
        )
        self.stored_kind = str(data.get("kind", "provider_error"))

    def one_line(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "kind": self.stored_kind, "message": self.message}


def outcome_from_json(record: dict[str, Any]) -> ReviewOutcome:
    info = record.get("input") or {}
    path = str(info.get("path", ""))
    text_input = TextInput(
        path=path,
        text="",
        encoding=str(info.get("encoding", "utf-8")),
        sha256=str(info.get("sha256", "")),
        size_bytes=0,
    )
    source = SourceFile(path=path, text="", lines=[], language=info.get("language"))
    chunks = [Chunk(index=n, start=c["start"], end=c["end"], tokens=0) for n, c in enumerate(info.get("chunks") or [])]
    result = record.get("result")
    outcome = ReviewOutcome(
        provider=str(record.get("provider", "")),
        model=str(record.get("model", "")),
        input=text_input,
        source=source,
        chunks=chunks,
        result=None
        if result is None
        else ReviewResult(
            score=result.get("score"),
            summary=result.get("summary", ""),
            findings=[Finding(**f) for f in result.get("findings", [])],
        ),
        error=None if record.get("error") is None else StoredError(record["error"]),
        checks=[Check(**c) for c in record.get("checks", [])],
        partial_text=record.get("partial_text") or "",
        answer_key=record.get("answer_key"),
    )
    return outcome


def is_change_record(record: dict[str, Any]) -> bool:
    """Whether a stored review covers several files or a change (it has `files`)."""
    return record.get("task") == "review" and "files" in record


def change_from_json(record: dict[str, Any]) -> ChangeOutcome:
    """A stored review of several files or of a change, as the outcome its renderers read."""
    info = record.get("input") or {}
    change = ChangeInput(
        label=str(info.get("label", "")),
        is_change=info.get("kind") == "change",
        range=info.get("range"),
        root=info.get("root"),
    )
    findings = ((record.get("result") or {}).get("findings")) or []
    outcome = ChangeOutcome(provider=str(record.get("provider", "")), model=str(record.get("model", "")), change=change)
    for entry in record.get("files") or []:
        path = str(entry["path"])
        if entry.get("status") == "left_out":
            change.left_out.append(LeftOut(path, str(entry.get("change", "")), str(entry.get("reason", ""))))
            continue
        file_record = {
            **record,
            "input": {**entry, "encoding": "utf-8"},
            "result": {
                "score": entry.get("score"),
                "summary": entry.get("summary") or "",
                "findings": [f for f in findings if f.get("path") == path],
            },
            "error": entry.get("error"),
            "checks": entry.get("checks") or [],
            "partial_text": entry.get("partial_text"),
            "answer_key": entry.get("answer_key"),
        }
        file_outcome = outcome_from_json(file_record) if entry.get("status") != "not_sent" else None
        source = file_outcome.source if file_outcome else SourceFile(path=path, text="", lines=[], language=None)
        text_input = file_outcome.input if file_outcome else TextInput(path, "", "utf-8", "", 0)
        change.files.append(
            ChangedFile(
                path, text_input, source, status=str(entry.get("change", "file")), old_path=entry.get("old_path")
            )
        )
        outcome.outcomes[path] = file_outcome
    outcome.error = None if record.get("error") is None else StoredError(record["error"])
    outcome.checks = [Check(**c) for c in record.get("checks", [])]
    outcome.baseline = record.get("baseline")
    return outcome
