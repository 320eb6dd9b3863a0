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

#: More output tokens than any model writes in one answer: a limit above this is a typo,
#: refused before anything is sent, whatever the model.
OUTPUT_TOKENS_CEILING = 1_000_000

# The most output tokens each family takes in one answer without beta headers (which
# driftcheck never sends), from Anthropic's and OpenAI's model pages; first match wins.
# Where a family's members differ, the largest is declared, so that no valid request is
# refused; a model not listed is bounded only by OUTPUT_TOKENS_CEILING.
_MAX_OUTPUT: dict[str, tuple[tuple[re.Pattern[str], int], ...]] = {
    "anthropic": (
        (re.compile(r"^claude-opus-4-[6-9]"), 128_000),
        (re.compile(r"^claude-opus-4-5"), 64_000),
        (re.compile(r"^claude-opus-4"), 32_000),
        (re.compile(r"^claude-(sonnet|haiku)-4|^claude-3-7-sonnet"), 64_000),
        (re.compile(r"^claude-3-5-"), 8_192),
        (re.compile(r"^claude-3-"), 4_096),
    ),
    "openai": (
        (re.compile(r"^gpt-5"), 128_000),
        (re.compile(r"^o\d"), 100_000),
        (re.compile(r"^gpt-4\.1"), 32_768),
        (re.compile(r"^gpt-4o"), 16_384),
    ),
}


def declared_max_output(family: str, model: str) -> int | None:
    for pattern, limit in _MAX_OUTPUT.get(family, ()):
        if pattern.match(model):
            return limit
    return None


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
    #: The most output tokens the model takes in one answer, when known.
    max_output_tokens: int | None = None
    #: The API takes OpenAI's `prompt_cache_key` (OpenAI's own API; compatible servers may
    #: reject unknown parameters, so they are not sent it).
    prompt_cache_key: bool = False

    def output_limit_problem(self, max_tokens: int) -> str | None:
        """Why `max_tokens` cannot be asked of this model, or None when it can."""
        if self.context_tokens is not None and max_tokens > self.context_tokens:
            return f"more than its context window holds ({self.context_tokens:,} tokens, prompt included)"
        if self.max_output_tokens is not None and max_tokens > self.max_output_tokens:
            return f"more than it writes in one answer (at most {self.max_output_tokens:,} output tokens)"
        if max_tokens > OUTPUT_TOKENS_CEILING:
            return f"more than any model writes in one answer (at most {OUTPUT_TOKENS_CEILING:,} here)"
        return None


def anthropic_capabilities(model: str) -> Capabilities:
    # Extended thinking is billed as output tokens on every current Claude model.
    return Capabilities(
        native_structured_output=True,
        streaming_usage=True,
        reasoning_tokens=True,
        token_param="max_tokens",
        max_output_tokens=declared_max_output("anthropic", model),
    )


def openai_capabilities(model: str) -> Capabilities:
    # OpenAI's own API accepts max_completion_tokens on every chat model and requires it
    # on reasoning models, so it is always the safe choice there.
    return Capabilities(
        native_structured_output=True,
        streaming_usage=True,
        reasoning_tokens=bool(_OPENAI_REASONING.match(model)),
        token_param="max_completion_tokens",
        max_output_tokens=declared_max_output("openai", model),
        prompt_cache_key=True,
    )


def endpoint_capabilities(
    *, token_param: TokenParam = "max_tokens", structured_output: bool | str = True, streaming_usage: bool = True
) -> Capabilities:
    """OpenAI-compatible servers vary; the endpoint's config says what it supports."""
    return Capabilities(
        native_structured_output=bool(structured_output),
        streaming_usage=streaming_usage,
        reasoning_tokens=False,
        token_param=token_param,
        structured_output_format="json_object" if structured_output == "json_object" else "json_schema",
    )
