"""Silent-failure checks, run after every call.

An API can succeed, bill you, and return nothing useful: the seeds' GPT-5.5 runs came
back as empty strings with a charge because reasoning ate the whole token budget. Each
check here names such a failure and says what to change.
"""

from __future__ import annotations

from .capabilities import Capabilities
from .errors import EmptyResponseError, InvalidOutputError
from .structured import parse_structured
from .types import Check, Request, Response

# Share of the output spent reasoning above which we blame reasoning for the empty answer.
REASONING_SHARE = 0.9


def run_checks(request: Request, response: Response, caps: Capabilities) -> tuple[list[Check], object]:
    """The checks that fired, and the parsed object when a schema was requested."""
    checks: list[Check] = []
    usage = response.usage
    out = usage.output_tokens or 0
    reasoning = usage.reasoning_tokens or 0
    empty = not response.text.strip()
    limit, param = request.max_tokens, caps.token_param

    if empty and reasoning and reasoning >= REASONING_SHARE * out:
        checks.append(
            Check(
                "reasoning_exhausted",
                "error",
                f"empty answer: {reasoning} of {out} billed output tokens went to reasoning",
                f"The model spent its whole budget thinking. Raise {param} (now {limit}), "
                f"for example to {limit * 4}, or lower the reasoning effort.",
            )
        )
    elif empty and out > 0:
        checks.append(
            Check(
                "empty_billed",
                "error",
                f"empty answer, but {out} output tokens were billed",
                "The API returned no text and charged for it. Check the token limit "
                f"({param}={limit}) and the finish reason ({response.raw_finish_reason}); "
                "try again or use another provider.",
            )
        )
    elif response.content_null and response.finish_reason == "stop":
        checks.append(
            Check(
                "null_content",
                "error",
                "the API returned no content with finish reason 'stop'",
                "Nothing was generated although the call ended normally; this is usually a "
                "refusal or a filter on the endpoint. Rephrase, or try another provider.",
            )
        )

    if response.finish_reason == "length" and not empty:
        checks.append(
            Check(
                "truncated",
                "warning",
                f"the answer was cut off at the token limit ({param}={limit})",
                f"Raise {param} above {limit}; the text shown is incomplete.",
            )
        )

    if response.finish_reason == "unknown":
        checks.append(_possibly_incomplete(response.raw_finish_reason))

    if not usage.reported:
        checks.append(
            Check(
                "usage_missing",
                "warning",
                "the endpoint reported no token usage",
                "Tokens and cost are unknown for this call. If the endpoint is OpenAI-compatible, "
                "check that it supports stream_options.include_usage.",
            )
        )

    parsed = None
    if request.output_schema is not None and not empty:
        parsed, problem = parse_structured(response.text, request.output_schema)
        if problem:
            checks.append(
                Check(
                    "schema_invalid",
                    "error",
                    problem,
                    "The reply cannot be used as structured output; it was kept as text. "
                    "Retry, or use a provider with native structured output.",
                )
            )
    return checks, parsed


def _possibly_incomplete(raw: str | None) -> Check:
    """The stream ended without saying it was done: no finish reason, Anthropic's
    `pause_turn` (a long turn paused part way, to be continued), or one we do not know."""
    if raw is None:
        what = "the stream ended without a finish reason"
    elif raw == "pause_turn":
        what = "the provider paused the turn (pause_turn) before finishing it"
    else:
        what = f"the stream ended with a finish reason driftcheck does not know ({raw!r})"
    return Check(
        "possibly_incomplete",
        "warning",
        f"{what}: the answer may be incomplete",
        "Nothing says the model finished. Read the answer as possibly cut short; run it again, "
        "or use another provider if it keeps happening.",
    )


def raise_for_checks(response: Response) -> None:
    """Turn a failed error-level check into an error, keeping the (billed) response."""
    for check in response.checks:
        if check.severity != "error":
            continue
        cls = InvalidOutputError if check.name == "schema_invalid" else EmptyResponseError
        raise cls(
            check.message,
            provider=response.spec,
            request_id=response.request_id,
            hint=check.diagnosis,
            response=response,
            retries=response.retries,
        )
