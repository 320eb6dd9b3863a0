"""A triage run, prepared: the incident read (a file, standard input's bytes, pasted text)
and checked, its reference found, the business context checked, each side's provider and
the judges resolved, the incident and context as they may leave the machine, the history
recorder, and each side's event stream ready to start. Used by `triage`, `compare
--incident`, the triage screen; eval reads its incidents with `read_incident`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.calls.outbound import outbound, outbound_context
from app.errors import UsageError
from app.history.recording import RunRecorder
from app.notes import Notify
from app.run.options import RouteOptions
from app.run.prepared import PreparedRun, Start
from app.run.providers import ProviderResolver
from app.run.review import input_notes
from app.source.inputs import TextInput, decode_text, read_text_file
from app.triage import DEFAULT_MAX_TOKENS
from app.triage.incident import check_incident_text
from app.triage.judge import model_family
from app.triage.pairwise import judge_pair, pairwise_summary
from app.triage.reference import Reference, find_reference, load_reference
from app.triage.task import triage_events
from providers import Check, Provider

_CONTEXT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass
class Incident:
    """An incident to triage: its text as read (trimmed when too long), the input checks,
    and its reference answer if any."""

    text_input: TextInput
    flags: list[Check]
    reference: Reference | None


def read_incident(path: str) -> TextInput:
    return read_text_file(path, what="incident")


def incident_from_bytes(data: bytes, label: str) -> TextInput:
    """An incident from bytes (standard input), decoded as carefully as a file."""
    return decode_text(data, label, what="incident")


def incident_from_text(text: str, label: str) -> TextInput:
    """An incident typed or pasted (--incident-text, the triage screen)."""
    return incident_from_bytes(text.encode("utf-8", "surrogateescape"), label)


def load_incident(text_input: TextInput, reference_path: str | None) -> Incident:
    """The incident checked (and trimmed), and its reference: `reference_path`, else
    FILE.reference.toml beside a file."""
    trimmed = check_incident_text(text_input)
    path = text_input.path
    reference = (
        load_reference(Path(reference_path))
        if reference_path
        else (find_reference(path) if Path(path).is_file() else None)
    )
    return Incident(text_input, [trimmed] if trimmed else [], reference)


def parse_context(pairs: list[str]) -> dict[str, str]:
    """--context KEY=VALUE pairs, each checked: a short key, one line of plain text."""
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip().lower().replace("-", "_"), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--context {pair!r}: write it as KEY=VALUE, e.g. --context users_affected=30%")
        if not _CONTEXT_KEY.match(key):
            raise UsageError(f"--context {pair!r}: the key must be a short word (letters, digits, _)")
        if len(value) > 300:
            raise UsageError(f"--context {key}: the value is {len(value)} characters; keep it under 300")
        control = next((ch for ch in value if _breaks_the_line(ch)), None)
        if control is not None:
            # Refused, not quoted: each value is one line of a list in the prompt, and a line
            # break would let it start lines of its own that read as the prompt's.
            raise UsageError(
                f"--context {key}: the value holds a control character (U+{ord(control):04X}"
                f"{', a line break' if control in _LINE_BREAKS else ''}); give it on one line "
                f"of plain text"
            )
        context[key] = value
    return context


def _breaks_the_line(ch: str) -> bool:
    """A line break or any other control character (ESC, NUL, DEL, C1); a tab is let through."""
    return ch in _LINE_BREAKS or (ch != "\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0))


def redacted_for(
    audience: Sequence[Provider],
    text_input: TextInput,
    flags: list[Check],
    context: dict[str, str],
    *,
    allow: bool,
    notify: Notify,
) -> tuple[TextInput, list[Check], dict[str, str]]:
    """The incident and its --context as `audience` may see them (the candidates and the
    judges that read their answers; secrets redacted when any of them is remote), and the
    input checks with a note for what was found. The caller's input is unchanged."""
    sent = outbound(text_input.text, audience, allow=allow, label="the incident", notify=notify)
    values, context_checks = outbound_context(context, audience, allow=allow, notify=notify)
    checks = [*flags, *([sent.check] if sent.check else []), *context_checks]
    return (replace(text_input, text=sent.text) if sent.redacted else text_input), checks, values


