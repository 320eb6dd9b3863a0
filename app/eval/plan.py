"""The cells of an eval — every model on every item, N times — and what they should cost.

A cell is one answer and its grades; its key names the model, the item and the run, and
is how a resumed eval knows what is already done. The estimate is made before anything
is sent, from the prompt sizes and a typical reply, priced by the same table as every
call; a model without a known price is named, never counted as free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.eval.items import EvalItem
from providers import Usage
from providers.pricing import cost_usd

# A typical reply, in tokens, when estimating: an answer, and one judge's verdict.
EXPECTED_ANSWER_TOKENS = 1_200
EXPECTED_VERDICT_TOKENS = 350
# The instructions around the data in a prompt (system prompt, markers, rubric).
PROMPT_OVERHEAD_TOKENS = 700


@dataclass(frozen=True)
class Cell:
    model: str
    item: str
    run: int

    @property
    def key(self) -> str:
        return f"{self.model}|{self.item}|{self.run}"


@dataclass
class EvalPlan:
    models: list[str]
    judges: list[str]
    items: list[EvalItem]
    repeat: int
    mode: str
    #: False (--no-self-judging): a judge does not grade answers of its own model family.
    self_judging: bool = True

    def judges_for(self, model: str) -> list[str]:
        """The judges that grade `model`'s answers."""
        if self.self_judging:
            return list(self.judges)
        own = family_of(model)
        return [j for j in self.judges if family_of(j) != own]

    def cells(self) -> list[Cell]:
        """Run by run, item by item, model by model: each provider works through its
        share in this order, at its own pace, so the first runs of every item come first."""
        return [Cell(model, item.id, run) for run in range(self.repeat) for item in self.items for model in self.models]

    def item(self, item_id: str) -> EvalItem:
        return next(i for i in self.items if i.id == item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "judges": self.judges,
            "repeat": self.repeat,
            "mode": self.mode,
            "self_judging": self.self_judging,
            "items": [i.to_dict() for i in self.items],
        }


def family_of(spec: str) -> str:
    """The model family of a SPEC (provider:model), as judges are matched to answers."""
    from app.triage.judge import model_family

    name, _, model = spec.partition(":")
    return model_family(name, model)


def task_name(task: str, mode: str) -> str:
    """The name a route has: review, triage.active, triage.postmortem."""
    return "review" if task == "review" else f"triage.{mode}"


def _tokens(text: str) -> int:
    from app.source.model import estimate_tokens

    return estimate_tokens(text)


def _price(provider: Any, input_tokens: int, output_tokens: int) -> float | None:
    return cost_usd(
        provider.price_provider,
        provider.model,
        Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        provider.settings.price_overrides,
    )


@dataclass
class Estimate:
    """Expected cost: per cell (answer plus every grade), and in total."""

    per_cell: dict[str, float | None]  # cell key -> USD, None when a price is unknown
    unpriced: list[str]  # SPECs whose price is not known

    @property
    def total(self) -> float:
        return sum(v for v in self.per_cell.values() if v is not None)


def estimate(plan: EvalPlan, providers: dict[str, Any], judges: dict[str, Any]) -> Estimate:
    per_cell: dict[str, float | None] = {}
    unpriced: set[str] = set()
    sizes = {item.id: _tokens(item.text_input.text) + PROMPT_OVERHEAD_TOKENS for item in plan.items}
    for cell in plan.cells():
        prompt = sizes[cell.item]
        parts = [(providers[cell.model], _price(providers[cell.model], prompt, EXPECTED_ANSWER_TOKENS))]
        parts += [
            (judges[j], _price(judges[j], prompt + EXPECTED_ANSWER_TOKENS, EXPECTED_VERDICT_TOKENS))
            for j in plan.judges_for(cell.model)
            if j in judges
        ]
        for provider, cost in parts:
            if cost is None:
                unpriced.add(provider.spec)
        known = [cost for _, cost in parts if cost is not None]
        per_cell[cell.key] = sum(known) if known else None
    return Estimate(per_cell, sorted(unpriced))
