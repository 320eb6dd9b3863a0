"""Running a triage: the prompt for the chosen mode, streamed actions, the validated
result, reference checks and judges. `triage_events` is the one implementation; the CLI
prints its events and the TUI will render them. It never raises a provider error: a
failure ends the stream with an outcome that holds what arrived before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from app.calls.outcome import CallsOutcome
from app.calls.partial import ListStreamer
from app.calls.provenance import labelled
from app.calls.structured import final_reply, stream_items
from app.resources import fill_prompt, load_prompt, marker_tag
from app.source.injection import scan_lines
from app.source.inputs import TextInput
from app.source.model import split_lines
from app.triage.contract import ReferenceChecks, TriageInput, TriageMode, TriageOutput
from app.triage.judge import JudgeResult, disagreement, judge_request, model_family, run_judge
from app.triage.model import Action, FollowUp, result_model, streamed_list
from app.triage.reference import Reference, reference_checks
from providers import Provider, Request, Response
from providers.errors import ProviderError
from providers.types import Check

# Business context the prompt names explicitly; other keys are passed through as given.
KNOWN_CONTEXT = {
    "users_affected": "share or number of users affected",
    "customers_affected": "customers affected",
    "revenue_impact": "revenue impact",
    "sla_at_risk": "SLA at risk",
    "customer_facing": "customer-facing",
}


@dataclass(frozen=True)
class ItemFound:
    """One action (active) or follow-up (postmortem), the moment it is complete."""

    item: Action | FollowUp


@dataclass(frozen=True)
class JudgingStarted:
    judges: list[str]


@dataclass(frozen=True)
class TriageFinished:
    outcome: TriageOutcome


@dataclass
class TriageOutcome(CallsOutcome):
    provider: str
    model: str
    mode: str
    input: TextInput
    context: dict[str, str]
    result: Any = None
    responses: list[Response] = field(default_factory=list)
    error: ProviderError | None = None
    checks: list[Check] = field(default_factory=list)
    partial_text: str = ""
    reference: Reference | None = None
    reference_checks: dict[str, Any] | None = None
    judges: list[JudgeResult] = field(default_factory=list)
    judges_dropped: list[str] = field(default_factory=list)  # --no-self-judging: the candidate's own family
    elapsed_s: float = 0.0


def context_text(context: dict[str, str]) -> str:
    if not context:
        return "(none given: judge business impact from the report alone, and say what you assumed)"
    return "\n".join(f"- {KNOWN_CONTEXT.get(k, k.replace('_', ' '))}: {v}" for k, v in context.items())


def triage_request(incident: str, mode: str, context: dict[str, str], *, max_tokens: int) -> Request:
    tag = marker_tag(incident)
    values = {
        "mode": mode,
        "context": context_text(context),
        "incident": incident,
        "begin_marker": f"<<<INCIDENT {tag} BEGIN>>>",
        "end_marker": f"<<<INCIDENT {tag} END>>>",
    }
    user, stable = fill_prompt("triage_user", values)  # all of it: repeats and compare sides resend it
    request = Request.ask(
        user,
        system=load_prompt(f"triage_{mode}"),
        max_tokens=max_tokens,
        output_schema=result_model(mode),
        stable_prefix=stable,
    )
    # The input is the incident and the business context: both change what a triage says.
    return labelled(
        request, templates=("triage_user", f"triage_{mode}"), input_text=f"{incident}\n{context_text(context)}"
    )


def input_checks(text_input: TextInput) -> list[Check]:
    flags = scan_lines(split_lines(text_input.text))
    if not flags:
        return []
    shown = "; ".join(f"line {f.line}: {f.reason} ({f.excerpt})" for f in flags[:8])
    return [
        Check(
            "prompt_injection",
            "warning",
            f"{len(flags)} line(s) in the incident address the model: {shown}",
            "They were sent as data with an instruction not to obey them; check the severity and actions.",
        )
    ]


async def triage_events(
    provider: Provider,
    text_input: TextInput,
    *,
    mode: str,
    context: dict[str, str],
    max_tokens: int,
    reference: Reference | None = None,
    judges: Sequence[Provider] = (),
    judge_reference: str | None = None,
    self_judging: bool = True,
    input_flags: list[Check] | None = None,
) -> AsyncIterator[Any]:
    """The triage as events; then, when there are `judges`, their grades. `judge_reference`
    is the reference answer as the judges may read it (app.calls.outbound: the run builder
    redacts it for a remote judge like everything else that leaves the machine). Without
    `self_judging`, a judge of the candidate's own model family is not asked."""
    outcome = TriageOutcome(
        provider=provider.name,
        model=provider.model,
        mode=mode,
        input=text_input,
        context=context,
        reference=reference,
        checks=[*(input_flags or []), *input_checks(text_input)],
    )
    started = time.perf_counter()
    request = triage_request(text_input.text, mode, context, max_tokens=max_tokens)
    field_name, item_model = streamed_list(mode)
    streamer: ListStreamer[Any] = ListStreamer(field_name, item_model)
    response: Response | None = None
    try:
        async for kind, value in stream_items(provider, request, streamer):
            if kind == "item":
                yield ItemFound(value)
            elif kind == "event":
                yield value
            else:
                response = value
        assert response is not None
        outcome.responses.append(response)
        outcome.result, checks, _ = await final_reply(
            provider, request, response, outcome.responses, what="triage", limit_hint="Raise --max-tokens."
        )
        outcome.checks.extend(checks)
    except ProviderError as error:
        outcome.record_failure(error, response)
    outcome.elapsed_s = time.perf_counter() - started
    outcome.reference_checks = reference_checks(reference, outcome.result, mode)

    family = model_family(provider.name, provider.model)
    if not self_judging:
        outcome.judges_dropped = [j.spec for j in judges if model_family(j.name, j.model) == family]
        judges = [j for j in judges if j.spec not in outcome.judges_dropped]
    if outcome.result is not None and judges:
        yield JudgingStarted([j.spec for j in judges])
        jr = judge_request(
            text_input.text,
            outcome.result.model_dump_json(indent=1),
            judge_reference,
            mode,
        )
        outcome.judges = list(await asyncio.gather(*(run_judge(j, jr, candidate_family=family) for j in judges)))
    yield TriageFinished(outcome)


def triage_output(outcome: TriageOutcome) -> TriageOutput:
    return TriageOutput(
        task="triage",
        input=TriageInput(
            path=outcome.input.path,
            sha256=outcome.input.sha256,
            chars=len(outcome.input.text),
            encoding=outcome.input.encoding,
        ),
        result=None if outcome.result is None else outcome.result.model_dump(),
        mode=cast(TriageMode, outcome.mode),  # one of MODES: the run builder refuses any other
        context=outcome.context,
        reference_checks=None
        if outcome.reference_checks is None
        else ReferenceChecks.model_validate(outcome.reference_checks),
        judges=[j.output() for j in outcome.judges],
        judge_disagreement=disagreement(outcome.judges),
        judges_dropped=outcome.judges_dropped,
        **outcome.envelope(),
    )


def triage_json(outcome: TriageOutcome) -> dict[str, Any]:
    return triage_output(outcome).public()
