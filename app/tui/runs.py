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

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

from textual.message import Message

from app.notes import Note, Notes
from app.render.terminal import neutralise
from app.run.options import RouteOptions

if TYPE_CHECKING:
    from app.run.prepared import PreparedRun


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
class ScreenRun:
    """A run prepared for a screen (by the same run builder as the command line), and what
    its preparation said: shown as notifications when it starts."""

    prepared: PreparedRun
    notes: list[Note]
    reading: dict[str, str] = field(default_factory=dict)  # side: what a local model reads first


def prepare_review(
    path: str, specs: dict[str, str | None], *, record: bool = True, route: RouteOptions = RouteOptions()
) -> ScreenRun:
    """A review of `path` by one provider ({"a": SPEC}) or two (a compare). Raises an error
    meant for the user (DriftcheckError or ProviderError); nothing was sent then."""
    from pathlib import Path

    from app.config.load import load_config
    from app.run.providers import ProviderResolver
    from app.run.review import load_review_input
    from app.run.review import prepare_review as prepare

    said = Notes()
    prepared = prepare(
        load_review_input(path, None),
        specs,
        resolver=ProviderResolver(load_config(), notify=said),
        compare=len(specs) > 1,
        route=route,
        record=record,
        input_ref=str(Path(path).resolve()),
    )
    return ScreenRun(prepared, said.kept)


def prepare_triage(
    text: str,
    label: str,
    specs: dict[str, str | None],
    *,
    mode: str,
    context: dict[str, str],
    judges: list[str] | None,
    record: bool = True,
    route: RouteOptions = RouteOptions(),
    judge_mode: str = "pointwise",
    self_judging: bool = True,
) -> ScreenRun:
    """A triage of pasted text by one provider or two, judged by `judges` (None: the config's);
    with two, `judge_mode` "pairwise" asks the judges which answer is better, in both orders."""
    from app.config.load import load_config
    from app.run.providers import ProviderResolver
    from app.run.triage import incident_from_text, load_incident
    from app.run.triage import prepare_triage as prepare

    said = Notes()
    incident = load_incident(incident_from_text(text, label), None)
    prepared = prepare(
        incident,
        specs,
        resolver=ProviderResolver(load_config(), notify=said),
        compare=len(specs) > 1,
        mode=mode,
        context=context,
        judges=judges,
        judge_mode=judge_mode,
        self_judging=self_judging,
        route=route,
        record=record,
        input_ref=label,
    )
    return ScreenRun(prepared, said.kept)


def loading_stage(spec: str) -> str:
    """What preloading `spec`'s provider does, as the screen says it while it waits."""
    if spec.startswith("local:"):
        return f"loading the model for {spec} (a few seconds the first time)"
    return f"loading the {spec.partition(':')[0]} SDK for {spec}"


def reading_notes(prepared: PreparedRun) -> dict[str, str]:
    """For each side run by an in-process model: what it has to read before its first token
    (a CPU reads a long prompt for tens of seconds) and how long that took here before."""
    from app.history.health import prompt_rate
    from app.review.task import PROMPT_OVERHEAD_TOKENS
    from app.source.model import estimate_tokens

    tokens = estimate_tokens(prepared.text_input.text) + PROMPT_OVERHEAD_TOKENS
    notes = {}
    for side, spec in prepared.specs.items():
        if not spec.startswith("local:"):
            continue
        rate = prompt_rate(spec)
        about = (
            f"about {tokens / rate:,.0f} s at the {rate:,.0f} tokens/s measured here before"
            if rate
            else "a CPU reads roughly 100-1,000 tokens a second"
        )
        notes[side] = f" · reading a ~{tokens:,}-token prompt ({about})"
    return notes


async def prepare_off_loop(
    prepare: Callable[..., ScreenRun], *args: Any, stage: Callable[[str], Any] | None = None, **kwargs: Any
) -> ScreenRun:
    """Prepare in a thread: parsing the input, building providers and loading their SDKs
    (anthropic takes about 2 s to import) or a local model must not freeze the screen.
    `stage` is called (on the event loop) with what is being done, as it starts."""
    import asyncio
    import importlib

    loop = asyncio.get_running_loop()

    def say(text: str) -> None:
        if stage is not None:
            loop.call_soon_threadsafe(stage, text)

    def work() -> ScreenRun:
        say("reading the input and resolving the providers")
        run = prepare(*args, **kwargs)
        for provider in run.prepared.closing:
            say(loading_stage(provider.spec))
            provider.preload()
        run.reading = reading_notes(run.prepared)
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
        return run

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


async def drive(run: ScreenRun, post: Callable[[Message], Any]) -> None:
    """Run both sides to the end, posting their events (text batched per frame); record and
    report the end. A cancellation (Escape) is recorded as such and re-raised."""
    import asyncio

    from app.compare.events import compare_events
    from app.run.prepared import task_json

    prepared = run.prepared
    sides: dict[str, dict[str, Any]] = {}
    status = "cancelled"
    for note in run.notes:
        post(RunNote(note.text))
    batcher = TextBatcher(post)
    try:
        async for item in compare_events(prepared.starts):
            data = task_json(item.event)
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
    # --judge-mode pairwise: the judges choose between the two answers once both are in.
    pairwise = None
    if prepared.pairwise is not None and {"a", "b"} <= sides.keys():
        post(RunNote("asking the judges which answer is better, in both orders"))
        pairwise = await prepared.pairwise(sides["a"], sides["b"])
    # The report (pairing hundreds of findings, perhaps) and the history write are done in a
    # thread, so the panes can show their final results meanwhile.
    report, recording = await asyncio.to_thread(
        lambda: prepared.finish({side: [data] for side, data in sides.items()}, pairwise=pairwise)
    )
    post(RunEnded(status, sides, report, recording))
