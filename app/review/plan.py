"""What one provider is sent for a review: the source as it may leave the machine (the
secret policy), its chunks for this provider's context window, the token limit, and the
guard against a file that would need too many requests.

Problems are UsageErrors, found before anything is sent; what the user should know (a
secret redacted, the estimate of a large or split review) goes to `notify`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from app.calls.outbound import outbound
from app.errors import UsageError
from app.notes import Note, Notify
from app.review import DEFAULT_MAX_REQUESTS
from app.review.answer_key import AnswerKey
from app.review.files import ChangeInput
from app.review.task import (
    DEFAULT_CHUNK_TOKENS,
    PROMPT_OVERHEAD_TOKENS,
    FileScope,
    ReviewEvent,
    Sender,
    estimate_cost,
    estimate_requests,
    review_events,
)
from app.source.inputs import TextInput
from app.source.model import Chunk, LineTooLongError, SourceFile, estimate_tokens, load_source
from app.source.regions import change_regions, region_chunks
from providers import Check, Provider
from providers.pricing import format_cost

# Above this many source tokens, the estimate of tokens and cost is said before sending.
ESTIMATE_ABOVE_TOKENS = 20_000
# At most this many small files share a request: the one reply has to cover them all
# within --max-tokens.
PACK_MAX_FILES = 10


@dataclass(frozen=True)
class ReviewOptions:
    """How a review is planned: the review command's options, at its defaults for callers
    without a command line (the TUI, eval)."""

    allow_secrets: bool = False
    max_tokens: int | None = None  # None: default_max_tokens(provider)
    chunk_tokens: int | None = None  # None: DEFAULT_CHUNK_TOKENS, within the context window
    max_requests: int = DEFAULT_MAX_REQUESTS


@dataclass
class ReviewPlan:
    """What one provider is sent for a review: the source as it may leave the machine, its
    chunks for this provider's context window, the token limit and the input checks."""

    provider: Provider
    source: SourceFile
    chunks: list[Chunk]
    max_tokens: int
    flags: list[Check]
    budget: int = 0  # source tokens per request
    pack: int | None = None  # a change's small file: the shared request it goes in (app.review.pack)

    def events(
        self,
        provider: Provider,
        text_input: TextInput,
        *,
        key: AnswerKey | None,
        scope: FileScope | None = None,
        sender: Sender | None = None,
    ) -> AsyncIterator[ReviewEvent]:
        """The review this plan describes, sent to `provider` (the plan's own, or it as
        recorded and routed)."""
        return review_events(
            provider,
            self.source,
            text_input,
            self.chunks,
            max_tokens=self.max_tokens,
            key=key,
            input_flags=self.flags,
            scope=scope,
            sender=sender,
        )


