"""Reading the TOML config: who may read it, and the settings it gives (app.config.settings).

The file is written by `driftcheck config set` and the settings screen (app.config.writer)
and may be edited by hand; it is read with tomllib and checked against the one model of
the file (app.config.model), which turns it into the provider-layer settings below.
`DRIFTCHECK_CONFIG_DIR` moves it, for tests and CI. Keys never live here: only the names
of the environment variables that hold them.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Collection
from pathlib import Path

from app.config.settings import Config
from app.errors import ConfigError
from app.locations import CONFIG_DIR_ENV, config_path


def load_config(path: Path | None = None) -> Config:
    """Read the config; a missing file is an empty config, a broken one a ConfigError."""
    path = path or config_path()
    try:
        text = read_private(path)
    except FileNotFoundError:
        return Config(path=path)
    return config_from_text(text, path)


def read_private(path: Path) -> str:
    """The config's text, once it is clear that only its owner can read or change it.
    FileNotFoundError when there is no config yet."""
    check_private(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config {path}: {exc}") from None


def config_from_text(
    text: str, path: Path, *, cited: str | None = None, edited: Collection[tuple[str, ...]] = ()
) -> Config:
    """The config `text` would give, or a ConfigError naming the file, the key and the line
    (lines from `cited`, the file on disk, when `text` is a change not yet written)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config {path} is not valid TOML: {exc}. Fix or delete that line.") from None
    refuse_keys(text, path)
    from app.config.model import validate_config  # pydantic only once a config is read

    return validate_config(data, path, text=text if cited is None else cited, edited=edited)


def check_private(path: Path) -> None:
    """A config others can read is refused: it names endpoints and may be edited to hold
    more than it should. So is one in a directory others can read or write: they could
    swap the file. The message gives the command that fixes it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except NotADirectoryError:
        raise ConfigError(not_a_directory(path.parent)) from None
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            f"the config {path} can be read or written by other users (mode {mode:o}); "
            f"make it private with: chmod 600 {path}"
        )
    check_directory(path.parent)


def check_directory(directory: Path) -> None:
    """The config directory, if it exists, is a directory that only its owner can use."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise ConfigError(not_a_directory(directory)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(not_a_directory(directory))
    mode = stat.S_IMODE(info.st_mode)
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            f"the config directory {directory} can be read or written by other users "
            f"(mode {mode:o}); make it private with: chmod 700 {directory}"
        )


def not_a_directory(directory: Path) -> str:
    return (
        f"the config directory {directory} is not a directory (it, or a folder above it, is a file): "
        f"move that file away, or set {CONFIG_DIR_ENV} to a directory"
    )


def refuse_keys(text: str, path: Path) -> None:
    """Keys live in the environment only: a config line holding one is an error, and the
    message names the line and the rule, never the value."""
    from app.source.secrets import scan_line

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0]
        hits = scan_line(stripped)
        is_key_field = stripped.strip().lower().startswith(("api_key ", "api_key=", "key ", "key="))
        if hits or is_key_field:
            rule = hits[0][0] if hits else "a key field"
            raise ConfigError(
                f"the config {path}: line {number} holds what looks like a secret ({rule}). "
                "Keys are read from the environment only: remove it, export the key, and name "
                "the variable with api_key_env"
            )
