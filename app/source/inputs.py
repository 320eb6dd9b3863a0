"""Reading what the user hands us, with a specific message for everything that can be wrong.

A file that cannot be reviewed fails here, before any provider is contacted, with a
message that says what is wrong with it and what to do instead. A file that can be
reviewed with care (not UTF-8, a byte-order mark, CRLF) is read, and the care taken is
reported as a note rather than hidden.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import InputError

# Above this a file is almost certainly generated, vendored or data, not code to review.
MAX_BYTES = 4 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass
class TextInput:
    """Decoded text and how it was obtained."""

    path: str
    text: str
    encoding: str
    sha256: str
    size_bytes: int
    notes: list[str] = field(default_factory=list)


def read_text_file(path_text: str, *, max_bytes: int = MAX_BYTES, what: str = "file") -> TextInput:
    path = Path(path_text).expanduser()
    try:
        if not path.exists():
            hint = " (is the path relative to the directory you are in?)" if not path.is_absolute() else ""
            raise InputError(f"{path_text}: no such file{hint}")
        if path.is_dir():
            raise InputError(f"{path_text} is a directory; give one {what} at a time")
        if not path.is_file():
            raise InputError(f"{path_text} is not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{path_text} is {size / 1048576:.1f} MiB, more than the {max_bytes / 1048576:.0f} MiB "
                f"limit; a file this large is usually generated or data. Review the source it "
                f"comes from, or split it"
            )
        data = path.read_bytes()
    except PermissionError:
        raise InputError(f"{path_text}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path_text}: cannot read it ({exc.strerror or exc})") from None
    return decode_text(data, path_text, what=what)


def decode_text(data: bytes, label: str, *, what: str = "file") -> TextInput:
    """Bytes to text: UTF-8 (with or without BOM), else a legacy code page, said out loud."""
    if not data:
        raise InputError(f"{label} is empty; there is nothing to review" if what == "file" else f"{label} is empty")
    if b"\x00" in data[:_SNIFF_BYTES] and not _is_utf16(data):
        raise InputError(f"{label} looks binary (it contains NUL bytes); driftcheck reviews text source files")
    notes: list[str] = []
    if _is_utf16(data):
        text, encoding = data.decode("utf-16"), "utf-16"
        notes.append(f"{label} is UTF-16; it was decoded, and line numbers are unaffected")
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
            if data.startswith(b"\xef\xbb\xbf"):
                notes.append(f"{label} starts with a UTF-8 byte-order mark; it was removed")
        except UnicodeDecodeError as exc:
            text, encoding = _decode_legacy(data)
            notes.append(
                f"{label} is not valid UTF-8 (first bad byte at offset {exc.start}); "
                f"decoded as {encoding}, so a few characters may be shown wrongly"
            )
    if "\x00" in text:
        raise InputError(f"{label} looks binary (it contains NUL characters)")
    if not text.strip():
        raise InputError(f"{label} holds only whitespace; there is nothing to review")
    return TextInput(
        path=label,
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        notes=notes,
    )


def _is_utf16(data: bytes) -> bool:
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _decode_legacy(data: bytes) -> tuple[str, str]:
    # cp1252 is what most non-UTF-8 source on disk really is; latin-1 decodes anything.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def looks_minified(text: str) -> bool:
    """Long lines and few of them: bundler output rather than source a person wrote."""
    lines = text.count("\n") + 1
    longest = max((len(line) for line in text.split("\n")), default=0)
    return longest > 1000 and len(text) / lines > 300
