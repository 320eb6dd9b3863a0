"""The config file's one model: every key it may hold, its default and its limits.

Reading (`app.config.load.load_config`) and writing (`app.config.writer`, so `driftcheck config
set` and the settings screen) both validate with `ConfigFile`, so a value driftcheck
would refuse on read is never written; its JSON Schema is the config's documentation.
This module is imported only when a config is read or written, which keeps pydantic off
the `driftcheck --help` path.

A refusal is one line naming the file, the key as a dotted path and the line it is on:
`the config /x/config.toml: line 7: resilience.first_token_timeout_s must be a positive
number of seconds (got nan)`.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from app.config.settings import Config, Resilience, Route
from app.errors import ConfigError
from providers.base import RetryPolicy, Timeouts
from providers.errors import ProviderError
from providers.pricing import Price
from providers.spec import KINDS, LOCAL, Endpoint, LocalOptions, parse_spec

# Errors this module words itself; pydantic's own wording is replaced (see `_explained`).
_OURS = "driftcheck_config"
_TIMEOUTS, _RETRY, _RESILIENCE, _LOCAL = Timeouts(), RetryPolicy(), Resilience(), LocalOptions()
_BUILT_IN = (*KINDS, LOCAL)


def _refusal(reason: str) -> PydanticCustomError:
    # The reason goes in as context so braces in it are never read as a template.
    return PydanticCustomError(_OURS, "{reason}", {"reason": reason})


def _explained(phrase: str) -> WrapValidator:
    """Say `phrase` ("must be ...") when this value is wrong in itself; errors further in
    (a list item, a table's key) and the ones this module words keep their own text."""

    def wrap(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if any(e["loc"] or e["type"] == _OURS for e in exc.errors()):
                raise
            raise _refusal(phrase) from None

    return WrapValidator(wrap)


# --- value types ---------------------------------------------------------------------------


def _usable_spec(value: str, info: ValidationInfo) -> str:
    """A SPEC must name a provider this file makes usable: a built-in one or one of its own
    endpoints (given in the validation context, so a typo fails here, naming the key)."""
    endpoints = (info.context or {}).get("endpoints", {})
    try:
        parse_spec(value, endpoints)
    except ProviderError as exc:
        raise _refusal(f"is not a usable SPEC: {exc.one_line()}") from None
    return value


def _hedge_after(value: str) -> str:
    from providers.resilience import parse_hedge_after

    try:
        parse_hedge_after(value)
    except ValueError:
        raise _refusal(_HEDGE_AFTER) from None
    return value


def _seconds_as_text(value: Any) -> Any:
    """`hedge_after = 2.5` means 2.5 seconds, as "2.5s" does."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a malformed host or port
        usable = False
    if not usable:
        raise _refusal(_URL)
    return value


def _own_endpoint_name(name: str) -> str:
    kind = name.lower()
    if kind in _BUILT_IN:
        elsewhere = (
            f", or point {kind} itself at another server with {KINDS[kind].base_url_env}" if kind in KINDS else ""
        )
        raise _refusal(
            f"would shadow the built-in provider {kind!r}: give the endpoint a name of its "
            f"own (such as my-{kind}){elsewhere}"
        )
    return name


_RESERVED_PARAMS = frozenset(
    {"model", "messages", "stream", "stream_options", "response_format", "max_tokens", "max_completion_tokens"}
)


def _request_params(params: dict[str, Any]) -> dict[str, Any]:
    """Extra body fields, but never ones driftcheck sets itself, and no number JSON cannot carry."""
    clash = sorted(_RESERVED_PARAMS & params.keys())
    if clash:
        raise _refusal(f"cannot set {', '.join(clash)}: driftcheck sets those per request")
    if not all(_finite(value) for value in params.values()):
        raise _refusal("must hold finite numbers only (nan and inf cannot be sent)")
    return params


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


_HEDGE_AFTER = "must be off, p95 (or another pNN), or a time such as 2.5s or 800ms"
_URL = "must be an http:// or https:// URL with a host, e.g. http://localhost:11434/v1"

Spec = Annotated[
    str,
    Field(min_length=1, description="provider:model, e.g. anthropic:claude-haiku-4-5"),
    AfterValidator(_usable_spec),
    _explained("must be a provider:model SPEC"),
]
SpecList = Annotated[list[Spec], _explained("must be a list of SPEC strings")]
SpecPair = Annotated[
    list[Spec], Field(min_length=2, max_length=2), _explained("must be a list of exactly two SPECs, A and B")
]
HedgeAfter = Annotated[
    str,
    BeforeValidator(_seconds_as_text, json_schema_input_type=str | float),
    AfterValidator(_hedge_after),
    _explained(_HEDGE_AFTER),
]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False), _explained("must be a positive number of seconds")]
PerMillion = Annotated[
    float, Field(ge=0, allow_inf_nan=False), _explained("must be a price in USD per million tokens, 0 or more")
]
Text = Annotated[str, Field(min_length=1), _explained("must be a non-empty string")]
EndpointName = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_-]+$"),
    _explained("must be a name of letters, digits, - and _ (it is used as NAME:model)"),
    AfterValidator(_own_endpoint_name),
]


# --- the tables ----------------------------------------------------------------------------


class _Table(BaseModel):
    """A TOML table: no key driftcheck does not know (a typo is refused, not ignored), no
    coercion between types, and no nan or inf anywhere."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, str_strip_whitespace=True, frozen=True)
    # How a key this table does not hold is described (after its dotted path).
    unknown_key: ClassVar[str] = "is an unknown setting"


class EndpointTable(_Table):
    """An OpenAI-compatible server, used as NAME:model."""

    base_url: Annotated[
        str,
        Field(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$", description="the server's API root"),
        AfterValidator(_http_url),
        _explained(_URL),
    ]
    api_key_env: (
        Annotated[
            str,
            Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
            _explained("must be the name of an environment variable, e.g. OLLAMA_API_KEY"),
        ]
        | None
    ) = Field(None, description="the environment variable that holds the key; omit when the server needs none")
    token_param: Annotated[
        Literal["max_tokens", "max_completion_tokens"], _explained("must be max_tokens or max_completion_tokens")
    ] = Field("max_tokens", description="the request field the server takes for the output limit")
    structured_output: Annotated[bool | Literal["json_object"], _explained('must be true, false or "json_object"')] = (
        Field(
            True,
            description='true: json_schema; "json_object": JSON mode with the schema in the prompt; '
            "false: the schema in the prompt only",
        )
    )
    streaming_usage: Annotated[bool, _explained("must be true or false")] = Field(
        True, description="whether the server sends a usage chunk at the end of a stream"
    )
    models: Annotated[list[Text], _explained("must be a list of model names")] = Field(
        default_factory=list, description="models listed by `driftcheck providers`; the first is used by default"
    )
    params: Annotated[dict[str, Any], _explained("must be a table"), AfterValidator(_request_params)] = Field(
        default_factory=dict, description="extra fields sent in every request body (temperature, seed, ...)"
    )

    def endpoint(self, name: str) -> Endpoint:
        return Endpoint(
            name=name,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            token_param=self.token_param,
            structured_output=self.structured_output,
            streaming_usage=self.streaming_usage,
            models=tuple(self.models),
            params=dict(self.params),
        )


class RouteTable(_Table):
    """A task's own SPEC, and optionally its own fallback chain and hedging."""

    spec: Spec
    fallback: SpecList | None = Field(None, description="omitted: the [resilience] fallback")
    hedge_after: HedgeAfter | None = Field(None, description="omitted: the [resilience] hedge_after")


def _route_from_spec(value: Any) -> Any:
    """`review = "SPEC"` is short for `review = { spec = "SPEC" }`."""
    return {"spec": value} if isinstance(value, str) else value


RouteEntry = Annotated[
    RouteTable,
    BeforeValidator(_route_from_spec, json_schema_input_type=Spec | RouteTable),
    _explained("must be a SPEC or a table with spec (and fallback, hedge_after)"),
]


class RoutesTable(_Table):
    """Which provider each task uses when no -p is given."""

    unknown_key: ClassVar[str] = "is not a task with a route"
    review: RouteEntry | None = None
    triage_active: RouteEntry | None = Field(None, alias="triage.active")
    triage_postmortem: RouteEntry | None = Field(None, alias="triage.postmortem")
    judge: RouteEntry | None = None

    def routes(self) -> dict[str, Route]:
        return {
            (field.alias or name): Route(entry.spec, entry.fallback, entry.hedge_after)
            for name, field in type(self).model_fields.items()
            if (entry := getattr(self, name)) is not None
        }


class ResilienceTable(_Table):
    """Timeouts, retries, the fallback chain, cooldown and hedging around every provider."""

    connect_timeout_s: Seconds = _TIMEOUTS.connect_s
    first_token_timeout_s: Seconds = Field(
        _TIMEOUTS.first_token_s, description="from sending the request to the first text"
    )
    stall_timeout_s: Seconds | None = Field(
        None, description=f"the longest silence once text flows (omitted: timeout_s, else {_TIMEOUTS.stall_s:g})"
    )
    timeout_s: Seconds | None = Field(None, description="another name for stall_timeout_s")
    retries: Annotated[int, Field(ge=0, le=10), _explained("must be a whole number from 0 to 10")] = Field(
        _RETRY.retries, description="retries on transient failures, before any text has reached you"
    )
    fallback: SpecList = Field(default_factory=list, description="tried in order when the provider fails")
    hedge_after: HedgeAfter = Field(_RESILIENCE.hedge_after, description='"off", "p95" (any pNN) or a time, "2.5s"')
    hedge_budget: Annotated[
        float,
        Field(gt=0, le=1, allow_inf_nan=False),
        _explained("must be a share of requests from 0 to 1, above 0 (0.05 = 5 %)"),
    ] = Field(_RESILIENCE.hedge_budget, description="the largest share of a provider's requests that may be hedged")
    cooldown_failures: Annotated[int, Field(ge=1), _explained("must be a whole number, at least 1")] = Field(
        _RESILIENCE.cooldown_failures, description="failures in a row that put a provider in cooldown"
    )
    cooldown_s: Seconds = Field(_RESILIENCE.cooldown_s, description="how long a provider in cooldown is skipped")


class PriceTable(_Table):
    """A model's price, overriding the maintained table. Cache reads and writes without a
    price of their own cost the input price (what a provider without a cache charges)."""

    input_per_mtok: PerMillion
    output_per_mtok: PerMillion
    cache_read_per_mtok: PerMillion | None = None
    cache_write_per_mtok: PerMillion | None = None


class LocalTable(_Table):
    """How in-process (llama.cpp) models run."""

    context_tokens: Annotated[
        int, Field(ge=512, le=1_048_576), _explained("must be a whole number of tokens from 512 to 1048576")
    ] = _LOCAL.context_tokens
    threads: Annotated[int, Field(ge=1), _explained("must be a whole number of threads, at least 1")] | None = Field(
        None, description="omitted: llama.cpp's choice (the physical cores)"
    )
    first_token_timeout_s: Seconds = _LOCAL.first_token_timeout_s
    use_when_unconfigured: Annotated[bool, _explained("must be true or false")] = Field(
        _LOCAL.use_when_unconfigured, description="with no provider configured, fall back to the bundled model"
    )


class ConfigFile(_Table):
    """driftcheck's config.toml. Keys never live here, only the names of the variables
    that hold them."""

    default: Spec | None = Field(None, description="the provider when no -p is given and LLM_PROVIDER is unset")
    compare: SpecPair | None = Field(None, description="the two providers `compare` uses without -a/-b")
    judges: SpecList = Field(default_factory=list, description="the models that grade triage answers and evals")
    endpoints: Annotated[dict[EndpointName, EndpointTable], _explained("must be a table of endpoints")] = Field(
        default_factory=dict, description="OpenAI-compatible servers, each used as NAME:model"
    )
    routes: RoutesTable = Field(default_factory=RoutesTable)
    resilience: ResilienceTable = Field(default_factory=ResilienceTable)
    prices: Annotated[dict[Text, PriceTable], _explained("must be a table of prices by model")] = Field(
        default_factory=dict, description="per-model price overrides, USD per million tokens"
    )
    local: LocalTable = Field(default_factory=LocalTable)

    def runtime(self, path: Path) -> Config:
        """The objects the rest of driftcheck works with."""
        res = self.resilience
        stall = res.stall_timeout_s or res.timeout_s or _TIMEOUTS.stall_s
        return Config(
            path=path,
            default=self.default,
            compare=list(self.compare or []),
            judges=list(self.judges),
            endpoints={name.lower(): entry.endpoint(name.lower()) for name, entry in self.endpoints.items()},
            routes=self.routes.routes(),
            resilience=Resilience(
                fallback=list(res.fallback),
                hedge_after=res.hedge_after,
                hedge_budget=res.hedge_budget,
                cooldown_failures=res.cooldown_failures,
                cooldown_s=res.cooldown_s,
            ),
            timeouts=Timeouts(connect_s=res.connect_timeout_s, first_token_s=res.first_token_timeout_s, stall_s=stall),
            retry=RetryPolicy(retries=res.retries),
            prices={
                model: Price(p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok)
                for model, p in self.prices.items()
            },
            local=LocalOptions(
                context_tokens=self.local.context_tokens,
                threads=self.local.threads,
                first_token_timeout_s=self.local.first_token_timeout_s,
                use_when_unconfigured=self.local.use_when_unconfigured,
            ),
        )


# --- validating a file, and saying what is wrong -----------------------------------------


def validate_config(data: dict[str, Any], path: Path, *, text: str, edited: Collection[tuple[str, ...]] = ()) -> Config:
    """`data` (a file parsed by tomllib) checked against `ConfigFile`. Lines are cited from
    `text`, the file as it is on disk; a problem in a key being `edited` (by `config set`)
    gets no line, as the file does not hold that value yet."""
    try:
        model = ConfigFile.model_validate(data, context={"endpoints": _endpoint_names(data)})
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc.errors(), data, text, path, edited)) from None
    return model.runtime(path)


def _endpoint_names(data: dict[str, Any]) -> dict[str, None]:
    """The endpoints a SPEC in this file may name: parse_spec asks only whether a name is one."""
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, dict):
        return {}
    return {str(name).lower(): None for name, entry in endpoints.items() if isinstance(entry, dict)}


