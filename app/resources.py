"""Where the data folders (prompts/, sample_code/, incidents/) are, installed or not.

In a wheel they travel inside the package as app/data/NAME; in a checkout they sit at
the top of the repository. Both layouts are tried so a `pip install .` and a clone behave
the same.
"""

from __future__ import annotations

from pathlib import Path

DATA_FOLDERS = ("prompts", "sample_code", "incidents")
_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    if name not in DATA_FOLDERS:
        raise ValueError(f"unknown data folder {name!r}")
    for candidate in (_PACKAGE / "data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"driftcheck's {name}/ folder is missing; reinstall driftcheck")


def load_prompt(name: str) -> str:
    """A prompt template from prompts/, by file name without the extension."""
    path = bundled_dir("prompts") / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"driftcheck's prompt {name!r} is missing ({path}); reinstall driftcheck") from None


def marker_tag(*texts: str) -> str:
    """A random tag that occurs in none of `texts`, for the marker lines around data in a
    prompt: nothing inside the data can close the block early and speak as the prompt."""
    import secrets

    while True:
        tag = secrets.token_hex(6)
        if not any(tag in text for text in texts):
            return tag
