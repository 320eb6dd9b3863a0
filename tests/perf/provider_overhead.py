"""Provider-layer overhead against the raw SDK, on the same local server, in one run.

Budget (docs/performance.md): at most 2 % over the raw SDK. For each API the same streamed reply
is consumed three ways, alternating run by run so drift in the machine's speed hits all
alike:

- raw SDK: the SDK's own stream of typed events, keeping the text (the budget's baseline);
- bare wire: the SDK sends the request, a minimal loop reads the SSE JSON (what the
  layer does underneath, with nothing else);
- driftcheck: `Provider.stream` with conversion, deadlines, usage, cost and checks.

driftcheck / raw SDK is the budget; driftcheck / bare wire is the cost of the layer's
own bookkeeping. The fake server runs in its own process so it does not share the
client's interpreter lock.

    python tests/perf/provider_overhead.py [--runs 80] [--chars 4000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from providers import Request, RetryPolicy, build_provider  # noqa: E402


def start_server(chars: int) -> tuple[subprocess.Popen[str], str, str]:
    from tests.perf.fake_process import start_fake_server

    return start_fake_server("--reply-chars", str(chars))


async def raw_anthropic(client, model: str, prompt: str) -> str:
    parts = []
    stream = await client.messages.create(
        model=model, max_tokens=4096, stream=True, messages=[{"role": "user", "content": prompt}]
    )
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            parts.append(event.delta.text)
    return "".join(parts)


async def raw_openai(client, model: str, prompt: str) -> str:
    parts = []
    stream = await client.chat.completions.create(
        model=model,
        max_completion_tokens=4096,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt}],
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts)


async def bare_wire(opener) -> str:
    from providers.sse import json_events

    parts = []
    async with opener() as response:
        async for data in json_events(response, endpoint="bench"):
            if data.get("type") == "content_block_delta" and data["delta"].get("type") == "text_delta":
                parts.append(data["delta"]["text"])
            elif data.get("choices") and data["choices"][0]["delta"].get("content"):
                parts.append(data["choices"][0]["delta"]["content"])
    return "".join(parts)


async def measure(kind: str, base_url: str, runs: int) -> dict[str, float]:
    import anthropic
    import openai

    env = {
        "ANTHROPIC_API_KEY": "bench",
        "OPENAI_API_KEY": "bench",
        "ANTHROPIC_BASE_URL": base_url,
        "OPENAI_BASE_URL": base_url,
    }
    spec = "anthropic:claude-haiku-4-5" if kind == "anthropic" else "openai:gpt-5.4-mini"
    provider = build_provider(spec, env=env, retry=RetryPolicy(retries=0))
    messages = [{"role": "user", "content": "bench"}]
    if kind == "anthropic":
        client = anthropic.AsyncAnthropic(api_key="bench", base_url=base_url, max_retries=0)
        raw = lambda: raw_anthropic(client, provider.model, "bench")  # noqa: E731

        def wire():
            return bare_wire(
                lambda: client.messages.with_streaming_response.create(
                    model=provider.model, max_tokens=4096, stream=True, messages=messages
                )
            )
    else:
        client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
        raw = lambda: raw_openai(client, provider.model, "bench")  # noqa: E731

        def wire():
            return bare_wire(
                lambda: client.chat.completions.with_streaming_response.create(
                    model=provider.model,
                    max_completion_tokens=4096,
                    stream=True,
                    stream_options={"include_usage": True},
                    messages=messages,
                )
            )

    request = Request.ask("bench", max_tokens=4096)

    async def ours() -> str:
        return (await provider.complete(request)).text

    for _ in range(5):  # warm up connections, imports, caches
        assert await raw() == await wire() == await ours()
    times: dict[str, list[float]] = {"raw": [], "wire": [], "ours": []}
    contenders = [("raw", raw), ("wire", wire), ("ours", ours)]
    for i in range(runs):
        for name, fn in contenders[i % 3 :] + contenders[: i % 3]:  # rotate who goes first
            started = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - started)
    await client.close()
    await provider.aclose()
    med = {name: statistics.median(values) for name, values in times.items()}
    return {
        "raw_sdk_median_ms": med["raw"] * 1000,
        "bare_wire_median_ms": med["wire"] * 1000,
        "driftcheck_median_ms": med["ours"] * 1000,
        "overhead_vs_raw_sdk_pct": (med["ours"] / med["raw"] - 1) * 100,
        "overhead_vs_bare_wire_pct": (med["ours"] / med["wire"] - 1) * 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=80)
    parser.add_argument("--chars", type=int, default=4000, help="reply length; 4 characters per event")
    parser.add_argument("--repeats", type=int, default=3, help="the whole measurement again, for the spread")
    args = parser.parse_args()
    proc, anthropic_url, openai_url = start_server(args.chars)
    repeats: list[dict[str, dict[str, float]]] = []
    try:
        for _ in range(args.repeats):
            repeats.append(
                {
                    "anthropic": asyncio.run(measure("anthropic", anthropic_url, args.runs)),
                    "openai": asyncio.run(measure("openai", openai_url, args.runs)),
                }
            )
    finally:
        proc.terminate()
        proc.wait()

    def spread(kind: str, key: str, fmt: str) -> str:
        values = [r[kind][key] for r in repeats]
        return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)} to {format(max(values), fmt)})"

    print(
        f"provider layer vs raw SDK: {args.runs} rotated runs each, {args.chars // 4} streamed events per reply; "
        f"medians, then median (min to max) over {args.repeats} repeats"
    )
    for kind in ("anthropic", "openai"):
        print(
            f"{kind:10} raw SDK {spread(kind, 'raw_sdk_median_ms', '.2f')} ms, bare wire "
            f"{spread(kind, 'bare_wire_median_ms', '.2f')} ms, driftcheck {spread(kind, 'driftcheck_median_ms', '.2f')} ms"
        )
        print(
            f"{'':10} driftcheck vs raw SDK {spread(kind, 'overhead_vs_raw_sdk_pct', '+.1f')} %, "
            f"vs bare wire {spread(kind, 'overhead_vs_bare_wire_pct', '+.1f')} %"
        )
    budget_ok = all(
        statistics.median(r[kind]["overhead_vs_raw_sdk_pct"] for r in repeats) <= 2.0
        for kind in ("anthropic", "openai")
    )
    print(f"budget <= 2 % (median over the repeats): {'met' if budget_ok else 'NOT met'}")
    print(
        json.dumps(
            {"benchmark": "provider_overhead", "runs": args.runs, "events": args.chars // 4, "repeats": repeats}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
