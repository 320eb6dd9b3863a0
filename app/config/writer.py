"""Writing the config: `driftcheck config set` and the settings screen.

Changes are dotted paths (`default`, `compare`, `routes.triage.active`,
`resilience.retries`, `endpoints.ollama.base_url`, `prices.MODEL.input_per_mtok`),
applied to the file with tomlkit, which keeps a hand-edited file's comments and layout;
the result is checked by reading it back exactly as driftcheck reads a config, then
written atomically, private to its owner (0600, in a 0700 directory). A value that looks
like an API key is refused, like everywhere else.

One change at a time: the read-modify-write holds an exclusive lock on a file beside the
config, so concurrent `config set` calls each keep the others' changes. A config that is
a symbolic link is written through the link (the link stays, its target changes).
"""

from __future__ import annotations

import fcntl
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.config.load import check_directory, config_from_text, read_private
from app.config.settings import Config
from app.errors import ConfigError
from app.locations import config_path

# Settings that hold a list of SPECs: "a, b" on the command line is a list.
LIST_SETTINGS = {"compare", "judges", "resilience.fallback"}


def split_path(dotted: str) -> list[str]:
    """Dotted path to TOML keys; route names and model names keep their own dots."""
    head, _, rest = dotted.partition(".")
    if not head:
        raise ConfigError(f"{dotted!r} is not a setting: write it as a dotted path, e.g. resilience.retries")
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
    """Apply `changes` (dotted path → value; None removes the setting) and write the file.
    Every other value, comment and blank line in the file stays as it was."""
    path = path or config_path()
    keys = {dotted: split_path(dotted) for dotted in changes}
    check_directory(path.parent)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = path.resolve() if path.is_symlink() else path
        with _locked(target):
            try:
                before = read_private(path)
            except FileNotFoundError:
                before = ""
            text = _changed(before, {tuple(keys[d]): v for d, v in changes.items()}, path)
            config = config_from_text(text, path, cited=before, edited=[tuple(k) for k in keys.values()])
            from app.source.files import write_atomically

            write_atomically(target, text, mode=0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write the config {path}: {exc.strerror or exc}") from None
    return config


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive lock on `.config.toml.lock` beside the file, held until it is written.
    The lock file is never removed: removing it would let two writers lock different files."""
    fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _changed(text: str, changes: dict[tuple[str, ...], Any], path: Path) -> str:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        doc = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"the config {path} is not valid TOML: {exc}. Fix or delete that line.") from None
    for keys, value in changes.items():
        _apply(doc, keys, value, path)
    return doc.as_string()


def _apply(doc: Any, keys: tuple[str, ...], value: Any, path: Path) -> None:
    """Set (or, for None, remove) one value; tables are made as needed and removed when a
    removal leaves them empty."""
    import tomlkit

    tables = [doc]
    for depth, key in enumerate(keys[:-1]):
        if key not in tables[-1]:
            if value is None:
                return
            # A table that only holds tables is written as [endpoints.NAME], without [endpoints].
            holds_tables = depth < len(keys) - 2 or isinstance(value, dict)
            tables[-1][key] = tomlkit.table(is_super_table=holds_tables)
        table = tables[-1][key]
        if not isinstance(table, dict):
            raise ConfigError(f"{'.'.join(keys)}: {'.'.join(keys[: depth + 1])} is not a table in {path}")
        tables.append(table)
    if value is not None:
        tables[-1][keys[-1]] = value
        return
    tables[-1].pop(keys[-1], None)
    for depth in range(len(tables) - 1, 0, -1):
        if tables[depth]:
            break
        del tables[depth - 1][keys[depth - 1]]
