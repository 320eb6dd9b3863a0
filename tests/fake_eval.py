"""The fake server scripted as four models of different quality, speed and price, and two
judges, over the bundled incidents — the routing experiment of the seeds, made exact.

The models use real model names, so their prices come from the real price table:

| model              | answers                          | judges' totals          | first token |
| gpt-5.5            | every point, no harm             | 10 everywhere           | 0.30 s |
| claude-sonnet-4-6  | every point, no harm             | 9 everywhere            | 0.25 s |
| gpt-5.4-mini       | every point, no harm             | 10, but 9 on two        | 0.02 s |
| claude-haiku-4-5   | every point plus a harmful step  | 7 (Sonnet) / 5-6 (GPT)  | 0.08 s |

gpt-5.4-mini is the scripted best value: the cheapest model whose scores are not
distinguishable from gpt-5.5's over six incidents (two one-point gaps: p = 0.5), while
Sonnet's six one-point gaps are (p = 0.03) and Haiku scores lower and recommends harm.
Each answer carries a marker naming its model, so a fake judge can grade by author.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_triage import INCIDENTS, ROOT, active_answer, verdict
from tests.fakeserver import FakeServer, Reply

GPT55, SONNET, MINI, HAIKU = (
    "openai:gpt-5.5",
    "anthropic:claude-sonnet-4-6",
    "openai:gpt-5.4-mini",
    "anthropic:claude-haiku-4-5",
)
MODELS = [HAIKU, SONNET, MINI, GPT55]
JUDGES = [SONNET, GPT55]
DELAY = {GPT55: 0.30, SONNET: 0.25, MINI: 0.02, HAIKU: 0.08}
MINI_NINES = ("cdn-404s.md", "kafka-lag.md")


def marker(spec: str) -> str:
    return f" [answer-by-{spec.split(':')[1]}]"


def first_line(incident: str) -> str:
    return (ROOT / "incidents" / incident).read_text(encoding="utf-8").splitlines()[0]


def scores(judge: str, model: str, incident: str) -> tuple[int, int]:
    """(diagnosis, quality) that `judge` gives `model` on `incident`."""
    if model == GPT55:
        return 5, 5
    if model == SONNET:
        return 5, 4
    if model == MINI:
        return (5, 4) if incident in MINI_NINES else (5, 5)
    # Haiku: the harmful step costs it; the GPT judge is harsher, most of all on evictions.
    if judge == SONNET:
        return 4, 3
    return (3, 2) if incident == "prometheus-evictions.md" else (3, 3)


def script(fake: FakeServer, *, slow: float = 0.0) -> None:
    """Judge rules first (a judge's prompt also holds the incident), then the answers.
    `slow` is added to gpt-5.5's first-token delay, to make room for an interruption."""
    for incident in INCIDENTS:
        line = first_line(incident)
        for judge in JUDGES:
            for model in MODELS:
                d, q = scores(judge, model, incident)
                fake.reply_when(
                    judge.split(":")[1],
                    ("You grade an incident-triage answer", marker(model).strip(), line),
                    Reply(text=verdict(d, q), chunk_size=64),
                )
        for model in MODELS:
            answer = active_answer(incident, harmful=model == HAIKU, note=marker(model))
            delay = DELAY[model] + (slow if model == GPT55 else 0.0)
            fake.reply_when(
                model.split(":")[1], (line,), Reply(text=json.dumps(answer), chunk_size=48, first_token_delay_s=delay)
            )


def expected_quality(model: str) -> dict[str, float]:
    """Per incident: the mean of the two judges' totals."""
    return {i: sum(sum(scores(j, model, i)) for j in JUDGES) / len(JUDGES) for i in INCIDENTS}


def difficulty(incident: str) -> str:
    from app.triage.reference import find_reference

    return find_reference(Path(ROOT / "incidents" / incident)).difficulty


# --- finished cells, as the eval runner keeps them (for the report's unit tests) ------------


def triage_cell(model: str, item: str, run: int, quality: float, cost: float, actions: tuple[str, ...] = ()) -> dict:
    """A finished eval cell: a triage answer (these actions) and one judge's total."""
    answer = {
        "task": "triage",
        "status": "ok",
        "error": None,
        "result": {
            "severity": "P2",
            "root_cause": {"summary": "x"},
            "actions": [{"action": a, "owner": "sre", "timeline": "now"} for a in actions],
        },
        "metrics": {"cost_usd": cost, "ttft_ms": 100.0, "latency_ms": 200.0},
        "reference_checks": {"coverage": 1.0, "must_not_violations": []},
    }
    grade = {
        "judge": "openai:judge",
        "status": "ok",
        "self_graded": False,
        "total": quality,
        "metrics": {"cost_usd": 0.0},
    }
    return {"model": model, "item": item, "run": run, "answer": answer, "grades": [grade]}


def review_cell(
    model: str, item: str, run: int, *, recall: float, precision: float, cost: float, findings: list | None = None
) -> dict:
    """A finished eval cell: a review (these findings) scored against its input's answer key."""
    answer = {
        "task": "review",
        "status": "ok",
        "error": None,
        "result": {"score": 4, "summary": "x", "findings": findings or []},
        "metrics": {"cost_usd": cost, "ttft_ms": 100.0, "latency_ms": 200.0},
        "answer_key": {"recall": recall, "precision": precision, "pairs": [], "missed": []},
    }
    return {"model": model, "item": item, "run": run, "answer": answer, "grades": []}


def eval_plan(models: list[str], items: list[str], *, task: str, repeat: int, judges: list[str]) -> dict:
    """A plan as EvalPlan.to_dict() gives it (the report validates it into its contract model)."""
    suffix = ".md" if task == "triage" else ".py"
    return {
        "models": models,
        "judges": judges,
        "repeat": repeat,
        "mode": "active",
        "items": [
            {"id": i, "task": task, "path": f"{i}{suffix}", "sha256": "0" * 64, "difficulty": "simple"} for i in items
        ],
    }
