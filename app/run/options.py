"""Route options as the command line gives them; light, so the TUI's screens can hold them
before anything heavier is imported."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RouteOptions:
    """--fallback and --hedge-after as given on the command line (None: the route's, else
    the config's [resilience])."""

    fallback: list[str] | None = None
    hedge_after: str | None = None


#: Exactly the SPEC asked for: no fallback, no hedge (a compare side, an eval model, a
#: named judge: an answer from a fallback would be another model's).
EXACT = RouteOptions(fallback=[], hedge_after="off")
