"""Pairwise judging: which of two triage answers is better, asked in both orders.

A judge that grades answers one at a time can drift in its own scale; asked to choose
between two, it can instead favour a position (MT-Bench found GPT-4 kept its verdict only
about 65 % of the time when the order was swapped, arXiv 2306.05685). So every judge is
asked twice, A then B and B then A. A judge whose two verdicts name the same answer (or a
tie twice) is position-consistent; one that picks whichever came first (or second) both
times is reporting the position, not the answers, and its verdict does not count.
"""

from __future__ import annotations

from string import Template
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.calls.metrics import combined_response, metrics_dict
from app.calls.provenance import labelled
from app.calls.structured import final_reply
from app.resources import load_prompt, marker_tag
from providers import Provider, Request, Response
from providers.errors import ProviderError

Side = Literal["a", "b", "tie"]


class PairwiseVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(description="why, in two or three sentences, naming what decided it")
    better: Literal["first", "second", "tie"]


def pairwise_request(incident: str, first: str, second: str, reference: str | None, mode: str) -> Request:
    tag = marker_tag(incident, first, second)
    user = Template(load_prompt("pairwise_user")).substitute(
        mode=mode,
        incident=incident,
        reference=reference or "(none for this input)",
        first=first,
        second=second,
        begin_marker=f"<<<DATA {tag} BEGIN>>>",
        end_marker=f"<<<DATA {tag} END>>>",
    )
    request = Request.ask(user, system=load_prompt("pairwise_system"), max_tokens=1024, output_schema=PairwiseVerdict)
    return labelled(
        request,
        templates=("pairwise_system", "pairwise_user"),
        input_text=f"{incident}\n{first}\n{second}\n{reference}",
    )


async def _ask(judge: Provider, request: Request) -> tuple[str | None, list[Response], ProviderError | None]:
    responses: list[Response] = []
    try:
        response = await judge.complete(request)
        responses.append(response)
        verdict, _, _ = await final_reply(
            judge, request, response, responses, what="pairwise verdict", limit_hint="Raise the judge's token limit."
        )
        return verdict.better, responses, None
    except ProviderError as error:
        return None, responses, error


def _side(choice: str | None, first: Side) -> Side | None:
    """A verdict about positions ("first", "second") as a verdict about sides."""
    if choice is None:
        return None
    if choice == "tie":
        return "tie"
    second: Side = "b" if first == "a" else "a"
    return first if choice == "first" else second


async def judge_pair(
    judge: Provider, incident: str, answer_a: str, answer_b: str, reference: str | None, mode: str
) -> dict[str, Any]:
    """One judge's verdict on A against B, asked in both orders (A first, then B first,
    one after the other): the public pairwise object."""
    ab, ab_responses, ab_error = await _ask(judge, pairwise_request(incident, answer_a, answer_b, reference, mode))
    ba, ba_responses, ba_error = await _ask(judge, pairwise_request(incident, answer_b, answer_a, reference, mode))
    a_first, b_first = _side(ab, "a"), _side(ba, "b")
    answered = a_first is not None and b_first is not None
    consistent = answered and a_first == b_first
    bias = None
    if answered and not consistent and ab == ba and ab != "tie":
        bias = ab  # the same position both times: "first" or "second"
    error = ab_error or ba_error
    responses = ab_responses + ba_responses
    return {
        "judge": judge.spec,
        "status": "ok" if answered else "failed",
        "a_first": a_first,
        "b_first": b_first,
        "consistent": consistent if answered else None,
        "winner": (a_first if consistent else "inconsistent") if answered else None,
        "position_bias": bias,
        "error": None if error is None else error.to_dict(),
        # Both orders were paid for: their tokens, cost and time, not the second order's alone.
        "metrics": metrics_dict(combined_response(responses)),
    }


def pairwise_summary(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """The public `pairwise` object of a compare: each judge's verdicts, the share of judges
    that kept their verdict when the order was swapped, and the verdict of those that did."""
    answered = [v for v in verdicts if v["status"] == "ok"]
    consistent = [v for v in answered if v["consistent"]]
    votes = {side: sum(1 for v in consistent if v["winner"] == side) for side in ("a", "b", "tie")}
    top = max(votes.values()) if consistent else 0
    leaders = [side for side, n in votes.items() if n == top and n > 0]
    winner = leaders[0] if len(leaders) == 1 else ("tie" if consistent else None)
    share = len(consistent) / len(answered) if answered else None
    lines = []
    for v in answered:
        if v["consistent"]:
            lines.append(f"{v['judge']}: {_said(v['winner'])} in both orders")
        else:
            why = (
                f"it chose the {v['position_bias']} answer both times" if v["position_bias"] else "its verdicts differ"
            )
            lines.append(f"{v['judge']}: inconsistent when the order was swapped ({why}); not counted")
    for v in verdicts:
        if v["status"] != "ok":
            lines.append(f"{v['judge']}: failed ({(v['error'] or {}).get('message', 'no verdict')})")
    headline = (
        "no pairwise verdict: no judge answered in both orders"
        if share is None
        else f"position consistency {len(consistent)} of {len(answered)} judge(s)"
        + (f"; verdict: {_said(winner)}" if winner else "; no verdict: every judge was position-inconsistent")
    )
    return {
        "judges": verdicts,
        "position_consistency": None if share is None else round(share, 3),
        "votes": votes,
        "winner": winner,
        "text": [headline, *lines],
    }


def _said(side: str | None) -> str:
    return {"a": "A is better", "b": "B is better", "tie": "a tie"}.get(side or "", "none")
