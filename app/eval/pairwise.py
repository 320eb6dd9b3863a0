"""Pairwise judging in an eval (--judge-mode pairwise): on every incident and run, each
judge says which of the baseline's answer (the first model's) and another model's is
better, asked in both orders (app.triage.pairwise, as compare asks it). Per model, the
verdicts are counted as compare counts one pair's: the share that held when the order
was swapped (position consistency; MT-Bench found about 65 % for GPT-4, arXiv
2306.05685), the votes of the consistent ones, and how often a judge picked the same
position both times.
"""

from __future__ import annotations

from typing import Any

from app.triage.pairwise import pairwise_summary


def pairwise_against(records: list[dict[str, Any]], model: str, baseline: str) -> dict[str, Any]:
    """`model`'s verdicts against `baseline` over its finished cells (the grades of a
    pairwise eval are verdicts, side a the baseline's answer, side b the model's)."""
    verdicts = [g for r in records if r["model"] == model for g in r["grades"] if g.get("status") != "skipped"]
    summary = pairwise_summary(verdicts)
    answered = [v for v in verdicts if v["status"] == "ok"]
    consistent = sum(1 for v in answered if v["consistent"])
    bias = {side: sum(1 for v in answered if v.get("position_bias") == side) for side in ("first", "second")}
    winner = {"a": "against", "b": "model", "tie": "tie"}.get(summary["winner"] or "")
    account = {
        "model": model,
        "against": baseline,
        "verdicts": len(answered),
        "failed": len(verdicts) - len(answered),
        "consistent": consistent,
        "position_consistency": summary["position_consistency"],
        "better_model": summary["votes"]["b"],
        "better_against": summary["votes"]["a"],
        "ties": summary["votes"]["tie"],
        "position_bias": bias,
        "winner": winner,
    }
    return {**account, "text": pairwise_sentence(account)}


def pairwise_sentence(account: dict[str, Any]) -> str:
    """ "openai:gpt-5.4-mini against anthropic:claude-haiku-4-5: position consistency 4 of 6
    verdicts (67 %); of those, better 3, worse 1, tie 0: better; 2 chose the first answer both times"."""
    model, n = account["model"], account["verdicts"]
    if not n:
        return f"{model} against {account['against']}: no pairwise verdict (no judge answered in both orders)"
    said = (
        f"{model} against {account['against']}: position consistency {account['consistent']} of {n} "
        f"verdict(s) ({account['position_consistency']:.0%})"
    )
    if account["consistent"]:
        verdict = {"model": "better", "against": "worse", "tie": "a tie"}.get(account["winner"] or "", "no verdict")
        said += (
            f"; of those, better {account['better_model']}, worse {account['better_against']}, "
            f"tie {account['ties']}: {verdict}"
        )
    else:
        said += "; no verdict: every verdict changed with the order"
    for side, count in account["position_bias"].items():
        if count:
            said += f"; {count} chose the {side} answer both times"
    if account["failed"]:
        said += f"; {account['failed']} failed"
    return said
