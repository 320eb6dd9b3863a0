"""A review run, prepared: the file read and checked, its answer key found, each side's
provider resolved, the plan for each (secrets, chunks, token limit), the history recorder,
and each side's event stream ready to start. Used by `review`, `compare FILE`, the review
and compare screens; eval reads its source files with `load_review_input`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import InputError
from app.history.recording import RunRecorder
from app.notes import Note, Notify
from app.review.answer_key import AnswerKey, find_key, load_key
from app.review.plan import ReviewOptions, ReviewPlan, plan_review
from app.run.options import RouteOptions
from app.run.prepared import PreparedRun, Start
from app.run.providers import ProviderResolver
from app.source.inputs import TextInput, looks_minified, read_text_file
from app.source.model import SourceFile, load_source
from providers import Provider


@dataclass
class ReviewInput:
    """A file to review: its text as read, the parsed source, and its answer key if any."""

    text_input: TextInput
    source: SourceFile
    key: AnswerKey | None


def load_review_input(file: str, key_path: str | None) -> ReviewInput:
    """The file and its answer key (`key_path`, else FILE.key.toml when present); every
    problem an InputError, before any provider is contacted."""
    text_input = read_text_file(file)
    if key_path and not Path(key_path).is_file():
        raise InputError(f"{key_path}: no such answer key")
    key = load_key(Path(key_path)) if key_path else find_key(file)
    if looks_minified(text_input.text):
        text_input.notes.append(f"{file} looks minified: findings will cite very long lines")
    return ReviewInput(text_input, load_source(file, text_input.text), key)


def input_notes(text_input: TextInput, notify: Notify) -> None:
    """What reading the input found worth saying (a decoding, a trim, a minified file)."""
    for text in text_input.notes:
        notify(Note("note", text))


def prepare_review(
    review: ReviewInput,
    specs: dict[str, str | None],
    *,
    resolver: ProviderResolver,
    compare: bool = False,
    options: ReviewOptions = ReviewOptions(),
    route: RouteOptions = RouteOptions(),
    record: bool = True,
    input_ref: str,
    resume: str | None = None,
) -> PreparedRun:
    """A review by one provider ({"a": SPEC or None for the route}) or, as a compare, by
    each side's exact SPEC. `resume`: the stored run (a compare --batch) this one carries
    on. Raises an error meant for the user (DriftcheckError or ProviderError) when anything
    is wrong; nothing has been sent then."""
    notify = resolver.notify
    providers = {side: _side_provider(resolver, spec, compare, route, options) for side, spec in specs.items()}
    input_notes(review.text_input, notify)
    plans = {side: plan_review(p, review.source, options, notify=notify) for side, p in providers.items()}
    recorder = RunRecorder.start(
        "compare" if compare else "review",
        input_ref=input_ref,
        input_sha256=review.text_input.sha256,
        providers=[p.spec for p in providers.values()],
        enabled=record,
        notify=notify,
        resume=resume,
    )
    starts = {side: _starter(plans[side], review, recorder, side if compare else None) for side in providers}
    return PreparedRun("review", compare, review.text_input, providers, starts, recorder, source=review.source)


def _side_provider(
    resolver: ProviderResolver, spec: str | None, compare: bool, route: RouteOptions, options: ReviewOptions
) -> Provider:
    # One provider runs the review route (fallback, hedging); a compare side runs exactly
    # its SPEC, so the drift is its own.
    if compare:
        return resolver.exactly(spec or "", max_tokens=options.max_tokens)
    return resolver.provider(spec or None, task="review", route=route, max_tokens=options.max_tokens)


def _starter(plan: ReviewPlan, review: ReviewInput, recorder: RunRecorder, role: str | None) -> Start:
    provider = recorder.recorded(plan.provider, role)

    def start(run: int) -> AsyncIterator[Any]:
        return plan.events(provider, review.text_input, key=review.key)

    return start
