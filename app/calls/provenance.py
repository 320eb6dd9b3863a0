"""Provenance: what made each answer, so that a difference between two runs can be traced.

The provider layer reports what the wire says (the served model, OpenAI's
`system_fingerprint`, the service tier, the request id) and which SDK made the call; this
module adds SHA-256 hashes of what driftcheck itself put into the call: the prompt
templates, the output schema, the effective generation parameters and the input. The
task labels its request (`labelled`), the provider passes the labels through to the
response, and `provenance_dict` is the `provenance` object of the public JSON and of
each call in history.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.calls.contract import Provenance
from app.resources import load_prompt
from providers.types import Request, Response

#: The provenance object's keys, in the order the JSON shows them.
FIELDS = (
    "served_model",
    "system_fingerprint",
    "service_tier",
    "request_id",
    "sdk",
    "sdk_version",
    "prompt_sha256",
    "schema_sha256",
    "params_sha256",
    "input_sha256",
)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def sha256_json(value: Any) -> str:
    """A hash of a JSON value that does not depend on key order."""
    return sha256_text(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str))


def template_sha256(names: Sequence[str]) -> str:
    """The bundled prompt templates `names`, as one hash: a changed word in any changes it."""
    return sha256_json({name: load_prompt(name) for name in names})


@functools.cache
def schema_sha256(model: type[Any]) -> str:
    """A pydantic model's JSON Schema, hashed once per process (making it costs a few ms)."""
    return sha256_json(model.model_json_schema())


def labelled(request: Request, *, templates: Sequence[str], input_text: str | None) -> Request:
    """`request` labelled with the hashes of its prompt templates, its output schema and the
    input it was made from (what was sent: redacted text, not the file on disk)."""
    labels = {"prompt_sha256": template_sha256(templates) if templates else None}
    if request.output_schema is not None:
        labels["schema_sha256"] = schema_sha256(request.output_schema)
    if input_text is not None:
        labels["input_sha256"] = sha256_text(input_text)
    return replace(request, labels=tuple((k, v) for k, v in labels.items() if v is not None))


def provenance_of(response: Response | None) -> Provenance:
    """The public `provenance` object of one answer; every field None when there was none."""
    if response is None:
        return Provenance.model_validate(dict.fromkeys(FIELDS))
    p = response.provenance
    labels = dict(response.labels)
    return Provenance(
        served_model=p.served_model,
        system_fingerprint=p.system_fingerprint,
        service_tier=p.service_tier,
        request_id=response.request_id,
        sdk=p.sdk,
        sdk_version=p.sdk_version,
        prompt_sha256=labels.get("prompt_sha256"),
        schema_sha256=labels.get("schema_sha256"),
        params_sha256=sha256_json(p.params) if p.params else None,
        input_sha256=labels.get("input_sha256"),
    )


def provenance_dict(response: Response | None) -> dict[str, Any]:
    """`provenance_of` as the JSON object history stores with each call."""
    return provenance_of(response).public()
