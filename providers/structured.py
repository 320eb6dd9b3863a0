"""Turning a model's reply into a validated object, tolerantly.

Native structured output usually yields bare JSON, but endpoints without it wrap the
object in prose or code fences. We look for the object, parse it, and validate it with
the caller's pydantic model; a failure is reported with the first validation error so
the caller can show it or ask the model to repair it once.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pydantic costs ~0.1 s to import; only structured calls need it
    from pydantic import BaseModel

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json_text(text: str) -> str:
    """The most likely JSON object in `text`: fenced block, else outermost braces."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return stripped
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else stripped


def parse_structured(text: str, schema: type[BaseModel]) -> tuple[Any, str | None]:
    """(object, None) when `text` holds a valid instance of `schema`, else (None, reason)."""
    from pydantic import ValidationError

    candidate = extract_json_text(text)
    if not candidate:
        return None, "the reply is empty"
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as exc:
        return None, f"the reply is not valid JSON ({exc.msg} at character {exc.pos})"
    try:
        return schema.model_validate(data), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        return None, f"the reply does not match the schema: {where}: {first['msg']}"


def schema_instructions(schema: type[BaseModel]) -> str:
    """For endpoints without native structured output: the schema goes in the prompt."""
    return (
        "Reply with one JSON object and nothing else: no prose, no code fences. "
        "It must validate against this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )
