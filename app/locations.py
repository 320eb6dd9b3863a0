"""Where driftcheck keeps its files: the config (user config directory) and history (user
data directory), from platformdirs, each movable by an environment variable for tests
and CI. Only paths here: nothing is read or created."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR_ENV = "DRIFTCHECK_CONFIG_DIR"
DATA_DIR_ENV = "DRIFTCHECK_DATA_DIR"
CONFIG_NAME = "config.toml"
DB_NAME = "history.db"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("driftcheck", appauthor=False))


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("driftcheck", appauthor=False))


def db_path() -> Path:
    return data_dir() / DB_NAME
