"""A hedge starts sending at once: its client is built before the threshold passes, and a
hedge to the same provider goes out on a connection the primary already opened."""

from __future__ import annotations

import asyncio

from providers import Completed, Request, RetryPolicy
from providers.health import HealthRegistry
from providers.resilience import HedgePolicy, ResilientProvider
from providers.types import HedgeDecided, HedgeStarted
from tests.fakeserver import Reply

SPEC = "anthropic:claude-haiku-4-5"
NO_RETRY = RetryPolicy(retries=0)
HEDGE = HedgePolicy(after_s=0.3, budget=1.0)


async def ask(provider, prompt: str) -> list:
    return [event async for event in provider.stream(Request.ask(prompt, max_tokens=16))]


async def test_a_hedge_to_the_same_provider_reuses_the_primarys_open_connections(fake, make_provider):
    primary, backup = make_provider(SPEC, retry=NO_RETRY), make_provider(SPEC, retry=NO_RETRY)
    chain = ResilientProvider([primary, backup], registry=HealthRegistry(), hedge=HEDGE)
    # Two requests at once leave the primary's pool with two open connections.
    await asyncio.gather(ask(chain, "one"), ask(chain, "two"))
    opened = fake.connections
    fake.script(Reply(text="slow primary", first_token_delay_s=2.0), Reply(text="quick hedge"))
    events = await ask(chain, "three")
    assert any(isinstance(e, HedgeStarted) for e in events)
    assert next(e for e in events if isinstance(e, HedgeDecided)).loser == SPEC
    assert next(e for e in events if isinstance(e, Completed)).response.text == "quick hedge"
    assert fake.connections == opened, "the hedge connected anew instead of using an open connection"
    await chain.aclose()


async def test_the_backup_is_ready_before_any_hedge_fires(fake, make_provider):
    primary, backup = make_provider(SPEC, retry=NO_RETRY), make_provider("openai:gpt-5.4-mini", retry=NO_RETRY)
    chain = ResilientProvider([primary, backup], registry=HealthRegistry(), hedge=HEDGE)
    events = await ask(chain, "quick")  # the primary answers well before the threshold
    assert not any(isinstance(e, HedgeStarted) for e in events)
    assert backup._client is not None, "the backup's SDK client was left to build when the hedge fires"
    await chain.aclose()


async def test_providers_that_differ_keep_their_own_clients(fake, make_provider):
    a, b = make_provider(SPEC, retry=NO_RETRY), make_provider(SPEC, retry=RetryPolicy(retries=1))
    assert not b.share_client_with(a)  # other settings: another client
    c = make_provider("openai:gpt-5.4-mini", retry=NO_RETRY)
    assert not c.share_client_with(a)


async def test_a_shared_client_is_closed_by_its_owner_only(fake, make_provider):
    primary, backup = make_provider(SPEC, retry=NO_RETRY), make_provider(SPEC, retry=NO_RETRY)
    assert backup.share_client_with(primary)
    await ask(backup, "via the shared client")
    assert backup._client is primary._client
    await backup.aclose()
    assert primary._client is not None and not primary._client.is_closed()
    await ask(primary, "still open")
