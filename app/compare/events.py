"""Running one task on two providers at once (the report that sets them side by side is
app.compare.report).

Each side's runs (one, or N with --repeat) go one after another — concurrent requests to
one provider would skew its latency — while the two sides run at the same time, so a
compare takes about as long as its slower side. Events from both come out interleaved as
they arrive, each tagged with its side and run, for the CLI to print and the TUI to
render. A side's failure ends only that side: the task events never raise a provider
error, so the other side carries on and both outcomes arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from app.calls.batching import name_calls


@dataclass(frozen=True)
class SideEvent:
    """One of a task's own events (a finding, an action, a retry, its end) from one side."""

    side: str
    run: int
    event: Any


_DONE = object()


async def interleave(streams: dict[str, AsyncIterator[Any]]) -> AsyncIterator[tuple[str, Any]]:
    """Every stream's events as they arrive, tagged with the stream's key. A stream that
    raises stops the rest, and the error reaches the caller."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def pump(key: str, stream: AsyncIterator[Any]) -> None:
        try:
            async for event in stream:
                await queue.put((key, event))
        except BaseException as exc:
            await queue.put((key, exc))
            return
        await queue.put((key, _DONE))

    tasks = [asyncio.create_task(pump(key, stream)) for key, stream in streams.items()]
    open_streams = len(tasks)
    try:
        while open_streams:
            key, event = await queue.get()
            if event is _DONE:
                open_streams -= 1
            elif isinstance(event, BaseException):
                raise event
            else:
                yield key, event
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _named(key: str, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The stream, its calls named `key`: their ids in a batch, the same in every process,
    so a resumed compare collects the batch it submitted instead of sending it again. Each
    run is pumped by a task of its own (`interleave`), which the name stays with."""
    name_calls(key)
    async for event in stream:
        yield event


async def _runs(
    side: str, start: Callable[[int], AsyncIterator[Any]], repeat: int, *, together: bool = False
) -> AsyncIterator[tuple[int, Any]]:
    if together:  # every run at once: their calls wait in one batch, not in turn
        runs = {str(n): _named(f"run:{side}:{n}", start(n)) for n in range(repeat)}
        async for tag, event in interleave(runs):
            yield int(tag), event
        return
    for run in range(repeat):
        async for event in _named(f"run:{side}:{run}", start(run)):
            yield run, event


async def compare_events(
    starts: dict[str, Callable[[int], AsyncIterator[Any]]], *, repeat: int = 1, together: bool = False
) -> AsyncIterator[SideEvent]:
    """Run each side's task `repeat` times (`starts[side](run)` begins one run), the sides
    concurrently; yield their events tagged with side and run. `together`: a side's runs
    start at once too (its provider batches them), else one after another."""
    sides = {side: _runs(side, start, repeat, together=together) for side, start in starts.items()}
    async for side, (run, event) in interleave(sides):
        yield SideEvent(side, run, event)
