"""An eval, prepared: its inputs read and checked as `review` and `triage` read theirs,
and what each model and each judge is sent for each input (the same secret policy and
review plan as the commands), before anything is sent."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.eval.items import EvalItem, find_inputs, is_change
from app.eval.plan import EvalPlan
from app.eval.tasks import JudgeReads, Prepared, judge_subject
from app.notes import Notify
from app.review.plan import ReviewOptions, plan_change, plan_review
from app.run.change import change_notes, change_sha, check_reviewable, load_stdin_change
from app.run.review import input_notes, load_review_input
from app.run.triage import load_incident, read_incident, redacted_for
from app.source.inputs import read_text_file
from providers import Provider


def load_items(selection: list[str]) -> list[EvalItem]:
    """The items of `--set` values, in a stable order, each loaded and checked."""
    return [load_item(item_id, path, task) for item_id, path, task in find_inputs(selection)]


def load_item(item_id: str, path: Path, task: str) -> EvalItem:
    if task == "review" and is_change(path):
        return load_change_item(item_id, path)
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


def load_change_item(item_id: str, path: Path) -> EvalItem:
    """A unified diff as `review --diff -` reads it, from the folder that holds it: each new
    file from there when it agrees with the diff (its answer key beside it), the hunks
    alone when not. A diff with nothing to review is refused, like a file that is empty."""
    diff = read_text_file(str(path), what="diff")
    change = load_stdin_change(diff.text, path.parent, label=item_id)
    why_not = check_reviewable(change)
    if why_not is not None:
        raise UsageError(f"--set {item_id}: {why_not}")
    keys = [f.key for f in change.files if f.key is not None]
    difficulties = sorted({k.difficulty for k in keys if k.difficulty})
    return EvalItem(
        item_id,
        "review",
        path,
        difficulties[0] if len(difficulties) == 1 else "",
        diff,
        change=change,
        change_sha256=hashlib.sha256(f"{diff.sha256}\0{change_sha(change)}".encode()).hexdigest(),
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
    if item.change is not None:
        options = ReviewOptions(allow_secrets=allow_secrets, max_tokens=max_tokens)
        plans = plan_change(provider, item.change, options, judges=judges, notify=notify)
        return Prepared(item.text_input, [], change=plans)
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
        if item.change is not None:
            change_notes(item.change, notify)
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
