"""One scrubber for everything a provider sends back: no API key is printed or stored.

A provider can echo the key it was sent (an error body quoting the `Authorization`
header), and a model can repeat a credential it saw (code reviewed by a local model is
not redacted). So every text that enters driftcheck from a provider — error messages and
hints, streamed text, the final answer, partial text, the request id — passes through
here first, and two things are removed from it: the exact keys this process uses
(registered as each provider is built), or a long enough start of one (a body cut off
mid-key, a stream interrupted mid-key), and anything shaped like a credential
(`credentials.credential_spans`, the rules the secret scanner uses).

A stream is scrubbed as it arrives, and a key split across two deltas must still be
caught. A key, and the secret part of every credential shape, is one unbroken word: it
holds no whitespace and no quote. So the last, unfinished word of a stream is held back
until the word ends (a space, newline or quote arrives) or the stream does; a finished
word shorter than any key or credential is released without running a single pattern,
which is the fast path for ordinary prose. Rules that need context before the secret
(`aws_secret_access_key = ...`) see the last characters already released.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .credentials import credential_spans

if TYPE_CHECKING:
    from .errors import ProviderError

REDACTED_KEY = "[REDACTED:api-key]"
#: Shorter values are not registered as keys: removing them would cut ordinary words
#: out of answers, and no provider issues keys that short. Every credential shape the
#: scanner knows also spans at least this many characters of one word.
MIN_SECRET_CHARS = 8
#: A key cut short is still removed when at least this much of it is left: the public
#: part of a key's format (`sk-ant-api03-`, `sk-proj-`) is shorter, so ordinary text that
#: mentions the format is left alone.
MIN_KEY_PREFIX = 16
#: How much already released text a context rule may need to see before a secret (the
#: longest now, `aws ... secret ... key = `, reads at most 53 characters).
CONTEXT_CHARS = 64

# Replaced, never changed in place: a stream starting in one thread reads it while a
# provider is built in another (the TUI prepares runs off its event loop).
_keys: frozenset[str] = frozenset()
# A word ends at whitespace or a quote; this finds the last such end in a delta.
_LAST_WORD_END = re.compile(r"[\s\"'`][^\s\"'`]*\Z")
_WORD_ENDS = re.compile(r"[\s\"'`]+")


def register_key(key: str | None) -> None:
    """Remember a key this process uses, so that it is removed wherever a provider echoes it."""
    global _keys
    if key and len(key.strip()) >= MIN_SECRET_CHARS and key.strip() not in _keys:
        _keys = _keys | {key.strip()}


def register_keys(keys: Iterable[str | None]) -> None:
    for key in keys:
        register_key(key)


def scrub(text: str) -> str:
    """`text` with every key in use and every credential-shaped string replaced by a marker."""
    return _redacted(text, 0, tuple(_keys)) if text else text


def scrub_error(error: ProviderError) -> ProviderError:
    """The error with what the provider said scrubbed out of every part a user reads."""
    error.message = scrub(error.message)
    error.args = (error.message,)
    if error.hint:
        error.hint = scrub(error.hint)
    if error.request_id:
        error.request_id = scrub(error.request_id)
    return error


def _redacted(window: str, start: int, keys: tuple[str, ...]) -> str:
    """window[start:] with the secrets found in `window` replaced; window[:start] is
    context already released, searched but not returned."""
    spans = [(s, e, REDACTED_KEY) for key in keys for s, e in _key_spans(window, key)]
    spans += [(s, e, f"[REDACTED:{rule}]") for rule, s, e in credential_spans(window)]
    if not spans:
        return window[start:]
    out: list[str] = []
    position = start
    for s, e, marker in sorted(spans):
        if e <= position:  # already released, or inside a span just replaced
            continue
        out += [window[position : max(s, position)], marker]
        position = e
    out.append(window[position:])
    return "".join(out)


def _key_spans(text: str, key: str) -> list[tuple[int, int]]:
    """Where `key` occurs in `text`, whole or cut short after at least MIN_KEY_PREFIX characters."""
    start = key[:MIN_KEY_PREFIX]
    found = []
    at = text.find(start)
    while at != -1:
        end = at + len(start)
        while end < len(text) and end - at < len(key) and text[end] == key[end - at]:
            end += 1
        found.append((at, end))
        at = text.find(start, end)
    return found


class StreamScrubber:
    """Scrubs one stream delta by delta; what it returns is safe to show at once.

    `feed` returns the text that can be released now (possibly ""), `flush` what was
    held back once the stream is over. Their concatenation is the scrubbed text.
    """

    __slots__ = ("_context", "_keys", "_word")

    def __init__(self) -> None:
        self._word = ""  # the unfinished last word, held back
        self._context = ""  # the end of what was released, for rules that need context
        self._keys = tuple(_keys)

    def feed(self, text: str) -> str:
        end = _LAST_WORD_END.search(text)
        if end is None:  # still inside one word
            self._word += text
            return ""
        cut = end.start() + 1
        ready = self._word + text[:cut] if self._word else text[:cut]
        self._word = text[cut:]
        return self._release(ready)

    def flush(self) -> str:
        word, self._word = self._word, ""
        return self._release(word) if word else ""

    def _release(self, ready: str) -> str:
        context = self._context
        window = context + ready
        self._context = window[-CONTEXT_CHARS:]
        if len(ready) < MIN_SECRET_CHARS or max(map(len, _WORD_ENDS.split(ready))) < MIN_SECRET_CHARS:
            return ready  # the fast path: no word long enough to be a secret
        return _redacted(window, len(context), self._keys)
