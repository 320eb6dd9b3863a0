"""The latency bench's public JSON, as models (`driftcheck schema bench`)."""

from __future__ import annotations

from typing import Literal

from app.calls.contract import Contract, Number


class LatencySpread(Contract):
    """Seconds, over the calls that answered."""

    median: Number | None
    p95: Number | None
    max: Number | None
    p95_over_median: Number | None


class LengthEffect(Contract):
    """Were the slow calls slow because they were long? (with 10 answered calls or more)"""

    slowest_tenth_output_tokens: Number
    others_output_tokens: Number
    r_total_vs_output: Number | None


class HedgeStats(Contract):
    requests: int
    share: Number | None
    extra_cost_usd: Number | None
    withheld_by_budget: int


class BenchOutput(Contract):
    """`bench latency --format json`. History stores it with `task` ("bench") first."""

    absent_unless_set = frozenset({"task"})

    task: Literal["bench"] | None = None
    spec: str
    requests: int
    ok: int
    failed: int
    hedge_after: str
    errors: list[str]
    ttft: LatencySpread
    total: LatencySpread
    length: LengthEffect | None
    cost_usd: Number | None
    hedged: HedgeStats


class StoredBench(BenchOutput):
    """A bench run as history keeps it."""

    task: Literal["bench"]
