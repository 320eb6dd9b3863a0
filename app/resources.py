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


def fill_prompt(name: str, values: dict[str, str], *, stable_until: str | None = None) -> tuple[str, int]:
    """Prompt `name` filled with `values` (one pass: a `$word` inside a value stays as
    written), and how many leading characters of it are stable: everything before the line
    that holds `$stable_until`, or the whole text when it is None. Requests that share that
    prefix can be served by the provider's prompt cache."""
    from string import Template

    template = load_prompt(name)
    text = Template(template).substitute(values)
    if stable_until is None:
        return text, len(text)
    head = template[: template.rfind("\n", 0, template.index(f"${stable_until}")) + 1]
    return text, len(Template(head).substitute(values))


def marker_tag(*texts: str, stable_for: str | None = None) -> str:
    """A tag that occurs in none of `texts`, for the marker lines around data in a prompt:
    nothing inside the data can close the block early and speak as the prompt.

    Unpredictable (keyed by a secret drawn once per process), yet the same for the same
    `stable_for` text (default: all of `texts`) within a process, so repeats, compare sides
    and the judges of several answers send a prefix a provider's prompt cache can serve.
    """
    import hashlib
    import hmac

    seed = ("\x00".join(texts) if stable_for is None else stable_for).encode()
    attempt = 0
    while True:
        tag = hmac.new(_tag_secret(), b"%d\x00%s" % (attempt, seed), hashlib.sha256).hexdigest()[:12]
        if not any(tag in text for text in texts):
            return tag
        attempt += 1


_TAG_SECRET: list[bytes] = []


def _tag_secret() -> bytes:
    if not _TAG_SECRET:
        import secrets

        _TAG_SECRET.append(secrets.token_bytes(32))
    return _TAG_SECRET[0]
