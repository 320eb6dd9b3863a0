"""A review outcome rebuilt from its stored public JSON, so history can export a past run
as Markdown or SARIF exactly as it was, without the file it reviewed."""

from __future__ import annotations

from typing import Any

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
