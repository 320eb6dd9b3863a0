"""Writing the config: `driftcheck config set` and the settings screen.

Changes are dotted paths (`default`, `compare`, `routes.triage.active`,
`resilience.retries`, `endpoints.ollama.base_url`, `prices.MODEL.input_per_mtok`),
applied to the file's TOML, checked by reading the result back exactly as driftcheck
reads it, and written atomically with tomli-w, private to its owner (0600, in a 0700
directory). A value that looks like an API key is refused, like everywhere else.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from app.config import Config, ConfigError, _check_private, _parse, _refuse_keys, config_path

# Settings that hold a list of SPECs: "a, b" on the command line is a list.
LIST_SETTINGS = {"compare", "judges", "resilience.fallback"}
_TOP = {"default", "compare", "judges", "routes", "resilience", "endpoints", "prices", "local"}


def split_path(dotted: str) -> list[str]:
    """Dotted path to TOML keys; route names and model names keep their own dots."""
    head, _, rest = dotted.partition(".")
    if head not in _TOP:
        raise ConfigError(f"unknown setting {dotted!r}: it starts with one of {', '.join(sorted(_TOP))}")
    if not rest:
        return [head]
    if head == "routes":
        return [head, rest]
    if head == "prices":  # model names have dots: gpt-5.4-mini, qwen2.5-coder:7b
        for field in ("input_per_mtok", "output_per_mtok"):
            if rest.endswith("." + field):
                return [head, rest[: -len(field) - 1], field]
        return [head, rest]
    if head == "endpoints":
        name, _, field = rest.partition(".")
        return [head, name, field] if field else [head, name]
    return [head, rest]


def parse_value(dotted: str, text: str) -> Any:
    """A TOML literal (3, 2.5, true, ["a", "b"]) or a plain string; lists from commas."""
    if dotted in LIST_SETTINGS and not text.strip().startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def update_config(changes: dict[str, Any], path: Path | None = None) -> Config:
    """Apply `changes` (dotted path → value; None removes the setting) and write the file."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        _check_private(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot update the config {path}: {exc}") from None
    for dotted, value in changes.items():
        keys = split_path(dotted)
        table = data
        for key in keys[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{dotted}: {key} is not a table in {path}")
        if value is None or value == "" or value == []:
            table.pop(keys[-1], None)
        else:
            table[keys[-1]] = value
    text = tomli_w.dumps(_drop_empty(data))
    _refuse_keys(text, path)
    config = _parse(tomllib.loads(text), path)  # refuse what driftcheck could not read back
    _write_private(path, text)
    return config


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (_drop_empty(v) if isinstance(v, dict) else v) for k, v in data.items()
            if not (isinstance(v, dict) and not _drop_empty(v))}


def _write_private(path: Path, text: str) -> None:
    from app.files import write_atomically

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o600)
