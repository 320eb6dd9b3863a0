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
    #: When a model's request is hedged with a second one to the same SPEC ("p95", "2.5s");
    #: None: never ([resilience] hedge_after or --hedge-after "off").
    hedge_after: str | None = None
    #: "pairwise" (--judge-mode pairwise): on each incident the judges say which of the
    #: baseline's answer (the first model's) and another model's is better, in both orders.
    judge_mode: str = "pointwise"

    @property
    def pairwise(self) -> bool:
        return self.judge_mode == "pairwise"

    @property
    def baseline(self) -> str:
        """What pairwise judging sets every other model against: the first of --models."""
        return self.models[0]

    def judges_for(self, model: str, task: str = "triage") -> list[str]:
        """The judges that grade `model`'s answers to a `task` item. Pairwise, only
        incidents are judged, the baseline's answers are only compared with, and without
        self-judging a judge of either side's family is left out, as compare does."""
        if self.pairwise and (model == self.baseline or task != "triage"):
            return []
        if self.self_judging:
            return list(self.judges)
        own = {family_of(model), family_of(self.baseline)} if self.pairwise else {family_of(model)}
        return [j for j in self.judges if family_of(j) not in own]

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
            **({"hedge_after": self.hedge_after} if self.hedge_after is not None else {}),
            **({"judge_mode": self.judge_mode} if self.pairwise else {}),
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


#: Providers cache prompts of at least this many tokens (Anthropic's and OpenAI's minimum).
CACHE_MIN_TOKENS = 1024


def _price(
    provider: Any, input_tokens: int, output_tokens: int, *, batch: bool = False, cached: int = 0, written: int = 0
) -> float | None:
    return cost_usd(
        provider.price_provider,
        provider.model,
        Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cached or None,
            cache_write_tokens=written or None,
        ),
        provider.settings.price_overrides,
        batch=batch,
    )


@dataclass
class Estimate:
    """Expected cost: per cell (answer plus every grade), and in total — at the price the
    eval will pay (batch for batched providers with --batch), with what the live price
    would be and what the providers' prompt caches are expected to save beside it."""

    per_cell: dict[str, float | None]  # cell key -> USD, None when a price is unknown
    unpriced: list[str]  # SPECs whose price is not known
    live_total: float = 0.0  # every call at the live price, nothing cached
    batch_total: float | None = None  # with --batch: every batched call at the batch price
    cache_saving: float = 0.0  # expected: repeats and judges resend an input's prefix

    @property
    def total(self) -> float:
        return sum(v for v in self.per_cell.values() if v is not None)


def estimate(
    plan: EvalPlan, providers: dict[str, Any], judges: dict[str, Any], *, batched: frozenset[str] = frozenset()
) -> Estimate:
    """`batched`: the SPECs whose calls go through a batch API (priced at its rate)."""
    per_cell: dict[str, float | None] = {}
    unpriced: set[str] = set()
    live_total = batch_total = saving = 0.0
    sizes = {item.id: _tokens(item.text_input.text) + PROMPT_OVERHEAD_TOKENS for item in plan.items}
    seen: set[tuple[str, str]] = set()  # (SPEC, item): a later call to it reads the prefix from the cache
    for cell in plan.cells():
        prompt = sizes[cell.item]
        calls = [(providers[cell.model], prompt, EXPECTED_ANSWER_TOKENS)]
        # Pairwise, a judge reads two answers, twice (both orders).
        asked, answers = (2, 2) if plan.pairwise else (1, 1)
        calls += [
            (judges[j], prompt + answers * EXPECTED_ANSWER_TOKENS, EXPECTED_VERDICT_TOKENS)
            for j in plan.judges_for(cell.model, plan.item(cell.item).task)
            if j in judges
            for _ in range(asked)
        ]
        known: list[float] = []
        for provider, tokens_in, tokens_out in calls:
            batch = provider.spec in batched
            cost = _price(provider, tokens_in, tokens_out, batch=batch)
            if cost is None:
                unpriced.add(provider.spec)
                continue
            known.append(cost)
            live_total += _price(provider, tokens_in, tokens_out) or 0.0
            batch_total += cost
            key = (provider.spec, cell.item)
            if prompt >= CACHE_MIN_TOKENS and provider.price_provider is not None:
                repeat = key in seen
                cached = _price(
                    provider,
                    tokens_in,
                    tokens_out,
                    batch=batch,
                    cached=prompt if repeat else 0,
                    written=0 if repeat or provider.kind != "anthropic" else prompt,
                )
                saving += cost - (cached if cached is not None else cost)
            seen.add(key)
        per_cell[cell.key] = sum(known) if known else None
    return Estimate(per_cell, sorted(unpriced), live_total, batch_total if batched else None, saving)
