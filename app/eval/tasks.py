"""One cell's work: a model's answer on an item, and each judge's grade of it.

Answers come from the same task code as `review` and `triage` (`review_events`,
`triage_events`), so an eval measures exactly what those commands do. The answer and
each grade are returned as public JSON, which is what the eval stores as it goes and
what a resumed eval reads back: a grade is always made from the stored answer, so a
resumed cell grades the same text an uninterrupted one would have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.calls.contract import ErrorInfo
from app.calls.outbound import outbound
from app.eval.items import EvalItem
from app.notes import Notify
from app.review.plan import ReviewPlan
from app.source.inputs import TextInput
from app.triage.contract import JudgeOut
from app.triage.judge import JudgeResult, judge_request, model_family, run_judge
from providers import Check, Provider


@dataclass
class Prepared:
    """What one model is sent for one item: the input as it may leave the machine (made by
    app.run.eval)."""

    text_input: TextInput
    flags: list[Check]
    review: ReviewPlan | None = None  # for a source file
    change: list[ReviewPlan] | None = None  # for a change: each file's plan, in the change's order


@dataclass
class HedgeSeen:
    """A model's hedging on one answer, from the provider's events: how many of its calls
    were hedged, how many of those the hedge won, how many the budget withheld, and the
    threshold each hedge waited (ms). Kept with the answer, as `hedge`, for the report."""

    fired: int = 0
    won: int = 0
    withheld: int = 0
    after_ms: list[float] = field(default_factory=list)

    def see(self, event: Any) -> None:
        from providers.types import HedgeDecided, HedgeStarted, HedgeWithheld

        if isinstance(event, HedgeStarted):
            self.fired += 1
            self.after_ms.append(round(event.after_s * 1000, 1))
        elif isinstance(event, HedgeDecided):
            self.won += event.hedge_won
        elif isinstance(event, HedgeWithheld):
            self.withheld += 1

    def kept(self, answer: dict[str, Any]) -> dict[str, Any]:
        if self.fired or self.withheld:
            answer["hedge"] = {
                "fired": self.fired,
                "won": self.won,
                "withheld": self.withheld,
                "after_ms": self.after_ms,
            }
        return answer


async def answer(
    provider: Provider, item: EvalItem, prepared: Prepared, *, mode: str, max_tokens: int | None
) -> dict[str, Any]:
    """The model's answer as the task's public JSON (status failed, never an exception,
    when the provider fails), with `hedge` when a hedge fired or was withheld."""
    hedge = HedgeSeen()
    if item.task == "triage":
        from app.triage.task import TriageFinished, triage_events, triage_json

        async for event in triage_events(
            provider,
            prepared.text_input,
            mode=mode,
            context={},
            max_tokens=max_tokens or 4096,
            reference=item.reference,
            input_flags=prepared.flags,
        ):
            hedge.see(event)
            if isinstance(event, TriageFinished):
                return hedge.kept(triage_json(event.outcome))
    elif item.change is not None:
        from app.calls.limits import ProviderLimit
        from app.review.change import ChangeFinished, change_events, change_json

        assert prepared.change is not None  # a change is always prepared with its plans
        # The eval's limit holds a slot for this cell already: its requests go one at a time,
        # but into a batch all at once (each would otherwise wait for a batch of its own).
        ceiling = sum(len(p.chunks) for p in prepared.change) if getattr(provider, "batched", False) else 1
        limit = ProviderLimit(ceiling, probe_first=ceiling == 1)  # a batch has no one-at-a-time probe
        async for event in change_events(prepared.change, provider, item.change, limit=limit):
            hedge.see(getattr(event, "event", event))  # a file's events come wrapped with its path
            if isinstance(event, ChangeFinished):
                return hedge.kept(change_json(event.outcome))
    else:
        from app.review.report import review_json
        from app.review.task import ReviewFinished

        plan = prepared.review
        assert plan is not None  # a review item is always prepared with its plan
        async for event in plan.events(provider, item.text_input, key=item.key):
            hedge.see(event)
            if isinstance(event, ReviewFinished):
                return hedge.kept(review_json(event.outcome))
    raise AssertionError("the task ended without its outcome")


def _not_sent(provider: Provider, refused: dict[str, Any]) -> dict[str, Any]:
    scope = "this model" if refused.get("kind") == "permission_denied" else provider.name
    return ErrorInfo(
        kind=str(refused["kind"]),  # only a known kind of refusal stops a provider
        message=f"not sent: {scope} refused an earlier request of this eval ({refused.get('message')})",
        status=None,
        request_id=None,
        retries=0,
    ).public()


def skipped_answer(provider: Provider, item: EvalItem, refused: dict[str, Any]) -> dict[str, Any]:
    """The answer of a cell that was not sent because its provider refused the key (or
    this model) earlier: status "skipped", with that refusal as the reason."""
    return {
        "task": item.task,
        "provider": provider.name,
        "model": provider.model,
        "status": "skipped",
        "error": _not_sent(provider, refused),
        "result": None,
        "partial_text": None,
        "metrics": None,
        "checks": [],
    }


def skipped_grade(judge: Provider, refused: dict[str, Any]) -> dict[str, Any]:
    """A grade not asked for the same reason, as the public judge object."""
    return JudgeOut(
        judge=judge.spec,
        status="skipped",
        self_graded=False,
        diagnosis=None,
        diagnosis_reason=None,
        quality=None,
        quality_reason=None,
        total=None,
        error=ErrorInfo.model_validate(_not_sent(judge, refused)),
        metrics=None,
    ).public()


@dataclass(frozen=True)
class JudgeReads:
    """What a judge reads of an item besides the answer: the incident or the numbered
    source, and the reference answer or answer key when there is one."""

    subject: str
    reference: str | None


def judge_subject(item: EvalItem, judge: Provider, *, allow_secrets: bool, notify: Notify) -> JudgeReads:
    """What a judge reads of `item`, with secrets redacted for a remote judge exactly as
    for a remote candidate: the reference and the key are text that leaves the machine too."""
    text = item.source.numbered() if item.source is not None else item.text_input.text  # a change: its diff
    subject = outbound(text, [judge], allow=allow_secrets, label=item.id, notify=notify).text
    known = item.reference.as_prompt() if item.reference else (item.key.as_prompt() if item.key else None)
    if item.change is not None:
        keyed = [f for f in item.change.files if f.key is not None]
        known = "\n".join(f"{f.path}:\n{f.key.as_prompt()}" for f in keyed if f.key is not None) or None
    reference = (
        None
        if known is None
        else outbound(known, [judge], allow=allow_secrets, label=f"the answer key of {item.id}", notify=notify).text
    )
    return JudgeReads(subject, reference)


async def grade(
    judge: Provider, item: EvalItem, answer_json: dict[str, Any], reads: JudgeReads, *, mode: str
) -> dict[str, Any]:
    """One judge's grade of a stored answer, as the public judge object."""
    answer_text = json.dumps(answer_json["result"], indent=1, ensure_ascii=False)
    if item.task == "triage":
        request = judge_request(reads.subject, answer_text, reads.reference, mode)
    else:
        language = (item.source.language if item.source else None) or (
            "unified diff of a change" if item.change is not None else "plain text"
        )
        request = judge_request(reads.subject, answer_text, reads.reference, language, task="review")
    family = model_family(answer_json["provider"], answer_json["model"])
    result: JudgeResult = await run_judge(judge, request, candidate_family=family)
    return result.to_dict()


async def pair_grade(
    judge: Provider, baseline: dict[str, Any], answer_json: dict[str, Any], reads: JudgeReads, *, mode: str
) -> dict[str, Any]:
    """One judge's pairwise verdict on the baseline's answer (side a) against this model's
    (side b), asked in both orders: compare's `judge_pair`, on the stored answers."""
    from app.triage.pairwise import judge_pair

    first, second = (json.dumps(a["result"], indent=1, ensure_ascii=False) for a in (baseline, answer_json))
    return await judge_pair(judge, reads.subject, first, second, reads.reference, mode)


def pair_not_made(judge: Provider, why: str) -> dict[str, Any]:
    """A pairwise verdict not asked (the baseline has no answer to set this one against)."""
    return {
        "judge": judge.spec,
        "status": "skipped",
        "a_first": None,
        "b_first": None,
        "consistent": None,
        "winner": None,
        "position_bias": None,
        "error": {"kind": "not_sent", "message": why},
        "metrics": None,
    }
