"""An eval, prepared: its inputs read and checked as `review` and `triage` read theirs,
and what each model and each judge is sent for each input (the same secret policy and
review plan as the commands), before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.eval.items import EvalItem, find_inputs
from app.eval.plan import EvalPlan
from app.eval.tasks import JudgeReads, Prepared, judge_subject
from app.notes import Notify
from app.review.plan import ReviewOptions, plan_review
from app.run.review import input_notes, load_review_input
from app.run.triage import load_incident, read_incident, redacted_for
from providers import Provider


def load_items(selection: list[str]) -> list[EvalItem]:
    """The items of `--set` values, in a stable order, each loaded and checked."""
    return [load_item(item_id, path, task) for item_id, path, task in find_inputs(selection)]


def load_item(item_id: str, path: Path, task: str) -> EvalItem:
    if task == "triage":
        incident = load_incident(read_incident(str(path)), None)
        reference = incident.reference
        return EvalItem(
            item_id,
            task,
            path,
            reference.difficulty if reference and reference.difficulty else "",
            incident.text_input,
            reference=reference,
            flags=incident.flags,
        )
    review = load_review_input(str(path), None)
    key = review.key
    return EvalItem(
        item_id,
        task,
        path,
        key.difficulty if key and key.difficulty else "",
        review.text_input,
        key=key,
        source=review.source,
    )


def reload_items(stored: list[dict[str, Any]]) -> list[EvalItem]:
    """The items of a stored plan, read again and checked to be byte for byte the same."""
    items = []
    for entry in stored:
        path = Path(entry["path"])
        if not path.is_file():
            raise UsageError(f"cannot resume: {entry['id']} ({path}) is gone")
        item = load_item(entry["id"], path, entry["task"])
        if item.sha256 != entry["sha256"]:
            raise UsageError(
                f"cannot resume: {entry['id']} has changed since the eval started "
                f"(sha256 {entry['sha256'][:12]}… then, {item.sha256[:12]}… now); start a new eval"
            )
        items.append(item)
    return items


def prepare_answer(
    provider: Provider,
    item: EvalItem,
    *,
    judges: list[Provider],
    allow_secrets: bool,
    max_tokens: int | None,
    notify: Notify,
) -> Prepared:
    """Secrets, chunks and token limits for one model and item; problems are UsageErrors.
    The judges count as readers: they grade an answer that may quote the input."""
    audience = [provider, *judges]
    if item.source is None:  # an incident
        text_input, flags, _ = redacted_for(
            audience, item.text_input, item.flags, {}, allow=allow_secrets, notify=notify
        )
        return Prepared(text_input, flags)
    options = ReviewOptions(allow_secrets=allow_secrets, max_tokens=max_tokens)
    plan = plan_review(provider, item.source, options, judges=judges, notify=notify)
    return Prepared(item.text_input, plan.flags, plan)


def prepare_eval(
    plan: EvalPlan,
    providers: dict[str, Provider],
    judges: dict[str, Provider],
    *,
    allow_secrets: bool,
    max_tokens: int | None,
    notify: Notify,
) -> tuple[dict[tuple[str, str], Prepared], dict[tuple[str, str], JudgeReads]]:
    """What each model is sent for each item, and what each judge reads of each item
    (keyed by (SPEC, item id))."""
    for item in plan.items:
        input_notes(item.text_input, notify)
    prepared = {
        (spec, item.id): prepare_answer(
            provider,
            item,
            judges=list(judges.values()),
            allow_secrets=allow_secrets,
            max_tokens=max_tokens,
            notify=notify,
        )
        for item in plan.items
        for spec, provider in providers.items()
    }
    subjects = {
        (spec, item.id): judge_subject(item, judge, allow_secrets=allow_secrets, notify=notify)
        for item in plan.items
        for spec, judge in judges.items()
    }
    return prepared, subjects
