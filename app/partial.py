"""Emitting the items of a streamed JSON list one by one, as soon as each is complete.

The reply is re-parsed with jiter's partial mode as text arrives. jiter in mode "on"
keeps only complete strings, so an item whose required fields are all present has
finished every string it holds. An item counts as complete when another item has
started after it, when a key after the list has begun, or when all its fields are there
and the last one is a string (a number could still be growing: "1" may become "12").
The same class serves a review's findings and a triage's actions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import jiter
from pydantic import BaseModel, ValidationError

Item = TypeVar("Item", bound=BaseModel)

# Characters that can change what the partial parse shows; a delta without any of them
# only lengthens a string, which mode "on" would not show anyway.
_STRUCTURAL = frozenset('{}[],:"')


class ListStreamer(Generic[Item]):
    """Feed text deltas; get back the list items that became complete."""

    def __init__(self, field: str, item_model: type[Item]) -> None:
        self.field = field
        self.item_model = item_model
        self.emitted: list[Item] = []
        self.skipped = 0                # items that were complete but failed validation
        self._cursor = 0                # index of the next item to look at
        self._buffer: list[str] = []
        self._start: int | None = None  # where the JSON object begins in the reply
        self._required = [name for name, f in item_model.model_fields.items() if f.is_required()]

    def feed(self, delta: str) -> list[Item]:
        self._buffer.append(delta)
        if not _STRUCTURAL.intersection(delta):
            return []
        return list(self._scan(final=False))

    def finish(self) -> list[Item]:
        """The stream ended: whatever items are complete now are complete for good."""
        return list(self._scan(final=True))

    def _scan(self, *, final: bool) -> Iterator[Item]:
        text = "".join(self._buffer)
        if self._start is None:
            start = text.find("{")  # skip a code fence or a sentence before the object
            if start < 0:
                return
            self._start = start
        try:
            data = jiter.from_json(text[self._start:].encode("utf-8"), partial_mode="on")
        except ValueError:
            return  # not JSON (yet, or at all); the final tolerant parse will judge it
        if not isinstance(data, dict):
            return
        items = data.get(self.field)
        if not isinstance(items, list):
            return
        keys = list(data)
        list_closed = final or keys.index(self.field) < len(keys) - 1
        for index in range(self._cursor, len(items)):
            raw = items[index]
            if not isinstance(raw, dict):
                return
            last = index == len(items) - 1
            if last and not list_closed and not self._self_evidently_complete(raw):
                return
            try:
                item = self.item_model.model_validate(raw)
            except ValidationError:
                if last and not list_closed:
                    return  # may still be arriving
                self._cursor, self.skipped = index + 1, self.skipped + 1
                continue    # a broken item: the final validation reports it
            self._cursor = index + 1
            self.emitted.append(item)
            yield item

    def _self_evidently_complete(self, raw: dict[str, Any]) -> bool:
        if not raw or any(name not in raw for name in self._required):
            return False
        return isinstance(raw[next(reversed(raw))], str)
