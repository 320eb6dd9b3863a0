"""Judges: other models grading a triage answer on the seeds' rubric.

Two dimensions, 1-5 each, total out of 10: diagnosis accuracy and response quality. Any
number of judges; each one's scores and reasons are kept, the spread between judges is
reported per dimension, and a judge grading an answer from its own model family is
flagged — models tend to prefer answers that read like their own. A judge reply that
fails the schema gets one repair turn; if that fails too the judge is reported as
failed, never counted as a zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.calls.metrics import metrics_of
from app.calls.outcome import error_info
from app.calls.provenance import labelled, provenance_of
from app.calls.structured import final_reply
from app.resources import fill_prompt, load_prompt, marker_tag
from app.triage.contract import JudgeOut, JudgeSpread
from providers import Provider, Request, Response
from providers.errors import ProviderError

# Disagreement of this many points or more on one dimension is worth a reader's attention.
NOTABLE_SPREAD = 2


class JudgeScores(BaseModel):
    model_config = ConfigDict(extra="ignore")

    diagnosis_reason: str = Field(description="why this diagnosis score, naming what was missed or wrong")
    diagnosis: int = Field(ge=1, le=5)
    quality_reason: str = Field(description="why this response-quality score")
    quality: int = Field(ge=1, le=5)


@dataclass
class JudgeResult:
    spec: str
    self_graded: bool
    scores: JudgeScores | None = None
    error: ProviderError | None = None
    responses: list[Response] | None = None

    def output(self) -> JudgeOut:
        s = self.scores
        responses = self.responses or []
        return JudgeOut(
            judge=self.spec,
            status="ok" if s else "failed",
            self_graded=self.self_graded,
            diagnosis=s.diagnosis if s else None,
            diagnosis_reason=s.diagnosis_reason if s else None,
            quality=s.quality if s else None,
            quality_reason=s.quality_reason if s else None,
            total=s.diagnosis + s.quality if s else None,
            error=None if self.error is None else error_info(self.error),
            metrics=metrics_of(responses[-1] if responses else None),
            provenance=provenance_of(responses[-1] if responses else None),
        )

    def to_dict(self) -> dict[str, Any]:
        return self.output().public()


def model_family(provider_name: str, model: str) -> str:
    """Who made the model, as far as its name tells: graders favour their own family."""
    name = model.lower().rsplit("/", 1)[-1]
    for family, pattern in (
        ("anthropic", r"^claude"),
        ("openai", r"^(gpt|o\d|chatgpt)"),
        ("google", r"^gemini|^gemma"),
        ("meta", r"^llama"),
        ("alibaba", r"^qwen"),
        ("mistral", r"^(mistral|mixtral|codestral)"),
        ("huggingface", r"^smollm"),
    ):
        if re.match(pattern, name):
            return family
    return provider_name


def judge_request(incident: str, answer: str, reference: str | None, mode: str, *, task: str = "triage") -> Request:
    """The grading request for a triage answer, or (task "review") for a review, where
    `incident` is the numbered source, `reference` the planted issues and `mode` the language."""
    prompt = "judge" if task == "triage" else "judge_review"
    # The tag and everything before the answer depend on the input only, so one judge
    # grading several answers to it (models, repeats) reads that prefix from its cache.
    tag = marker_tag(incident, answer, stable_for=incident)
    values = {
        "mode": mode,
        "incident": incident,
        "answer": answer,
        "reference": reference or "(none for this input)",
        "begin_marker": f"<<<DATA {tag} BEGIN>>>",
        "end_marker": f"<<<DATA {tag} END>>>",
    }
    user, stable = fill_prompt(f"{prompt}_user", values, stable_until="answer")
    request = Request.ask(
        user,
        system=load_prompt(f"{prompt}_system"),
        max_tokens=2048,
        output_schema=JudgeScores,
        stable_prefix=stable,
    )
    return labelled(
        request, templates=(f"{prompt}_system", f"{prompt}_user"), input_text=f"{incident}\n{answer}\n{reference}"
    )


async def run_judge(judge: Provider, request: Request, *, candidate_family: str) -> JudgeResult:
    result = JudgeResult(
        spec=judge.spec, self_graded=model_family(judge.name, judge.model) == candidate_family, responses=[]
    )
    try:
        response = await judge.complete(request)
        result.responses.append(response)  # type: ignore[union-attr]
        scores, _, _ = await final_reply(
            judge,
            request,
            response,
            result.responses,  # type: ignore[arg-type]
            what="judgement",
            limit_hint="Raise the judge's token limit.",
        )
        result.scores = scores
    except ProviderError as error:
        result.error = error
    return result


def disagreement(results: list[JudgeResult]) -> JudgeSpread | None:
    """Spread (max - min) per dimension among the judges that answered."""
    scored = [r.scores for r in results if r.scores is not None]
    if len(scored) < 2:
        return None
    diagnosis, quality = ([getattr(s, dim) for s in scored] for dim in ("diagnosis", "quality"))
    totals = [s.diagnosis + s.quality for s in scored]
    spread = JudgeSpread(
        diagnosis=max(diagnosis) - min(diagnosis),
        quality=max(quality) - min(quality),
        total=max(totals) - min(totals),
        notable=False,
    )
    spread.notable = max(spread.diagnosis, spread.quality, spread.total) >= NOTABLE_SPREAD
    return spread
