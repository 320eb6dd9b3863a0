"""`Provider`: what everything above the provider layer may rely on, whatever answers.

A real provider (`BaseProvider`: anthropic, openai, local), a fallback and hedging chain
(`ResilientProvider`) and a provider whose calls history records (`app.history.recording`)
all satisfy it, so a task, a judge or a compare side never needs to know which it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from .base import ProviderSettings
from .capabilities import Capabilities
from .types import ProviderEvent, Request, Response


class Provider(Protocol):
    @property
    def name(self) -> str:
        """The provider's name as a SPEC writes it: anthropic, openai, local, an endpoint's name."""

    @property
    def model(self) -> str: ...

    @property
    def spec(self) -> str:
        """name:model"""

    @property
    def kind(self) -> str:
        """anthropic | openai | local (an endpoint is openai)."""

    @property
    def caps(self) -> Capabilities: ...

    @property
    def settings(self) -> ProviderSettings: ...

    @property
    def price_provider(self) -> str | None:
        """The genai-prices provider id; None when prices are unknown (a custom endpoint)."""

    def stream(self, request: Request) -> AsyncIterator[ProviderEvent]:
        """The call as events, ending with `Completed`, or raising a ProviderError."""

    async def complete(self, request: Request) -> Response: ...

    def preload(self) -> None:
        """Import the SDK and load what the first call would (a local model), now."""

    async def aclose(self) -> None: ...
