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
    return text[start : end + 1] if 0 <= start < end else stripped


def parse_structured(text: str, schema: type[BaseModel]) -> tuple[Any, str | None]:
    """(object, None) when `text` holds a valid instance of `schema`, else (None, reason)."""
    from pydantic import ValidationError

    candidate = extract_json_text(text)
    if not candidate:
        return None, "the reply is empty"
    try:
        # strict=False: a raw newline or tab inside a string is a slip, not a wrong answer.
        data = json.loads(candidate, strict=False)
    except json.JSONDecodeError as exc:
        return None, f"the reply is not valid JSON ({exc.msg}; character {exc.pos})"
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
        "It must validate against this JSON schema:\n" + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )


# Bounds put on a schema before a server turns it into a grammar (llama.cpp in-process, or
# llama-cpp-python's server). A small model can repeat a phrase until the token limit;
# with these, the worst case is a long but valid object.
MAX_STRING_CHARS = 300
MAX_ARRAY_ITEMS = 6


def bounded_schema(schema: Any, *, max_string: int = MAX_STRING_CHARS, max_items: int = MAX_ARRAY_ITEMS) -> Any:
    """The schema with limits a grammar can enforce: string lengths, list lengths, and small
    integer ranges as enums. The enums are for a server that builds the grammar itself with
    llama-cpp-python's converter, which ignores minimum/maximum; where driftcheck builds
    the grammar (grammar.py), every numeric bound is enforced."""
    if isinstance(schema, list):
        return [bounded_schema(item, max_string=max_string, max_items=max_items) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: bounded_schema(value, max_string=max_string, max_items=max_items) for key, value in schema.items()}
    kind = out.get("type")
    if kind == "string" and "enum" not in out and "maxLength" not in out:
        out["maxLength"] = max_string
    elif kind == "array" and "maxItems" not in out:
        out["maxItems"] = max_items
    elif kind == "integer" and {"minimum", "maximum"} <= out.keys() and out["maximum"] - out["minimum"] <= 20:
        low, high = int(out.pop("minimum")), int(out.pop("maximum"))
        del out["type"]
        out["enum"] = list(range(low, high + 1))
    return out
