"""Tokens per second through driftcheck's local provider vs llama-cpp-python called directly.

Budget (issue 4): within 5 %. Both sides use the same loaded model, the same chat
messages and the same sampling settings; each run alternates which side goes first, and
the medians of tokens per second (generated tokens / wall time from the call to the
last token) are compared. driftcheck's side includes everything a user pays for: the
worker thread, the hand-off of every chunk to the event loop, the chunk conversion,
usage counting, timing and checks.

    python tests/perf/local_throughput.py [--runs 8] [--tokens 128] [--schema]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from providers import Request, build_provider  # noqa: E402

PROMPT = "Explain, step by step and in detail, how to investigate a Linux server whose disk is filling up."


def direct(llama, request_kwargs: dict, tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    for chunk in llama.create_chat_completion(**request_kwargs):
        if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            count += 1
    return count, time.perf_counter() - started


async def through_driftcheck(provider, request: Request) -> tuple[int, float]:
    started = time.perf_counter()
    response = await provider.complete(request)
    return response.usage.output_tokens or 0, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--schema", action="store_true", help="constrain both sides with the review grammar")
    args = parser.parse_args()

    provider = build_provider("local:smollm2")
    schema = None
    if args.schema:
        from app.review.model import ReviewReply

        schema = ReviewReply
    request = Request.ask(PROMPT, max_tokens=args.tokens, output_schema=schema)
    llama = provider._sdk_client().llama
    kwargs = provider.request_kwargs(request)
    grammar_text = kwargs.pop("grammar_text", None)

    def direct_kwargs() -> dict:
        import llama_cpp

        extra = {"grammar": llama_cpp.LlamaGrammar.from_string(grammar_text, verbose=False)} if grammar_text else {}
        return {**kwargs, **extra}

    await through_driftcheck(provider, request)  # warm both paths: caches, first allocation
    direct(llama, direct_kwargs(), args.tokens)
    ours, theirs = [], []
    for run in range(args.runs):
        for side in (0, 1) if run % 2 == 0 else (1, 0):
            if side == 0:
                n, elapsed = await through_driftcheck(provider, request)
                ours.append(n / elapsed)
            else:
                n, elapsed = direct(llama, direct_kwargs(), args.tokens)
                theirs.append(n / elapsed)
    ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
    delta = (ours_med / theirs_med - 1) * 100
    label = "review grammar" if args.schema else "plain text"
    print(f"{args.runs} runs each, up to {args.tokens} tokens, {label}")
    print(f"llama-cpp-python directly   {theirs_med:7.1f} tokens/s")
    print(f"driftcheck local provider   {ours_med:7.1f} tokens/s  ({delta:+.1f} %)")
    print(f"budget within 5 %: {'met' if abs(delta) <= 5 or delta > 0 else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "local_throughput",
                "schema": args.schema,
                "direct_tps": theirs_med,
                "driftcheck_tps": ours_med,
                "delta_pct": delta,
            }
        )
    )
    await provider.aclose()


if __name__ == "__main__":
    asyncio.run(main())
