"""The providers of a run, resolved the same way for the command line, the TUI and eval.

A provider's SPEC is -p, else the task's route, else LLM_PROVIDER, the config default or
a key in the environment; it is wrapped in its fallback chain and hedging when any is
configured (--fallback and --hedge-after override the route and [resilience]). A
`max_tokens` that a provider of the chain cannot take is refused here, before anything is
sent. A compare side, an eval model and a named judge run exactly their SPEC (`EXACT`):
an answer from a fallback would be another model's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from app.config.settings import Config, Route
from app.errors import UsageError
from app.history.health import seed_health
from app.notes import Note, Notify, ignore
from app.run.options import EXACT, RouteOptions
from providers import BaseProvider, Provider, build_provider, default_spec, health
from providers.resilience import HedgePolicy, ResilientProvider, parse_hedge_after


class ProviderResolver:
    """Builds the providers of one command (or one TUI run) from its config. It says once
    that the bundled model is demo-grade, however many roles that model plays."""

    def __init__(
        self,
        config: Config,
        *,
        retries: int | None = None,
        notify: Notify = ignore,
        prompt_cache: bool = False,
        wrap_exact: Callable[[Provider], Provider] | None = None,
    ) -> None:
        self.config = config
        # What each exact provider (a compare side, a named judge, a review run with
        # --batch: route EXACT) goes through: a batch.
        self.wrap_exact = wrap_exact
        self.retries = retries
        # The command will resend prompts' stable prefixes (repeats, evals): worth caching.
        self.prompt_cache = prompt_cache
        self.notify = notify
        self.demo_noted = False

    def provider(
        self,
        spec: str | None,
        *,
        task: str | None = None,
        route: RouteOptions = RouteOptions(),
        max_tokens: int | None = None,
    ) -> Provider:
        """The provider for `spec` (None: `task`'s route, else the default)."""
        config = self.config
        configured = config.routes.get(task) if task and not spec else None
        chosen = (
            spec
            or (configured.spec if configured else None)
            or default_spec(config_default=config.default, allow_local=config.local.use_when_unconfigured)
        )
        provider = self._build(chosen)
        check_max_tokens(provider, max_tokens)
        self._note_demo_grade(provider)
        chain_specs, hedge_text = _chain_and_hedge(route, configured, config)
        try:
            hedge = parse_hedge_after(hedge_text, config.resilience.hedge_budget)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        backups: list[Provider] = [self._build(s) for s in dict.fromkeys(chain_specs) if s != chosen]
        for backup in backups:
            check_max_tokens(backup, max_tokens)
        if hedge is not None and not backups and provider.kind == "local":
            hedge = None  # a second request to an in-process model only queues behind the first
        if not backups and hedge is None:
            return provider if self.wrap_exact is None or route != EXACT else self.wrap_exact(provider)
        if hedge is not None and not backups:
            backups = [self._build(chosen)]  # hedge to a second request to the same provider
        return self._chain([provider, *backups], hedge)

    def exactly(self, spec: str, *, max_tokens: int | None = None) -> Provider:
        """`spec` and nothing else: a compare side, an eval model, a named judge."""
        return self.provider(spec, route=EXACT, max_tokens=max_tokens)

    def hedged_exactly(self, spec: str, *, hedge_after: str | None, max_tokens: int | None = None) -> Provider:
        """`spec` with hedging to a second request of the same SPEC, never another model
        (an eval model: an answer from a fallback would be another model's score)."""
        if hedge_after is None:
            return self.exactly(spec, max_tokens=max_tokens)
        return self.provider(spec, route=RouteOptions(fallback=[], hedge_after=hedge_after), max_tokens=max_tokens)

    def judges(self, specs: list[str] | None) -> list[Provider]:
        """--judge, else the config's judges, else the `judge` route. Named judges run as
        they are: a judge that silently fell back to another model would grade differently."""
        if specs is None and not self.config.judges and "judge" in self.config.routes:
            return [self.provider(None, task="judge")]
        return [self.exactly(spec) for spec in (specs if specs is not None else self.config.judges)]

    def _build(self, spec: str) -> BaseProvider:
        config = self.config
        retry = config.retry if self.retries is None else replace(config.retry, retries=self.retries)
        provider = build_provider(
            spec,
            endpoints=config.endpoints,
            timeouts=config.timeouts,
            retry=retry,
            price_overrides=config.prices,
            local=config.local,
        )
        provider.settings.prompt_cache = self.prompt_cache
        return provider

    def _note_demo_grade(self, provider: Provider) -> None:
        if getattr(getattr(provider, "model_ref", None), "bundled", False) and not self.demo_noted:
            from providers.local import DEMO_GRADE_NOTE

            self.demo_noted = True
            self.notify(Note("note", DEMO_GRADE_NOTE))

    def _chain(self, chain: list[Provider], hedge: HedgePolicy | None) -> Provider:
        # The registry is looked up now, not at import: a test (or a long-lived process)
        # may give the layer a fresh one.
        resilience = self.config.resilience
        seed_health(health.REGISTRY, [p.spec for p in chain], resilience)
        return ResilientProvider(
            chain,
            hedge=hedge,
            registry=health.REGISTRY,
            cooldown=health.CooldownPolicy(resilience.cooldown_failures, resilience.cooldown_s),
        )


def _chain_and_hedge(route: RouteOptions, configured: Route | None, config: Config) -> tuple[list[str], str]:
    """The fallback SPECs and the hedge setting: the command line's, else the route's, else
    the config's [resilience]."""
    resilience = config.resilience
    if route.fallback is not None:
        chain_specs = route.fallback
    elif configured is not None and configured.fallback is not None:
        chain_specs = configured.fallback
    else:
        chain_specs = resilience.fallback
    hedge_text = (
        route.hedge_after
        or (configured.hedge_after if configured is not None and configured.hedge_after else None)
        or resilience.hedge_after
    )
    return list(chain_specs), hedge_text


def check_max_tokens(provider: Provider, max_tokens: int | None) -> None:
    """Refuse an output limit the model cannot take (UsageError), rather than send it."""
    problem = None if max_tokens is None else provider.caps.output_limit_problem(max_tokens)
    if problem:
        raise UsageError(f"--max-tokens {max_tokens:,} is {problem} for {provider.spec}; lower --max-tokens")
