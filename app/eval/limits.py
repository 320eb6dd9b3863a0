"""How fast an eval may go: requests in flight per provider (`ProviderLimit`, in
app.calls.limits, shared with the review of several files), and the money it may spend.

`Budget` is a hard stop: a cell starts only when what has been spent, plus what the
cells in flight are expected to cost, plus this cell's expected cost stays within the
budget. Expectations are corrected by what cells actually cost so far; if spending
passes the budget anyway, the caller cancels what is in flight.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Budget:
    limit_usd: float | None
    spent_usd: float = 0.0
    reserved: dict[str, float] = field(default_factory=dict)  # cell key -> expected cost in flight
    _ratio: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))

    def expected(self, model: str, estimate: float | None) -> float:
        """The estimate, scaled by what this model's cells have really cost against theirs."""
        if estimate is None:
            return 0.0
        actual, estimated = self._ratio[model]
        return estimate * (actual / estimated if estimated > 0 and actual > 0 else 1.0)

    def admit(self, key: str, model: str, estimate: float | None) -> bool:
        expected = self.expected(model, estimate)
        if self.limit_usd is not None and self.spent_usd + sum(self.reserved.values()) + expected > self.limit_usd:
            return False
        self.reserved[key] = expected
        return True

    def spend(self, cost: float | None) -> None:
        self.spent_usd += cost or 0.0

    def settle(self, key: str, model: str, estimate: float | None, actual: float) -> None:
        """A cell is done: its reservation is released, and its real cost teaches the estimate."""
        self.reserved.pop(key, None)
        if estimate:
            self._ratio[model][0] += actual
            self._ratio[model][1] += estimate

    @property
    def exceeded(self) -> bool:
        return self.limit_usd is not None and self.spent_usd > self.limit_usd
