"""The TOML config: where it lives, and turning it into provider-layer settings.

The file is machine-owned (written by `driftcheck config set` and the settings screen)
and read with tomllib. `DRIFTCHECK_CONFIG_DIR` moves it, for tests and CI. Keys never
live here: only the names of the environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.base import RetryPolicy, Timeouts
from providers.pricing import Price
from providers.spec import Endpoint, LocalOptions

CONFIG_DIR_ENV = "DRIFTCHECK_CONFIG_DIR"
TOKEN_PARAMS = ("max_tokens", "max_completion_tokens")


class ConfigError(Exception):
    """The config file exists but cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class Route:
    """What one task uses: a SPEC, and optionally its own fallback chain and hedging."""

    spec: str
    fallback: list[str] | None = None   # None: the [resilience] fallback
    hedge_after: str | None = None      # None: the [resilience] hedge_after


@dataclass(frozen=True)
class Resilience:
    fallback: list[str] = field(default_factory=list)
    hedge_after: str = "off"
    hedge_budget: float = 0.05
    cooldown_failures: int = 3
    cooldown_s: float = 30.0


ROUTE_TASKS = ("review", "triage.active", "triage.postmortem", "judge")


@dataclass
class Config:
    path: Path
    default: str | None = None
    compare: list[str] = field(default_factory=list)
    judges: list[str] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    resilience: Resilience = field(default_factory=Resilience)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prices: dict[str, Price] = field(default_factory=dict)
    local: LocalOptions = field(default_factory=LocalOptions)


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("driftcheck", appauthor=False))


