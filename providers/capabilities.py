"""What each model can do, declared rather than discovered by failing calls.

The token-limit parameter is the seeds' lesson: GPT-5-class models reject `max_tokens`
and want `max_completion_tokens`, and reasoning models spend part of that budget
thinking before they write a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .types import TokenParam

# OpenAI model families that reason and take max_completion_tokens only.
_OPENAI_REASONING = re.compile(r"^(gpt-5|o\d)")


@dataclass(frozen=True, slots=True)
class Capabilities:
    native_structured_output: bool
    streaming_usage: bool
    reasoning_tokens: bool
    token_param: TokenParam
    #: The context window when it is small enough to plan around (local models); None
    #: for hosted models whose windows are far larger than anything driftcheck sends.
    context_tokens: int | None = None
    #: How native structured output is asked for: OpenAI's `json_schema`, or the
    #: `json_object` + `schema` form that llama-cpp-python's server understands.
    structured_output_format: str = "json_schema"


def anthropic_capabilities(model: str) -> Capabilities:
    # Extended thinking is billed as output tokens on every current Claude model.
    return Capabilities(native_structured_output=True, streaming_usage=True,
                        reasoning_tokens=True, token_param="max_tokens")


def openai_capabilities(model: str) -> Capabilities:
    # OpenAI's own API accepts max_completion_tokens on every chat model and requires it
    # on reasoning models, so it is always the safe choice there.
    return Capabilities(native_structured_output=True, streaming_usage=True,
                        reasoning_tokens=bool(_OPENAI_REASONING.match(model)),
                        token_param="max_completion_tokens")


def endpoint_capabilities(*, token_param: TokenParam = "max_tokens",
                          structured_output: bool | str = True,
                          streaming_usage: bool = True) -> Capabilities:
    """OpenAI-compatible servers vary; the endpoint's config says what it supports."""
    return Capabilities(native_structured_output=bool(structured_output),
                        streaming_usage=streaming_usage, reasoning_tokens=False,
                        token_param=token_param,
                        structured_output_format="json_object" if structured_output == "json_object"
                        else "json_schema")
