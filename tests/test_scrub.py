"""No key a provider echoes survives the provider layer.

A provider can quote the key it was sent (an error body repeating the Authorization
header) and a model can repeat a credential it saw. The fake server echoes the very key
each request carried — in 401, 400 and 500 bodies, in streamed text split across chunks,
and in a mid-stream error event — and every text the layer hands on is searched for it.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from providers import Completed, Request, TextDelta
from providers import errors as E
from providers.base import ProviderSettings, RetryPolicy
from providers.credentials import CREDENTIAL_RULES
from providers.local import LocalModel, LocalProvider, local_capabilities
from providers.scrub import REDACTED_KEY, StreamScrubber, register_key, scrub
from tests.conftest import CANARY_ANTHROPIC, CANARY_OPENAI
from tests.fakeserver import ECHO_KEY, HttpError, Reply
from tests.test_secrets import TRUE_POSITIVES

BOTH = pytest.mark.parametrize("spec", ["anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"])
CANARIES = (CANARY_ANTHROPIC, CANARY_OPENAI)
# Examples of the shapes the scanner's tests have none of, assembled at run time (a literal
# key in a test file is still a literal key in a repo).
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzEXAMPLEKE"
MORE_EXAMPLES = [
    (f"aws_secret_access_key = {AWS_SECRET}", "aws-secret-access-key", AWS_SECRET),
    ("github_pat_" + "11ABCDEFG0" * 6, "github-fine-grained-token", "github_pat_" + "11ABCDEFG0" * 6),
    ("glpat-" + "xY3kLm9Qr2StUv8WzAb1", "gitlab-token", "glpat-" + "xY3kLm9Qr2StUv8WzAb1"),
    (
        "https://hooks.slack.com/services/" + "T0A1B2C3D/B4E5F6G7H/" + "a1b2c3d4e5f6g7h8i9j0k1l2",
        "slack-webhook",
        "https://hooks.slack.com/services/" + "T0A1B2C3D/B4E5F6G7H/" + "a1b2c3d4e5f6g7h8i9j0k1l2",
    ),
    ("hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "huggingface-token", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    ("npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm-token", "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
]
# One example of every credential shape the provider layer scrubs.
SHAPES = [
    (rule, line, secret)
    for line, rule, secret in [*TRUE_POSITIVES, *MORE_EXAMPLES]
    if rule in {name for name, _ in CREDENTIAL_RULES}
]


def streamed(pieces: list[str]) -> tuple[list[str], str]:
    scrubber = StreamScrubber()
    out = [scrubber.feed(piece) for piece in pieces]
    out.append(scrubber.flush())
    return out, "".join(out)


def test_every_credential_shape_has_an_example_here():
    """A new rule must come with an example, so that streaming is checked against it."""
    assert {rule for rule, _, _ in SHAPES} == {name for name, _ in CREDENTIAL_RULES}


def test_scrub_removes_a_key_in_use_and_every_credential_shape():
    register_key(CANARY_OPENAI)
    assert scrub(f"bad credentials: Bearer {CANARY_OPENAI}.") == f"bad credentials: Bearer {REDACTED_KEY}."
    for rule, line, secret in SHAPES:
        cleaned = scrub(f"The reply quoted {line} here")
        assert secret not in cleaned and f"[REDACTED:{rule}]" in cleaned, rule
    assert scrub("plain words, nothing secret: 42 lines") == "plain words, nothing secret: 42 lines"


def test_a_key_cut_short_is_removed_but_the_public_start_of_a_format_is_not():
    register_key(CANARY_ANTHROPIC)
    assert scrub(f"body: Bearer {CANARY_ANTHROPIC[:20]}") == f"body: Bearer {REDACTED_KEY}"
    assert scrub(f"({CANARY_ANTHROPIC[:20]}...)") == f"({REDACTED_KEY}...)"
    assert scrub("Anthropic keys start with sk-ant-") == "Anthropic keys start with sk-ant-"


def test_short_values_are_not_registered_as_keys():
    register_key("bench")  # a placeholder key must not cut "bench" out of every answer
    assert scrub("run the bench again") == "run the bench again"


@pytest.mark.parametrize("rule", [rule for rule, _, _ in SHAPES] + ["key in use"])
def test_a_secret_split_across_two_deltas_at_any_point_is_caught(rule):
    register_key(CANARY_ANTHROPIC)
    line = (
        f'api_key = "{CANARY_ANTHROPIC}"' if rule == "key in use" else next(line for r, line, _ in SHAPES if r == rule)
    )
    secret = CANARY_ANTHROPIC if rule == "key in use" else next(s for r, _, s in SHAPES if r == rule)
    text = f"Found this:\n{line}\nRotate it."
    for cut in range(1, len(text)):
        pieces, joined = streamed([text[:cut], text[cut:]])
        assert secret not in joined and joined == scrub(text), (rule, cut)
        assert not any(secret[:12] in piece for piece in pieces)


def test_a_key_streamed_four_characters_at_a_time_is_caught():
    register_key(CANARY_OPENAI)
    text = f"The header was Authorization: Bearer {CANARY_OPENAI} and nothing else."
    _, joined = streamed([text[i : i + 4] for i in range(0, len(text), 4)])
    assert CANARY_OPENAI not in joined and REDACTED_KEY in joined


def test_prose_streams_a_word_at_a_time_unchanged():
    text = "The disk filled up because the log rotation job stopped.\nCheck cron first. "
    pieces, joined = streamed([text[i : i + 4] for i in range(0, len(text), 4)])
    assert joined == text
    assert pieces[:3] == ["The ", "", "disk "], "a word is released as soon as it ends"


# --- through the real SDKs, against a server that echoes the key ----------------------------


async def everything_from(provider, request=None) -> tuple[str, E.ProviderError | None]:
    """Every text the layer handed on (deltas, final text, the error's parts), joined."""
    seen: list[str] = []
    error = None
    try:
        async for event in provider.stream(request or Request.ask("hello")):
            if isinstance(event, TextDelta):
                seen.append(event.text)
            elif isinstance(event, Completed):
                r = event.response
                seen += [r.text, str(r.request_id), str(r.raw_finish_reason)]
                seen += [c.message + c.diagnosis for c in r.checks]
            elif hasattr(event, "error"):
                seen.append(event.error.one_line())
    except E.ProviderError as err:
        error = err
        seen += [err.one_line(), err.message, str(err.hint), repr(err.args), str(err.to_dict())]
        seen.append(getattr(err, "partial_text", ""))
    return "\n".join(seen), error


@BOTH
@pytest.mark.parametrize("status", [401, 400, 500])
async def test_a_key_echoed_in_an_error_body_is_scrubbed(fake, make_provider, spec, status):
    fake.script(*[HttpError(status, f"bad credentials: Bearer {ECHO_KEY}")] * 3)
    text, error = await everything_from(make_provider(spec, retry=RetryPolicy(retries=0)))
    assert error is not None and error.status == status
    assert "bad credentials: Bearer [REDACTED:api-key]" in error.one_line()
    for canary in CANARIES:
        assert canary not in text


@BOTH
async def test_a_key_echoed_in_streamed_text_is_scrubbed_across_chunks(fake, make_provider, spec):
    fake.script(Reply(text=f"Your key is {ECHO_KEY}, keep it safe.", chunk_size=3))
    text, error = await everything_from(make_provider(spec))
    assert error is None
    assert "Your key is [REDACTED:api-key], keep it safe." in text
    for canary in CANARIES:
        assert canary not in text


@BOTH
async def test_a_key_echoed_in_a_mid_stream_error_event_is_scrubbed(fake, make_provider, spec):
    # The stream breaks 20 characters into the key: what arrived of it is scrubbed too.
    fake.script(
        Reply(
            text=f"Partial answer with {ECHO_KEY} in it",
            chunk_size=5,
            error_after=8,
            error_type="api_error",
            error_message=f"upstream rejected {ECHO_KEY}",
        )
    )
    text, error = await everything_from(make_provider(spec))
    assert isinstance(error, E.InterruptedStreamError)
    assert error.partial_text == "Partial answer with [REDACTED:api-key]"
    assert "upstream rejected [REDACTED:api-key]" in error.one_line()
    for canary in CANARIES:
        assert canary not in text


@BOTH
async def test_a_key_echoed_before_any_text_in_an_error_event_is_scrubbed_in_the_retry_notice(
    fake, make_provider, spec
):
    fake.script(
        Reply(text="x", error_after=0, error_type="api_error", error_message=f"no: {ECHO_KEY}"), Reply(text="fine")
    )
    provider = make_provider(spec)
    text, error = await everything_from(provider)
    assert error is None and "no: [REDACTED:api-key]" in text
    for canary in CANARIES:
        assert canary not in text


async def test_the_local_models_exception_text_is_scrubbed(tmp_path):
    """llama.cpp's own message is quoted in the error; a key in it (a prompt echoed in an
    exception, say) is scrubbed like any provider's."""
    pytest.importorskip("llama_cpp", reason="the local extra is not installed")
    register_key(CANARY_OPENAI)

    class Failing:
        def create_chat_completion(self, **kwargs):
            raise RuntimeError(f"llama_decode failed on input containing {CANARY_OPENAI}")

    class BrokenLocal(LocalProvider):
        def _sdk_client(self):
            return SimpleNamespace(llama=Failing(), lock=threading.Lock())

    settings = ProviderSettings(api_key=None, base_url="file://model.gguf", retry=RetryPolicy(retries=0))
    provider = BrokenLocal(
        name="local",
        model="model.gguf",
        settings=settings,
        caps=local_capabilities(),
        model_ref=LocalModel(tmp_path / "model.gguf", bundled=False),
    )
    text, error = await everything_from(provider)
    for thread in threading.enumerate():  # its worker thread ends before this test's event loop
        if thread.name == "driftcheck-local":
            thread.join(5)
    assert error is not None and "llama_decode failed on input containing [REDACTED:api-key]" in error.one_line()
    assert CANARY_OPENAI not in text
