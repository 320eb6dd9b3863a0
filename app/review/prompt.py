"""Building the review request for one chunk of a file.

The code goes in as numbered lines between two marker lines carrying a random tag that
does not occur in the file, so nothing inside the code can close the block early and
speak as the prompt. The system prompt says that the block is data.
"""

from __future__ import annotations

from app.resources import fill_prompt, load_prompt, marker_tag
from app.review.model import ReviewReply
from app.source.model import Chunk, SourceFile
from providers import Request


def review_prompt(source: SourceFile, chunk: Chunk, total_chunks: int) -> tuple[str, int]:
    """The prompt and its stable prefix: all of it for a whole file (repeats and compare
    sides resend it verbatim), up to the chunk's scope for a part (every chunk shares the
    header and the outline)."""
    tag = marker_tag(source.text)
    if total_chunks == 1:
        scope = f"This is the whole file: lines 1-{source.line_count}."
    else:
        scope = (
            f"This request covers lines {chunk.start}-{chunk.end} of {source.line_count} "
            f"(part {chunk.index + 1} of {total_chunks}). Report only problems within these "
            f"lines; the rest of the file is reviewed separately."
        )
    values = {
        "language": source.language or "source (language not recognised; plain text)",
        "path": source.path,
        "scope": scope,
        "outline": source.outline(),
        "begin_marker": f"<<<CODE {tag} BEGIN>>>",
        "end_marker": f"<<<CODE {tag} END>>>",
        "code": source.numbered(chunk.start, chunk.end),
    }
    return fill_prompt("review_user", values, stable_until=None if total_chunks == 1 else "scope")


def review_request(source: SourceFile, chunk: Chunk, total_chunks: int, *, max_tokens: int) -> Request:
    prompt, stable = review_prompt(source, chunk, total_chunks)
    return Request.ask(
        prompt,
        system=load_prompt("review_system"),
        max_tokens=max_tokens,
        output_schema=ReviewReply,
        stable_prefix=stable,
    )
