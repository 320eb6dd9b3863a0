"""The user's own text on its way to a provider: one redaction for every path.

A prompt and its system prompt, an incident pasted or read from a file, `--context`
values, reviewed code, the incident or code a judge reads: each goes through `outbound`
before it is put into a request. The audience is every provider that will read the text,
or an answer made from it — a local model's answer quotes the incident, and a remote
judge that grades the answer reads the quote. When any of the audience is remote, what
looks like a secret is redacted in place (line numbers kept), or sent as it is with a
warning under --allow-secrets; when all of it is local nothing leaves the machine and
nothing is changed. The user is told which lines either way, never the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.notes import Note, Notify
from providers import Provider
from providers.types import Check


@dataclass(frozen=True, slots=True)
class Outbound:
    """The text as the audience may see it, and what was done about its secrets (None
    when nothing looked like one)."""

    text: str
    check: Check | None = None

    @property
    def redacted(self) -> bool:
        return self.check is not None and self.check.name == "secrets_redacted"


def outbound(text: str, audience: Sequence[Provider], *, allow: bool, label: str, notify: Notify) -> Outbound:
    """`text` as `audience` (providers) may see it. `label` names it in messages: "the
    prompt", "--context", a file path; what was done is said through `notify`."""
    from app.source.model import split_lines
    from app.source.secrets import describe, redact_lines

    lines = split_lines(text)
    redacted, hits = redact_lines(lines)
    if not hits:
        return Outbound(text)
    rules = ", ".join(sorted({hit.rule for hit in hits}))
    where = f"in {label} ({rules})" if len(lines) == 1 else f"on {describe(hits)} of {label}"
    # A fallback chain can send the request to any of its members, not only the first.
    remote = [p.spec for member in audience for p in getattr(member, "chain", [member]) if p.kind != "local"]
    if not remote:
        return Outbound(
            text,
            Check(
                "secrets_present",
                "info",
                f"what looks like a secret {where}",
                "Nothing was sent anywhere (local model); keep secrets out of it all the same.",
            ),
        )
    to = ", ".join(dict.fromkeys(remote))
    if allow:
        notify(Note("warning", f"sending what looks like a secret {where} to {to} as it is (--allow-secrets)"))
        return Outbound(
            text,
            Check(
                "secrets_sent",
                "warning",
                f"what looks like a secret {where} was sent as it is",
                "--allow-secrets was given. Rotate it if this provider should not have seen it.",
            ),
        )
    notify(
        Note(
            "info",
            f"what looks like a secret {where} was redacted before sending to {to} "
            f"(line numbers are unchanged; --allow-secrets sends it as it is)",
        )
    )
    ending = "\n" if text.endswith(("\n", "\r")) else ""
    return Outbound(
        "\n".join(redacted) + ending,
        Check(
            "secrets_redacted",
            "warning",
            f"what looks like a secret {where} was redacted before sending",
            "The model saw [REDACTED:rule] in its place. Move secrets into a secret store or the environment.",
        ),
    )


def outbound_context(
    context: dict[str, str], audience: Sequence[Provider], *, allow: bool, notify: Notify
) -> tuple[dict[str, str], list[Check]]:
    """--context values as the audience may see them. Each is scanned as the `key=value`
    the user typed, so a key that names a credential (`db_password=…`) counts, as it
    does in a .env file."""
    values: dict[str, str] = {}
    checks: list[Check] = []
    for key, value in context.items():
        sent = outbound(f"{key}={value}", audience, allow=allow, label=f"--context {key}", notify=notify)
        # Only the value is redacted; should the key itself look like a token, all of it is.
        values[key] = (
            value
            if not sent.redacted
            else sent.text[len(key) + 1 :]
            if sent.text.startswith(f"{key}=")
            else "[REDACTED]"
        )
        checks += [sent.check] if sent.check else []
    return values, checks