def default_max_tokens(provider: Provider) -> int:
    # Reasoning models spend part of the budget thinking; the seeds' GPT-5.5 spent all of
    # a small one and returned nothing, billed.
    caps = provider.caps
    if caps.reasoning_tokens and caps.token_param == "max_completion_tokens":
        return 16_384
    if caps.context_tokens:  # a small local window: leave at least half of it for the code
        return min(4_096, caps.context_tokens // 2)
    return 4_096


def chunk_budget(provider: Provider, source: SourceFile, requested: int | None, max_tokens: int) -> int:
    """Source tokens per request: as asked (or the default), and never more than the
    provider's context window leaves once the instructions and the reply are counted."""
    budget = requested or DEFAULT_CHUNK_TOKENS
    window = provider.caps.context_tokens
    if window:
        room = window - max_tokens - PROMPT_OVERHEAD_TOKENS - estimate_tokens(source.outline())
        if room < 256:
            raise UsageError(
                f"{provider.spec} has a {window:,}-token context, too small for a review with "
                f"--max-tokens {max_tokens:,}; lower --max-tokens or raise [local] context_tokens"
            )
        budget = min(budget, room)
    return budget


def redacted_source(
    source: SourceFile, audience: Sequence[Provider], *, allow: bool, notify: Notify
) -> tuple[SourceFile, list[Check]]:
    """The code as `audience` (the reviewer, and any judge that reads its findings) may see
    it: app.calls.outbound's one policy for everything that leaves the machine, re-parsed
    when something was redacted (line numbers are unchanged)."""
    sent = outbound(source.text, audience, allow=allow, label=source.path, notify=notify)
    if not sent.redacted:
        return source, [sent.check] if sent.check else []
    clean = load_source(source.path, sent.text, source.language)
    clean.redacted = True
    return clean, [sent.check] if sent.check else []


def plan_review(
    provider: Provider,
    source: SourceFile,
    options: ReviewOptions,
    *,
    judges: Sequence[Provider] = (),
    notify: Notify,
) -> ReviewPlan:
    """Secrets, token limit, chunks and the request guard for one provider (and the judges
    that will read its findings); the estimate is said when the review is large or split."""
    plan = _plan_file(provider, source, options, judges=judges, notify=notify)
    chunks = plan.chunks
    estimate = estimate_cost(provider, plan.source, chunks)
    if len(chunks) > options.max_requests:
        raise UsageError(
            f"{source.path} needs {len(chunks)} requests to {provider.spec} (~{estimate.input_tokens:,} input "
            f"tokens, {format_cost(estimate.cost_usd)} estimated); the limit is {options.max_requests}. "
            f"Pass --max-requests {len(chunks)} to go ahead, or raise --chunk-tokens"
        )
    if sum(c.tokens for c in chunks) > ESTIMATE_ABOVE_TOKENS or len(chunks) > 1:
        notify(
            Note(
                "info",
                f"{source.path}: {source.line_count:,} lines, about {estimate.input_tokens:,} input "
                f"tokens in {len(chunks)} request(s) to {provider.spec}; estimated {format_cost(estimate.cost_usd)}"
                f" (at ~{estimate.output_tokens:,} output tokens)",
            )
        )
    return plan


def plan_change(
    provider: Provider,
    change: ChangeInput,
    options: ReviewOptions,
    *,
    judges: Sequence[Provider] = (),
    notify: Notify,
) -> list[ReviewPlan]:
    """Each file's plan (a change's files sent as the regions around their changed lines),
    the request guard over the whole change, and the estimate for all of it, said before
    anything is sent. `judges` read the findings too (eval): secrets are redacted for them."""
    plans = [
        _plan_file(provider, f.source, options, judges=judges, notify=notify, changed=f.changed, known=f.known)
        for f in change.files
    ]
    packed = ""
    if sum(len(p.chunks) for p in plans) > options.max_requests:
        files = pack_small_files(plans)
        packed = f" ({files} small file(s) packed together)" if files else ""
    estimate = estimate_requests(provider, requests_of(plans))
    input_tokens, output_tokens, cost, requests = (
        estimate.input_tokens,
        estimate.output_tokens,
        estimate.cost_usd,
        estimate.requests,
    )
    if requests > options.max_requests:
        raise UsageError(
            f"{change.label} needs {requests} requests to {provider.spec} over {len(plans)} file(s){packed} "
            f"(~{input_tokens:,} input tokens, {format_cost(cost)} estimated); the limit is {options.max_requests}. "
            f"Pass --max-requests {requests} to go ahead, or review a narrower change"
        )
    notify(
        Note(
            "info",
            f"{change.label}: {len(plans)} file(s), about {input_tokens:,} input tokens in {requests} request(s)"
            f"{packed} to {provider.spec}; estimated {format_cost(cost)} (at ~{output_tokens:,} output tokens)",
        )
    )
    return plans


def pack_small_files(plans: list[ReviewPlan]) -> int:
    """Files that fit one request each, packed in order into shared requests, up to the
    request's token budget and PACK_MAX_FILES; returns how many files were packed."""
    packs: list[list[ReviewPlan]] = []
    used = budget = 0
    for plan in plans:
        if len(plan.chunks) != 1:
            continue
        cost = plan.chunks[0].tokens + estimate_tokens(plan.source.outline())
        room = min(budget, plan.budget)
        if packs and len(packs[-1]) < PACK_MAX_FILES and used + cost <= room:
            packs[-1].append(plan)
            used, budget = used + cost, room
        else:
            packs.append([plan])
            used, budget = cost, plan.budget
    shared = [pack for pack in packs if len(pack) > 1]
    for number, pack in enumerate(shared):
        for plan in pack:
            plan.pack = number
    return sum(len(pack) for pack in shared)


def requests_of(plans: list[ReviewPlan]) -> list[list[tuple[SourceFile, Chunk]]]:
    """What each request of a change sends: one chunk, or a pack's files."""
    requests: list[list[tuple[SourceFile, Chunk]]] = []
    packs: dict[int, list[tuple[SourceFile, Chunk]]] = {}
    for plan in plans:
        if plan.pack is None:
            requests += [[(plan.source, chunk)] for chunk in plan.chunks]
        elif plan.pack in packs:
            packs[plan.pack].append((plan.source, plan.chunks[0]))
        else:
            packs[plan.pack] = [(plan.source, plan.chunks[0])]
            requests.append(packs[plan.pack])
    return requests


def _plan_file(
    provider: Provider,
    source: SourceFile,
    options: ReviewOptions,
    *,
    judges: Sequence[Provider] = (),
    notify: Notify,
    changed: frozenset[int] | None = None,
    known: frozenset[int] | None = None,
) -> ReviewPlan:
    """One file's plan: the whole file in symbol-aligned chunks, or for a change the
    regions around its changed lines."""
    source, flags = redacted_source(source, [provider, *judges], allow=options.allow_secrets, notify=notify)
    max_tokens = options.max_tokens or default_max_tokens(provider)
    budget = chunk_budget(provider, source, options.chunk_tokens, max_tokens)
    try:
        if changed is None:
            chunks = source.chunks(budget)
        else:
            regions = change_regions(source, set(changed), known=set(known) if known is not None else None)
            chunks = region_chunks(source, regions, budget)
    except LineTooLongError as exc:
        raise UsageError(
            f"{source.path}: {exc}. It looks minified or generated; review the source it was "
            f"built from, or reformat it first (e.g. prettier, black, gofmt)"
        ) from None
    return ReviewPlan(provider, source, chunks, max_tokens, flags, budget)
