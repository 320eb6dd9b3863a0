"""Running tasks for the TUI: the same preparation and the same event streams as the CLI,
with every event posted to the screen as a typed message.

A run is a worker. Its events reach the screen as `TaskUpdate(side, run, event)` —
the task's own events (FindingFound, ItemFound, TextArrived, ReviewFinished, ...) — and
the end as `RunEnded` with the public JSON of each side. Escape cancels the worker; the
calls in flight are recorded as cancelled and the run as well.

Textual draws text as it is given, escape sequences included, so what these messages
carry is made inert (`shown`) as they are made: a model's `ESC ] 52` is shown, not obeyed.
History keeps the raw text; the screens get the inert copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from textual.message import Message

from app.render.terminal import neutralise


def shown(value: Any) -> Any:
    """`value` as a screen may show it: every string in it with its control characters
    made visible. Walks what run events carry — strings, dicts, lists, tuples, pydantic
    models, frozen dataclass events and a provider error's message. A mutable state object
    (a task's outcome) is passed on as it is: screens show its public JSON instead."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {key: shown(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(shown(item) for item in value)
    if hasattr(type(value), "model_fields") and hasattr(value, "model_copy"):
        return value.model_copy(update={name: shown(getattr(value, name)) for name in type(value).model_fields})
    if is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return replace(value, **{f.name: shown(getattr(value, f.name)) for f in fields(value) if f.init})
    from providers.errors import ProviderError

    if isinstance(value, ProviderError):  # a retry or fallback notice quotes it
        clone = type(value).__new__(type(value))
        clone.__dict__.update(value.__dict__)
        clone.message, clone.hint = neutralise(value.message), value.hint and neutralise(value.hint)
        clone.args = (clone.message,)
        return clone
    return value


class TaskUpdate(Message):
    """One event of one side's task, as it happened; a task's end carries its public JSON."""

    def __init__(self, side: str, run: int, event: Any, public: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.side = side
        self.run = run
        self.event = shown(event)
        self.public = shown(public)


class RunEnded(Message):
    """The run is over: each side's public JSON (absent when cancelled), the report, and
    what history holds of the run."""

    def __init__(
        self, status: str, sides: dict[str, dict[str, Any]], report: dict[str, Any] | None = None, recording: Any = None
    ) -> None:
        super().__init__()
        self.status = status
        self.sides = shown(sides)
        self.report = shown(report)
        self.recording = recording  # a RecordOutcome

    @property
    def run_id(self) -> str | None:
        """The run's id in history, when history holds it."""
        recording = self.recording
        return recording.run_id if recording is not None and recording.state in ("recorded", "incomplete") else None


class RunNote(Message):
    """Something the user should know before reading the result (demo-grade model, ...)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = neutralise(text)


class RunFailedToStart(Message):
    """Bad input or an unusable provider: nothing was sent. `exit_code` is the headless
    command's: 2 for bad input or configuration, 3 for a provider that failed."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__()
        self.message = neutralise(message)
        self.exit_code = exit_code


@dataclass
class PreparedRun:
    """Everything a run needs, checked before anything is sent."""

    task: str
    text_input: Any
    starts: dict[str, Callable[[int], AsyncIterator[Any]]]
    specs: dict[str, str]
    closing: list[Any] = field(default_factory=list)
    source: Any = None
    recorder: Any = None

    @property
    def notes(self) -> list[str]:
        """What the CLI would print on stderr before the run: the input's notes, and that
        the bundled model is demo-grade. The screen shows them as notifications."""
        from providers.local import DEMO_GRADE_NOTE

        notes = list(self.text_input.notes)
        if any(getattr(getattr(p, "model_ref", None), "bundled", False) for p in self.closing):
            notes.append(DEMO_GRADE_NOTE)
        if self.recorder is not None and self.recorder.start_note:  # e.g. history is off for this run
            notes.append(self.recorder.start_note)
        return notes


@dataclass(frozen=True)
class RouteOptions:
    """--fallback and --hedge-after as given on the command line (None: the config's)."""

    fallback: list[str] | None = None
    hedge_after: str | None = None


def _side_provider(spec: str, config: Any, sides: int, task: str, route: RouteOptions) -> Any:
    """One provider runs its task's route (fallback, hedging); the sides of a compare run
    exactly their SPECs, so the drift is theirs."""
    from app.cli import resolve_provider

    if sides == 1:  # no SPEC: the route, else the default
        return resolve_provider(spec or None, config, task=task, fallback=route.fallback, hedge_after=route.hedge_after)
    return resolve_provider(spec, config, fallback=[], hedge_after="off")


def prepare_review(
    path: str, specs: dict[str, str], *, record: bool = True, route: RouteOptions = RouteOptions()
) -> PreparedRun:
    """A review of `path` by one provider ({"a": SPEC}) or two (a compare). Raises
    UsageError or ProviderError with a message meant for the user."""
    from app.config.load import load_config
    from app.history.recording import RunRecorder
    from app.review.task import review_events
    from app.review_cli import load_review_input, plan_review, review_options

    text_input, source, key = load_review_input(path, None)
    config = load_config()
    providers = {side: _side_provider(spec, config, len(specs), "review", route) for side, spec in specs.items()}
    plans = {side: plan_review(p, source, review_options()) for side, p in providers.items()}
    from pathlib import Path

    recorder = RunRecorder.start(
        "review" if len(specs) == 1 else "compare",
        input_ref=str(Path(path).resolve()),
        input_sha256=text_input.sha256,
        providers=[p.spec for p in providers.values()],
        enabled=record,
    )
    role = None if len(specs) == 1 else "side"

    def starter(side: str) -> Callable[[int], AsyncIterator[Any]]:
        plan = plans[side]
        provider = recorder.recorded(plan.provider, side if role else None)
        return lambda run: review_events(
            provider, plan.source, text_input, plan.chunks, max_tokens=plan.max_tokens, key=key, input_flags=plan.flags
        )

    return PreparedRun(
        "review",
        text_input,
        {side: starter(side) for side in specs},
        {side: p.spec for side, p in providers.items()},
        list(providers.values()),
        source,
        recorder,
    )


def prepare_triage(
    text: str,
    label: str,
    specs: dict[str, str],
    *,
    mode: str,
    context: dict[str, str],
    judges: list[str] | None,
    record: bool = True,
    route: RouteOptions = RouteOptions(),
) -> PreparedRun:
    """A triage of pasted text by one provider or two, judged by `judges` (None: the config's)."""
    from app.config.load import load_config
    from app.source.inputs import decode_text
    from app.errors import InputError
    from app.history.recording import RunRecorder
    from app.triage.task import triage_events
    from app.triage_cli import load_incident, redacted_for, resolve_judges

    try:
        text_input = decode_text(text.encode("utf-8", "surrogateescape"), label, what="incident")
    except InputError as exc:
        from app.errors import UsageError

        raise UsageError(str(exc)) from None
    text_input, flags, reference = load_incident(text_input, None)
    config = load_config()
    providers = {
        side: _side_provider(spec, config, len(specs), f"triage.{mode}", route) for side, spec in specs.items()
    }
    judge_providers = resolve_judges(judges, config, None)
    recorder = RunRecorder.start(
        "triage" if len(specs) == 1 else "compare",
        input_ref=label,
        input_sha256=text_input.sha256,
        providers=[p.spec for p in (*providers.values(), *judge_providers)],
        enabled=record,
    )
    several = len(specs) > 1

    side_input, side_flags, context = redacted_for(
        [*providers.values(), *judge_providers], text_input, flags, context, allow=False
    )

    def starter(side: str) -> Callable[[int], AsyncIterator[Any]]:
        provider = recorder.recorded(providers[side], side if several else None)
        side_judges = [recorder.recorded(j, f"{side}-judge" if several else "judge") for j in judge_providers]
        return lambda run: triage_events(
            provider,
            side_input,
            mode=mode,
            context=context,
            max_tokens=4096,
            reference=reference,
            judges=side_judges,
            input_flags=side_flags,
        )

    return PreparedRun(
        "triage",
        text_input,
        {side: starter(side) for side in specs},
        {side: p.spec for side, p in providers.items()},
        [*providers.values(), *judge_providers],
        None,
        recorder,
    )


def public_json(event: Any) -> dict[str, Any] | None:
    """The public JSON of a finished task event, else None."""
    from app.review.task import ReviewFinished
    from app.triage.task import TriageFinished

    if isinstance(event, ReviewFinished):
        from app.review.report import review_json

        return review_json(event.outcome)
    if isinstance(event, TriageFinished):
        from app.triage.task import triage_json

        return triage_json(event.outcome)
    return None


async def prepare_off_loop(prepare: Callable[..., PreparedRun], *args: Any, **kwargs: Any) -> PreparedRun:
    """Prepare in a thread: parsing the input, building providers and loading their SDKs
    (anthropic takes about 2 s to import) or a local model must not freeze the screen."""
    import asyncio
    import importlib

    def work() -> PreparedRun:
        prepared = prepare(*args, **kwargs)
        for provider in prepared.closing:
            provider.preload()
        # What the run's events and its end will need, imported here rather than on the
        # event loop at the first finding or the end of a side (the triage models alone
        # take ~35 ms to import).
        for module in (
            "app.compare.events",
            "app.compare.report",
            "app.render.compare",
            "app.review.report",
            "app.review.stored",
            "app.triage.task",
        ):
            importlib.import_module(module)
        return prepared

    return await asyncio.to_thread(work)


class TextBatcher:
    """Text deltas arrive one token at a time; the screen needs them once a frame. Text is
    held for at most `every_s` and posted as one TextArrived per side; any other event
    posts the held text first, so the order on screen is the order of arrival."""

    def __init__(self, post: Callable[[Message], Any], every_s: float = 0.02) -> None:
        import asyncio

        self.post = post
        self.every_s = every_s
        self.held: dict[tuple[str, int], list[str]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()

    def add(self, side: str, run: int, event: Any, public: dict[str, Any] | None = None) -> None:
        from app.calls.structured import TextArrived

        if isinstance(event, TextArrived):
            self.held.setdefault((side, run), []).append(event.text)
            if self.timer is None:
                self.timer = self.loop.call_later(self.every_s, self.flush)
            return
        self.flush()
        self.post(TaskUpdate(side, run, event, public))

    def flush(self) -> None:
        from app.calls.structured import TextArrived

        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        held, self.held = self.held, {}
        for (side, run), parts in held.items():
            self.post(TaskUpdate(side, run, TextArrived("".join(parts))))


async def drive(prepared: PreparedRun, post: Callable[[Message], Any]) -> None:
    """Run both sides to the end, posting their events (text batched per frame); record and
    report the end. A cancellation (Escape) is recorded as such and re-raised."""
    import asyncio

    from app.compare.events import compare_events

    sides: dict[str, dict[str, Any]] = {}
    status = "cancelled"
    for note in prepared.notes:
        post(RunNote(note))
    batcher = TextBatcher(post)
    try:
        async for item in compare_events(prepared.starts):
            data = public_json(item.event)
            batcher.add(item.side, item.run, item.event, data)
            if data is not None:
                sides[item.side] = data
        status = "ok" if all(s["status"] == "ok" for s in sides.values()) else "failed"
    except asyncio.CancelledError:
        batcher.flush()
        post(RunEnded("cancelled", sides, None, prepared.recorder.finish(status="cancelled")))
        raise
    finally:
        batcher.flush()
        for provider in prepared.closing:
            await provider.aclose()
    # The report (pairing hundreds of findings, perhaps) and the history write are done in a
    # thread, so the panes can show their final results meanwhile.
    report, recording = await asyncio.to_thread(_finish, prepared, sides, status)
    post(RunEnded(status, sides, report, recording))


def _finish(prepared: PreparedRun, sides: dict[str, dict[str, Any]], status: str) -> tuple[dict[str, Any] | None, Any]:
    """The compare report when there were two sides; the run written to history, and what
    history holds of it."""
    from app.compare.report import compare_report

    if len(sides) == 2:
        report = compare_report(prepared.task, {"a": [sides["a"]], "b": [sides["b"]]})
        return report, prepared.recorder.finish(status=status, result=report)
    only = sides["a"]
    result = only.get("result") or {}
    return None, prepared.recorder.finish(
        status=status,
        score=result.get("score"),
        result=only,
        summary=result.get("summary") or (result.get("root_cause") or {}).get("summary"),
    )
