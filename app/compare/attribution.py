"""Why two runs differ: the input, the prompt or settings, the served model, or none of them.

Each run's `provenance` object (app.calls.provenance) holds hashes of what driftcheck sent
and what the API said served it. Set side by side they say what changed between the
runs; when nothing did, a difference in the answers is the provider's own behaviour or
sampling noise. A run recorded before provenance existed has none: what cannot be
compared is named, never assumed equal.
"""

from __future__ import annotations

from typing import Any

# What each verdict covers, in the order a cause is blamed: a changed input explains a
# changed answer before a changed prompt does, and either before the model.
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("input_changed", ("input_sha256",)),
    ("prompt_or_settings_changed", ("prompt_sha256", "schema_sha256", "params_sha256")),
    ("served_model_changed", ("served_model", "system_fingerprint")),
)
# Reported when they differ, but no cause of a different answer on their own.
ALSO = ("service_tier", "sdk", "sdk_version")

WORDS = {
    "input_sha256": "the input",
    "prompt_sha256": "the prompt template",
    "schema_sha256": "the output schema",
    "params_sha256": "the generation parameters",
    "served_model": "the served model",
    "system_fingerprint": "the backend fingerprint",
    "service_tier": "the service tier",
    "sdk": "the SDK",
    "sdk_version": "the SDK version",
}
SHOWN = {"served_model", "system_fingerprint", "service_tier", "sdk", "sdk_version"}  # short enough to quote


def attribute(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    """The public `attribution` object for runs A and B: `verdict` (input_changed,
    prompt_or_settings_changed, served_model_changed, same_everything, or unknown),
    `changed` and `unknown` (provenance fields), `also_changed` (named for the reader,
    never blamed) and `text`, the verdict in words."""
    recorded = bool(a) and bool(b)  # a run from before provenance has none at all
    a, b = a or {}, b or {}
    changed: list[str] = []
    unknown: list[str] = []
    for _, fields in CAUSES:
        for name in fields:
            va, vb = a.get(name), b.get(name)
            if va is None and vb is None and recorded:
                continue  # neither call has one (a fingerprint outside OpenAI): nothing to compare
            if va is None or vb is None:
                unknown.append(name)
            elif va != vb:
                changed.append(name)
    also = [name for name in ALSO if a.get(name) is not None and b.get(name) is not None and a[name] != b[name]]
    causes = [verdict for verdict, fields in CAUSES if any(name in changed for name in fields)]
    verdict = causes[0] if causes else ("unknown" if unknown else "same_everything")
    return {
        "verdict": verdict,
        "causes": causes,
        "changed": changed,
        "unknown": unknown,
        "also_changed": also,
        "text": _text(causes, changed, unknown, also, a, b),
    }


def _what(name: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    if name in SHOWN:
        return f"{WORDS[name]} ({a.get(name)} → {b.get(name)})"
    return WORDS[name]


def _text(
    causes: list[str], changed: list[str], unknown: list[str], also: list[str], a: dict[str, Any], b: dict[str, Any]
) -> str:
    tail = f"; also changed: {', '.join(_what(n, a, b) for n in also)}" if also else ""
    if not causes:
        if unknown:
            return (
                f"cannot tell why the runs differ: {', '.join(WORDS[n] for n in unknown)} "
                f"was not recorded for one of them (a run from before provenance, or a failed call){tail}"
            )
        return (
            "same input, prompt, settings and served model: the difference is the provider's "
            f"own behaviour or sampling noise{tail}"
        )
    what = ", ".join(_what(n, a, b) for n in changed)
    head = f"{what} changed" if len(changed) == 1 else f"these changed: {what}"
    if len(causes) > 1:
        head += "; the difference cannot be put on one of them alone"
    elif causes[0] == "served_model_changed":
        head += "; the input, prompt and settings are the same, so the model accounts for the difference"
    else:
        head += "; the difference may come from that, not from the provider"
    return head + tail