def _first_problem(
    errors: list[ErrorDetails], data: dict[str, Any], text: str, path: Path, edited: Collection[tuple[str, ...]]
) -> str:
    problems = []
    for error in errors:
        loc = _loc_in_file(error["loc"], data)
        being_edited = any(loc[: len(e)] == e or e[: len(loc)] == loc for e in edited)
        line = None if being_edited else line_of(text, loc)
        # What was just changed comes first, then the file from the top.
        problems.append((not being_edited, line or math.inf, line, _explain(error, loc)))
    problems.sort(key=lambda p: p[:2])
    *_, line, message = problems[0]
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    where = f"line {line}: " if line else ""
    return f"the config {path}: {where}{message}{more}"


def _loc_in_file(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...]:
    """The error's place as the file has it: a dict key's marker dropped, and a path that
    goes past a plain value (`review = "SPEC"` checked as its `spec`) cut at that value."""
    kept: list[int | str] = []
    node = data
    for key in loc:
        if key == "[key]":
            continue
        if kept and not isinstance(node, (dict, list)):
            break
        kept.append(key)
        node = (
            node.get(key)
            if isinstance(node, dict)
            else (node[key] if isinstance(node, list) and isinstance(key, int) and key < len(node) else None)
        )
    return tuple(kept)


def _dotted(loc: Iterable[int | str]) -> str:
    return ".".join(str(key) for key in loc)


