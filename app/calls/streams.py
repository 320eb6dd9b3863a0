"""Several event streams as one: each runs as its own task, and their events come out in
the order they happen. A review of a change runs its files and a file its parts this
way, each request waiting for its turn in the provider's limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _FAILED = range(3)


async def interleave(streams: list[AsyncIterator[T]]) -> AsyncIterator[T]:
    """Every item of `streams` as it arrives. An exception in one stream reaches the
    consumer (the others are cancelled); closing the result cancels them all."""
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()

    async def pump(stream: AsyncIterator[T]) -> None:
        try:
            if hasattr(stream, "aclose"):
                async with aclosing(stream) as closing:  # type: ignore[type-var]
                    async for item in closing:
                        queue.put_nowait((_ITEM, item))
            else:
                async for item in stream:
                    queue.put_nowait((_ITEM, item))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug in a stream: the consumer must not wait for it
            queue.put_nowait((_FAILED, exc))
            return
        queue.put_nowait((_DONE, None))

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    left = len(tasks)
    try:
        while left:
            kind, value = await queue.get()
            if kind == _ITEM:
                yield value
            elif kind == _DONE:
                left -= 1
            else:
                raise value
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