def config_path() -> Path:
    return config_dir() / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the config; a missing file is an empty config, a broken one a ConfigError."""
    path = path or config_path()
    try:
        _check_private(path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config {path} is not valid TOML: {exc}. Fix or delete that line.") from None
    _refuse_keys(text, path)
    return _parse(data, path)


def _check_private(path: Path) -> None:
    """A config others can read is refused: it names endpoints and may be edited to hold
    more than it should. The message gives the command that fixes it."""
    import stat

    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(f"the config {path} can be read or written by other users (mode {mode:o}); "
                          f"make it private with: chmod 600 {path}")


def _refuse_keys(text: str, path: Path) -> None:
    """Keys live in the environment only: a config line holding one is an error, and the
    message names the line and the rule, never the value."""
    from app.secrets import scan_line

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0]
        hits = scan_line(stripped)
        is_key_field = stripped.strip().lower().startswith(("api_key ", "api_key=", "key ", "key="))
        if hits or is_key_field:
            rule = hits[0][0] if hits else "a key field"
            raise ConfigError(f"the config {path}: line {number} holds what looks like a secret ({rule}). "
                              "Keys are read from the environment only: remove it, export the key, and name "
                              "the variable with api_key_env")


def _parse(data: dict[str, Any], path: Path) -> Config:
    def fail(where: str, what: str) -> ConfigError:
        return ConfigError(f"the config {path}: {where} {what}")

    def string(value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(where, "must be a non-empty string")
        return value.strip()

    def number(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail(where, "must be a positive number")
        return float(value)

    def table(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise fail(where, "must be a table")
        return value

    config = Config(path=path)
    if "default" in data:
        config.default = string(data["default"], "default")
    for name in ("compare", "judges"):
        values = data.get(name, [])
        if not isinstance(values, list):
            raise fail(name, "must be a list of SPEC strings")
        setattr(config, name, [string(v, name) for v in values])
    for task, value in table(data.get("routes", {}), "routes").items():
        where = f"routes.{task}"
        if task not in ROUTE_TASKS:
            raise fail(where, f"is not a task with a route: {', '.join(ROUTE_TASKS)}")
        if isinstance(value, str):
            config.routes[task] = Route(string(value, where))
            continue
        entry = table(value, where)
        fallback = entry.get("fallback")
        if fallback is not None and not isinstance(fallback, list):
            raise fail(f"{where}.fallback", "must be a list of SPEC strings")
        config.routes[task] = Route(
            string(entry.get("spec"), f"{where}.spec"),
            None if fallback is None else [string(f, f"{where}.fallback") for f in fallback],
            _hedge_after(entry.get("hedge_after"), fail, f"{where}.hedge_after"))

    prices = table(data.get("prices", {}), "prices")
    for model, entry in prices.items():
        entry = table(entry, f"prices.{model}")
        config.prices[model] = Price(number(entry.get("input_per_mtok"), f"prices.{model}.input_per_mtok"),
                                     number(entry.get("output_per_mtok"), f"prices.{model}.output_per_mtok"))

    for name, entry in table(data.get("endpoints", {}), "endpoints").items():
        where = f"endpoints.{name}"
        entry = table(entry, where)
        token_param = entry.get("token_param", "max_tokens")
        if token_param not in TOKEN_PARAMS:
            raise fail(f"{where}.token_param", f"must be one of {', '.join(TOKEN_PARAMS)}")
        key_env = entry.get("api_key_env")
        config.endpoints[name.lower()] = Endpoint(
            name=name.lower(), base_url=string(entry.get("base_url"), f"{where}.base_url"),
            api_key_env=string(key_env, f"{where}.api_key_env") if key_env is not None else None,
            token_param=token_param,
            structured_output=_structured_output(entry.get("structured_output", True), fail, where),
            streaming_usage=bool(entry.get("streaming_usage", True)),
            models=tuple(string(m, f"{where}.models") for m in entry.get("models", [])),
            params=_params(entry.get("params", {}), fail, where))

    res = table(data.get("resilience", {}), "resilience")
    defaults = Timeouts()
    config.timeouts = Timeouts(
        connect_s=number(res.get("connect_timeout_s", defaults.connect_s), "resilience.connect_timeout_s"),
        first_token_s=number(res.get("first_token_timeout_s", defaults.first_token_s),
                             "resilience.first_token_timeout_s"),
        # `timeout_s` is the longest the provider may go silent once it has started.
        stall_s=number(res.get("stall_timeout_s", res.get("timeout_s", defaults.stall_s)),
                       "resilience.stall_timeout_s"))
    retries = res.get("retries", RetryPolicy().retries)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise fail("resilience.retries", "must be a whole number from 0 to 10")
    config.retry = RetryPolicy(retries=retries)
    fallback = res.get("fallback", [])
    if not isinstance(fallback, list):
        raise fail("resilience.fallback", "must be a list of SPEC strings")
    budget = number(res.get("hedge_budget", 0.05), "resilience.hedge_budget")
    if budget > 1:
        raise fail("resilience.hedge_budget", "is a share of requests, from 0 to 1 (0.05 = 5 %)")
    failures = res.get("cooldown_failures", 3)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 1:
        raise fail("resilience.cooldown_failures", "must be a whole number, at least 1")
    config.resilience = Resilience(
        fallback=[string(f, "resilience.fallback") for f in fallback],
        hedge_after=_hedge_after(res.get("hedge_after"), fail, "resilience.hedge_after") or "off",
        hedge_budget=budget, cooldown_failures=failures,
        cooldown_s=number(res.get("cooldown_s", 30.0), "resilience.cooldown_s"))

    local = table(data.get("local", {}), "local")
    local_defaults = LocalOptions()
    context = local.get("context_tokens", local_defaults.context_tokens)
    if isinstance(context, bool) or not isinstance(context, int) or not 512 <= context <= 1_048_576:
        raise fail("local.context_tokens", "must be a whole number of tokens, at least 512")
    threads = local.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise fail("local.threads", "must be a whole number of threads, at least 1")
    fallback = local.get("use_when_unconfigured", True)
    if not isinstance(fallback, bool):
        raise fail("local.use_when_unconfigured", "must be true or false")
    config.local = LocalOptions(context_tokens=context, threads=threads, first_token_timeout_s=number(
        local.get("first_token_timeout_s", local_defaults.first_token_timeout_s), "local.first_token_timeout_s"),
        use_when_unconfigured=fallback)
    return config


def _hedge_after(value: Any, fail: Any, where: str) -> str | None:
    if value is None:
        return None
    from providers.resilience import parse_hedge_after

    try:
        parse_hedge_after(str(value))
    except ValueError:
        raise fail(where, "must be off, p95 (or another pNN), or a time such as 2.5s") from None
    return str(value)


_RESERVED_PARAMS = {"model", "messages", "stream", "stream_options", "response_format", "max_tokens",
                    "max_completion_tokens"}


def _params(value: Any, fail: Any, where: str) -> dict[str, Any]:
    """`[endpoints.NAME.params]`: extra body fields, but never ones driftcheck sets itself."""
    if not isinstance(value, dict):
        raise fail(f"{where}.params", "must be a table")
    clash = sorted(_RESERVED_PARAMS & value.keys())
    if clash:
        raise fail(f"{where}.params", f"cannot set {', '.join(clash)}: driftcheck sets those per request")
    return dict(value)


def _structured_output(value: Any, fail: Any, where: str) -> bool | str:
    if isinstance(value, bool) or value == "json_object":
        return value
    raise fail(f"{where}.structured_output", 'must be true, false or "json_object"')
