"""Emitting the items of a streamed JSON list one by one, as soon as each is complete.

A small scanner follows the reply character by character — string and escape aware —
and knows where each object of the wanted list (`findings`, `actions`, ...) begins and
ends. When an item's closing brace arrives, that item alone is parsed with jiter and
validated. Every character is looked at once, so the work per token is the same on the
first token of a long reply as on the twenty-thousandth; re-parsing the whole reply at
every delta would grow with its length. Text before the object (a code fence, a
sentence) is skipped. The same class serves a review's findings and a triage's actions.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import jiter
from pydantic import BaseModel, ValidationError

Item = TypeVar("Item", bound=BaseModel)


class ListStreamer(Generic[Item]):
    """Feed text deltas; get back the list items that became complete."""

    def __init__(self, field: str, item_model: type[Item]) -> None:
        self.field = field
        self.item_model = item_model
        self.emitted: list[Item] = []
        self.skipped = 0  # items that were complete but failed validation
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._expect_key = False  # at the top level, the next string is a key
        self._key: list[str] | None = None  # the top-level key being read
        self._last_key: str | None = None
        self._in_list = False  # inside the wanted list
        self._item: list[str] | None = None  # the current item's characters

    def feed(self, delta: str) -> list[Item]:
        found: list[Item] = []
        for ch in delta:
            self._step(ch, found)
        return found

    def finish(self) -> list[Item]:
        """The stream ended. Items are emitted at their closing brace, so none is pending."""
        return []

    def _step(self, ch: str, found: list[Item]) -> None:
        if self._item is not None:
            self._item.append(ch)
        elif self._key is not None:
            self._key.append(ch)
        if self._in_string:
            if self._escaped:
                self._escaped = False
            elif ch == "\\":
                self._escaped = True
            elif ch == '"':
                self._in_string = False
                if self._key is not None:
                    self._last_key = _decode_key("".join(self._key[:-1]))
                    self._key = None
                    self._expect_key = False
            return
        if ch == '"':
            self._in_string = True
            if self._depth == 1 and self._expect_key:
                self._key = []
        elif ch in "{[":
            self._depth += 1
            if self._depth == 1:
                self._expect_key = ch == "{"
            elif self._depth == 2 and ch == "[" and self._last_key == self.field:
                self._in_list = True
            elif self._depth == 3 and ch == "{" and self._in_list:
                self._item = [ch]
        elif ch in "}]":
            if self._depth == 3 and ch == "}" and self._item is not None:
                self._emit("".join(self._item), found)
                self._item = None
            self._depth -= 1
            if self._depth <= 1:
                self._in_list = False
            if self._depth < 0:  # a stray closer before the object: start over
                self._depth = 0
        elif ch == "," and self._depth == 1:
            self._expect_key = True

    def _emit(self, text: str, found: list[Item]) -> None:
        try:
            item = self.item_model.model_validate(jiter.from_json(text.encode("utf-8")))
        except (ValueError, ValidationError):
            self.skipped += 1  # a broken item: the final validation reports it
            return
        self.emitted.append(item)
        found.append(item)


def _decode_key(raw: str) -> str:
    try:
        return str(jiter.from_json(f'"{raw}"'.encode()))
    except ValueError:
        return raw