def _explain(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    if loc and isinstance(loc[-1], int):
        subject = f"{_dotted(loc[:-1])}: item {loc[-1] + 1}"
    else:
        subject = _dotted(loc) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        return subject + " " + _unknown_key(loc)
    if kind == "missing":
        return f"{subject} is required"
    message = error["msg"] if kind == _OURS else _GENERIC.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    if "[key]" in error["loc"] or not message.startswith("must"):
        return f"{subject} {message}"
    return f"{subject} {message} (got {_shown(error['input'])})"


_GENERIC = {
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
}


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """`retriez` → did you mean retries? Else the keys that table holds."""
    table = _table_at(loc[:-1])
    if table is None:
        return "is an unknown setting"
    known = [field.alias or name for name, field in table.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"{table.unknown_key}: did you mean {_dotted((*loc[:-1], close[0]))}?"
    return f"{table.unknown_key} (the keys here are {', '.join(known)})"


def _table_at(loc: tuple[int | str, ...]) -> type[_Table] | None:
    """The model of the table at `loc`, walking fields and the values of name-keyed tables."""
    node: Any = ConfigFile
    for key in loc:
        if isinstance(node, type) and issubclass(node, _Table):
            field = next((f for name, f in node.model_fields.items() if (f.alias or name) == key), None)
            node = None if field is None else _table_type(field.annotation)
        elif isinstance(node, tuple):  # ("each", type): the tables under a name-keyed table
            node = node[1]
        else:
            return None
    return node if isinstance(node, type) and issubclass(node, _Table) else None


def _table_type(annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _table_type(args[0])
    if origin in (typing.Union, types.UnionType):
        return next((t for t in map(_table_type, args) if t is not None), None)
    if origin is dict:
        inner = _table_type(args[1])
        return ("each", inner) if inner is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, _Table) else None


def _shown(value: Any) -> str:
    """The refused value as TOML would write it, short, with control characters escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__}"


# --- where a key is in the file ------------------------------------------------------------

_SENTINEL = "driftcheck-line-of-this-key"


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the value at `loc` (or, for a key the file lacks, of the table that
    should hold it). tomlkit keeps the file's layout, so the value is swapped for a marker
    and the marker's line looked up in the re-rendered text."""
    import tomlkit

    try:
        doc: Any = tomlkit.parse(text)
    except Exception:
        return None
    parents: list[Any] = [doc]
    for depth, key in enumerate(loc):
        node = parents[-1]
        held = (
            (key in node)
            if isinstance(node, dict)
            else (isinstance(node, list) and isinstance(key, int) and key < len(node))
        )
        if not held:
            return _table_line(text, loc[:depth], node)
        parents.append(node[key])
    if not loc:
        return None
    value = parents[-1]
    if isinstance(value, tomlkit.items.Table):
        return _table_line(text, loc, value)
    parents[-2][loc[-1]] = _SENTINEL
    rendered = doc.as_string()
    return rendered[: rendered.index(_SENTINEL)].count("\n") + 1 if _SENTINEL in rendered else None


def _table_line(text: str, loc: tuple[int | str, ...], table: Any) -> int | None:
    """A table's header line (`[endpoints.lab]`), else the line of its first key."""
    import tomllib

    if not loc:
        return None
    if all(isinstance(key, str) for key in loc):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("[") and not line.lstrip().startswith("[["):
                try:
                    header = tomllib.loads(line)
                except tomllib.TOMLDecodeError:
                    continue
                if _only_path(header) == tuple(loc):
                    return number
    first = next(iter(table), None) if isinstance(table, dict) else None
    return line_of(text, (*loc, first)) if first is not None else None


def _only_path(table: dict[str, Any]) -> tuple[str, ...]:
    path: list[str] = []
    while isinstance(table, dict) and len(table) == 1:
        key, table = next(iter(table.items()))
        path.append(key)
    return tuple(path)
