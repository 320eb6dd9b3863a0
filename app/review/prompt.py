"""Building the review request for one chunk of a file.

The code goes in as numbered lines between two marker lines carrying a random tag that
does not occur in the file, so nothing inside the code can close the block early and
speak as the prompt. The system prompt says that the block is data.
"""

from __future__ import annotations

from app.calls.provenance import labelled
from app.resources import fill_prompt, load_prompt, marker_tag
from app.review.model import PackedReviewReply, ReviewReply
from app.source.model import Chunk, SourceFile
from providers import Request


def review_prompt(
    source: SourceFile, chunk: Chunk, total_chunks: int, changed: frozenset[int] | None = None
) -> tuple[str, int]:
    """The prompt and its stable prefix: all of it for a whole file (repeats and compare
    sides resend it verbatim), up to the chunk's scope for a part or a change (every chunk
    shares the header and the outline)."""
    tag = marker_tag(source.text)
    if changed is not None:
        scope = change_scope(source, chunk, total_chunks)
    elif total_chunks == 1:
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
        "code": code_of(source, chunk, changed),
    }
    whole = total_chunks == 1 and changed is None
    return fill_prompt("review_user", values, stable_until=None if whole else "scope")


def change_scope(source: SourceFile, chunk: Chunk, total_chunks: int) -> str:
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in chunk.parts)
    part = f" (part {chunk.index + 1} of {total_chunks})" if total_chunks > 1 else ""
    return (
        f"This is a change under review. You see the changed parts of the new version of the file "
        f"(lines {shown} of {source.line_count}{part}); lines marked `+` after their number were added or "
        f"changed, the others are unchanged context. Report problems the change introduces or leaves in "
        f"place in the code shown; cite the line numbers as shown."
    )


def change_code(source: SourceFile, chunk: Chunk, changed: frozenset[int]) -> str:
    """The chunk's parts, numbered with changed lines marked, a `⋮` line between parts."""
    return "\n   ⋮\n".join(source.numbered(a, b, marked=changed) for a, b in chunk.parts)


def code_of(source: SourceFile, chunk: Chunk, changed: frozenset[int] | None) -> str:
    return change_code(source, chunk, changed) if changed is not None else source.numbered(chunk.start, chunk.end)


def pack_request(members: list[tuple[SourceFile, Chunk, frozenset[int] | None]], *, max_tokens: int) -> Request:
    """One request for several small files of a change (each sent whole or as its changed
    parts, in one chunk), each between its own markers; findings name their file."""
    tag = marker_tag(*(source.text for source, _, _ in members))
    sections = [
        fill_prompt(
            "review_pack_file",
            {
                "path": source.path,
                "language": source.language or "not recognised (plain text)",
                "outline": source.outline(),
                "scope": change_scope(source, chunk, 1)
                if changed is not None
                else f"This is the whole file: lines 1-{source.line_count}.",
                "begin_marker": f"<<<CODE {tag} BEGIN>>>",
                "end_marker": f"<<<CODE {tag} END>>>",
                "code": code_of(source, chunk, changed),
            },
        )[0]
        for source, chunk, changed in members
    ]
    prompt, _ = fill_prompt("review_pack_user", {"count": str(len(members)), "files": "\n\n".join(sections)})
    request = Request.ask(
        prompt, system=load_prompt("review_system"), max_tokens=max_tokens, output_schema=PackedReviewReply
    )
    return labelled(
        request,
        templates=("review_system", "review_pack_user", "review_pack_file"),
        input_text="\n".join(source.text for source, _, _ in members),
    )


def review_request(
    source: SourceFile, chunk: Chunk, total_chunks: int, *, max_tokens: int, changed: frozenset[int] | None = None
) -> Request:
    prompt, stable = review_prompt(source, chunk, total_chunks, changed)
    request = Request.ask(
        prompt,
        system=load_prompt("review_system"),
        max_tokens=max_tokens,
        output_schema=ReviewReply,
        stable_prefix=stable,
    )
    return labelled(request, templates=("review_system", "review_user"), input_text=source.text)
