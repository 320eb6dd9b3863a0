"""`driftcheck providers`: each provider kind and endpoint, its models and prices, whether
it is usable now, what runs without -p, the routes, and recent health from history."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from app.errors import ExitCode

if TYPE_CHECKING:
    from app.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    providers = sub.add_parser("providers", help="list provider kinds, models, prices and whether each is usable now")
    providers.add_argument("--format", choices=("text", "json"), default="text")
    providers.add_argument("--no-check", action="store_true", help="do not test whether endpoints are reachable")


def run(args: argparse.Namespace) -> int:
    from app.config.load import load_config
    from app.history.health import provider_health
    from app.run.provider_status import default_provider, effective_routes, gather

    config = load_config()
    rows = gather(config.endpoints, check=not args.no_check, prices=config.prices)
    default, why = default_provider(config)
    routes = effective_routes(config)
    health = provider_health(config.resilience)
    if args.format == "json":
        from app.run.provider_status import ProvidersOutput

        output = ProvidersOutput.model_validate(
            {
                "providers": [r.output() for r in rows],
                "default": default,
                "default_reason": why,
                "routes": routes,
                "health": health,
            }
        )
        print(json.dumps(output.public(), indent=2))
        return ExitCode.OK
    from app.render.console import SafeConsole
    from app.render.providers import print_providers

    print_providers(SafeConsole(), rows, default, why, routes, health)
    return ExitCode.OK