def prepare_triage(
    incident: Incident,
    specs: dict[str, str | None],
    *,
    resolver: ProviderResolver,
    compare: bool = False,
    mode: str = "active",
    context: dict[str, str] | None = None,
    judges: list[str] | None = None,
    judge_mode: str = "pointwise",
    self_judging: bool = True,
    max_tokens: int | None = None,
    allow_secrets: bool = False,
    route: RouteOptions = RouteOptions(),
    record: bool = True,
    input_ref: str,
    resume: str | None = None,
) -> PreparedRun:
    """A triage by one provider ({"a": SPEC or None for the mode's route}) or, as a compare,
    by each side's exact SPEC; graded by `judges` (None: the config's). Both sides and the
    judges see the same text: a side that saw more than the other would show drift that is
    not the provider's. `resume`: the stored run (a compare --batch) this one carries on.
    Raises an error meant for the user when anything is wrong."""
    notify = resolver.notify
    if compare:
        providers = {side: resolver.exactly(spec or "", max_tokens=max_tokens) for side, spec in specs.items()}
    else:
        providers = {
            side: resolver.provider(spec or None, task=f"triage.{mode}", route=route, max_tokens=max_tokens)
            for side, spec in specs.items()
        }
    judge_providers = resolver.judges(judges)
    input_notes(incident.text_input, notify)
    side_input, side_flags, side_context = redacted_for(
        [*providers.values(), *judge_providers],
        incident.text_input,
        incident.flags,
        context or {},
        allow=allow_secrets,
        notify=notify,
    )
    # The reference answer leaves the machine too, to every judge: the same policy applies.
    judge_reference = (
        outbound(
            incident.reference.as_prompt(),
            judge_providers,
            allow=allow_secrets,
            label=f"the reference answer {incident.reference.path.name}",
            notify=notify,
        ).text
        if incident.reference is not None and judge_providers
        else None
    )
    recorder = RunRecorder.start(
        "compare" if compare else "triage",
        input_ref=input_ref,
        input_sha256=incident.text_input.sha256,
        providers=[p.spec for p in (*providers.values(), *judge_providers)],
        enabled=record,
        notify=notify,
        resume=resume,
    )

    def starter(side: str) -> Start:
        provider = recorder.recorded(providers[side], side if compare else None)
        side_judges = (
            []
            if judge_mode == "pairwise"
            else [recorder.recorded(j, f"{side}-judge" if compare else "judge") for j in judge_providers]
        )

        def start(run: int) -> AsyncIterator[Any]:
            return triage_events(
                provider,
                side_input,
                mode=mode,
                context=side_context,
                max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
                reference=incident.reference,
                judges=side_judges,
                judge_reference=judge_reference,
                self_judging=self_judging,
                input_flags=side_flags,
            )

        return start

    async def pairwise(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
        """Each judge's verdict on A's answer against B's, asked in both orders."""
        if a.get("result") is None or b.get("result") is None:
            return None  # a side without an answer: nothing to choose between
        first, second = (json.dumps(side["result"], indent=1, ensure_ascii=False) for side in (a, b))
        # Without self-judging, a judge of either side's family would be choosing its own.
        families = {model_family(side["provider"], side["model"]) for side in (a, b)}
        judged = [
            recorder.recorded(j, "pairwise-judge")
            for j in judge_providers
            if self_judging or model_family(j.name, j.model) not in families
        ]
        try:
            verdicts = await asyncio.gather(
                *(judge_pair(j, side_input.text, first, second, judge_reference, mode) for j in judged)
            )
        finally:
            for judge in judge_providers:
                await judge.aclose()
        return pairwise_summary(list(verdicts))

    starts = {side: starter(side) for side in providers}
    return PreparedRun(
        "triage",
        compare,
        incident.text_input,
        providers,
        starts,
        recorder,
        judges=judge_providers,
        pairwise=pairwise if judge_mode == "pairwise" and judge_providers else None,
    )
