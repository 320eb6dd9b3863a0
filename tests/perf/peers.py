"""driftcheck against its peers: the same streamed replies through the raw SDKs, litellm,
any-llm and driftcheck's provider layer, in one run, with ratios to the raw SDK.

The fake server (two processes: a long reply of `--long-chars` and a short one of
`--short-chars`, 4 characters per event) answers every contender alike.

- warm: each contender runs in its own worker process, built once and warmed up; the
  parent asks the workers for one call at a time, rotating who goes first, and each worker
  times its own call (so the pipe between them is not counted). Medians over `--runs`.
- cold: a fresh interpreter per sample that imports the library, streams the short reply
  once and exits, timed from launch to exit, contenders rotated. Medians over `--cold-runs`.

Every figure is the median over `--repeats` repeats with its min-max. litellm and any-llm
come from the optional `bench` extra (`pip install -e '.[bench]'`). any-llm's anthropic
extra needs an anthropic SDK older than driftcheck's, so they may live in another
interpreter: `--peers-python /path/to/venv/bin/python` runs their workers there (the raw
SDK and driftcheck run in this one; the baseline is this interpreter's raw SDK). A peer
that is not installed is skipped, and the script says so.

    python3 tests/perf/peers.py [--peers-python PATH] [--runs 30] [--cold-runs 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-5.4-mini"}
CONTENDERS = ("raw SDK", "driftcheck", "litellm", "any-llm")
#: What each contender needs importable, and whether it runs in the peers' interpreter.
NEEDS = {"raw SDK": ("anthropic", False), "driftcheck": ("providers", False), "litellm": ("litellm", True)}
NEEDS["any-llm"] = ("any_llm", True)
WORKER_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # no network fetch of litellm's price list


# --- one call, in a worker ---------------------------------------------------------------------


def make_call(contender: str, api: str, url: str) -> Any:
    """An async function that streams one reply and returns its text, client built once."""
    model = MODELS[api]
    messages = [{"role": "user", "content": "bench"}]
    # The raw loops are written out here, not imported from provider_overhead.py: that module
    # imports driftcheck, which a cold raw-SDK launch must not pay for.
    if contender == "raw SDK" and api == "anthropic":
        import anthropic

        client = anthropic.AsyncAnthropic(api_key="bench", base_url=url, max_retries=0)

        async def raw_anthropic() -> str:
            parts = []
            stream = await client.messages.create(model=model, max_tokens=4096, stream=True, messages=messages)
            async for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    parts.append(event.delta.text)
            return "".join(parts)

        return raw_anthropic
    if contender == "raw SDK":
        import openai

        oclient = openai.AsyncOpenAI(api_key="bench", base_url=url, max_retries=0)

        async def raw_openai() -> str:
            parts = []
            stream = await oclient.chat.completions.create(
                model=model,
                max_completion_tokens=4096,
                stream=True,
                stream_options={"include_usage": True},
                messages=messages,
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            return "".join(parts)

        return raw_openai
    if contender == "driftcheck":
        sys.path.insert(0, str(ROOT))
        from providers import Request, RetryPolicy, build_provider

        env = {f"{api.upper()}_API_KEY": "bench", f"{api.upper()}_BASE_URL": url}
        provider = build_provider(f"{api}:{model}", env=env, retry=RetryPolicy(retries=0))
        request = Request.ask("bench", max_tokens=4096)

        async def ours() -> str:
            return (await provider.complete(request)).text

        return ours
    if contender == "litellm":
        import litellm

        async def via_litellm() -> str:
            parts = []
            stream = await litellm.acompletion(
                model=f"{api}/{model}", api_base=url, api_key="bench", stream=True, max_tokens=4096, messages=messages
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            return "".join(parts)

        return via_litellm
    from any_llm import AnyLLM

    llm = AnyLLM.create(api, api_key="bench", api_base=url, max_retries=0)  # a client kept, as for the others

    async def via_any_llm() -> str:
        parts = []
        stream = await llm.acompletion(model=model, stream=True, max_tokens=4096, messages=messages)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        return "".join(parts)

    return via_any_llm


def worker(contender: str, api: str, url: str) -> None:
    """Serve `run` lines on stdin with one timed call each; print the milliseconds."""

    async def serve() -> None:
        call = make_call(contender, api, url)
        for _ in range(5):  # warm up: imports, the connection, caches
            text = await call()
        print(json.dumps({"ready": len(text)}), flush=True)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "run":
            started = time.perf_counter()
            text = await call()
            print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "chars": len(text)}), flush=True)

    asyncio.run(serve())


def cold(contender: str, api: str, url: str) -> None:
    """Import, build, stream once, exit: what a one-shot command pays."""
    asyncio.run(make_call(contender, api, url)())


# --- the parent --------------------------------------------------------------------------------


def start_server(chars: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    sys.path.insert(0, str(ROOT))
    from tests.perf.fake_process import start_fake_server

    proc, anthropic_url, openai_url = start_fake_server("--reply-chars", str(chars))
    return proc, {"anthropic": anthropic_url, "openai": openai_url}


def available(python: str, module: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", probe], cwd=ROOT).returncode == 0


def version(python: str, dist: str) -> str:
    code = f"from importlib.metadata import version; print(version({dist!r}))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def command(python: str, mode: str, contender: str, api: str, url: str) -> list[str]:
    return [python, str(Path(__file__).resolve()), mode, contender, "--api", api, "--url", url]


def warm_medians(pythons: dict[str, str], api: str, url: str, runs: int) -> dict[str, float]:
    env = {**os.environ, **WORKER_ENV}
    procs = {
        name: subprocess.Popen(
            command(python, "--worker", name, api, url),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, python in pythons.items()
    }
    try:
        lengths = {}
        for name, proc in list(procs.items()):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:  # it could not make the call at all (an SDK it needs is missing, say)
                print(f"peers: {name} could not stream from the {api} API here: skipped for it", file=sys.stderr)
                del procs[name]
                continue
            lengths[name] = json.loads(line)["ready"]
        assert len(set(lengths.values())) == 1, f"the contenders read different replies: {lengths}"
        times: dict[str, list[float]] = {name: [] for name in procs}
        names = list(procs)
        for i in range(runs):
            k = i % len(names)
            for name in names[k:] + names[:k]:  # rotate who goes first
                proc = procs[name]
                proc.stdin.write("run\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                times[name].append(json.loads(proc.stdout.readline())["ms"])  # type: ignore[union-attr]
    finally:
        for proc in procs.values():
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait()
    return {name: statistics.median(values) for name, values in times.items()}


def cold_medians(pythons: dict[str, str], api: str, url: str, runs: int) -> dict[str, float]:
    env = {**os.environ, **WORKER_ENV}
    times: dict[str, list[float]] = {name: [] for name in pythons}
    names = list(pythons)
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            started = time.perf_counter()
            done = subprocess.run(command(pythons[name], "--cold", name, api, url), cwd=ROOT, env=env)
            times[name].append((time.perf_counter() - started) * 1000 if done.returncode == 0 else float("nan"))
    failed = [name for name, values in times.items() if any(v != v for v in values)]  # NaN: a launch failed
    for name in failed:
        print(f"peers: {name} failed a cold call to the {api} API here: skipped for it", file=sys.stderr)
    return {name: statistics.median(values) for name, values in times.items() if name not in failed}


def spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", default=sys.executable, help="the interpreter with litellm and any-llm")
    parser.add_argument("--runs", type=int, default=30, help="warm calls per contender per repeat")
    parser.add_argument("--cold-runs", type=int, default=8, help="cold launches per contender per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-chars", type=int, default=4000)
    parser.add_argument("--short-chars", type=int, default=40)
    parser.add_argument("--worker", nargs=1, metavar="CONTENDER", help=argparse.SUPPRESS)
    parser.add_argument("--cold", nargs=1, metavar="CONTENDER", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], args.api, args.url)
    if args.cold:
        return cold(args.cold[0], args.api, args.url)

    pythons: dict[str, str] = {}
    for name in CONTENDERS:
        module, peer = NEEDS[name]
        python = args.peers_python if peer else sys.executable
        if available(python, module):
            pythons[name] = python
        else:
            print(
                f"peers: {name} is not installed for {python}: skipped "
                "(pip install -e '.[bench]', or --peers-python a venv that has it)"
            )
    versions = {
        "raw SDK": f"anthropic {version(sys.executable, 'anthropic')}, openai {version(sys.executable, 'openai')}",
        "litellm": version(args.peers_python, "litellm"),
        "any-llm": f"{version(args.peers_python, 'any-llm-sdk')} (anthropic {version(args.peers_python, 'anthropic')})",
    }
    servers = {
        length: start_server(chars) for length, chars in (("long", args.long_chars), ("short", args.short_chars))
    }
    results: list[dict[str, Any]] = []
    try:
        for _ in range(args.repeats):
            repeat: dict[str, Any] = {}
            for api in MODELS:
                for length, (_, urls) in servers.items():
                    repeat[f"{api} {length} warm"] = warm_medians(pythons, api, urls[api], args.runs)
                repeat[f"{api} short cold"] = cold_medians(pythons, api, servers["short"][1][api], args.cold_runs)
            results.append(repeat)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()

    print(
        f"peers: {args.long_chars // 4}- and {args.short_chars // 4}-event replies; warm: medians of {args.runs} "
        f"rotated calls, cold: of {args.cold_runs} launches; median (min-max) over {args.repeats} repeats"
    )
    print("versions: " + "; ".join(f"{k} {v}" for k, v in versions.items() if k in pythons))
    names = [n for n in CONTENDERS if n in pythons]
    print(f"{'reply':24}" + "".join(f"{n:>28}" for n in names))
    for condition in results[0]:
        cells = []
        for name in names:
            if any(name not in r[condition] for r in results):
                cells.append("-")
                continue
            ms = [r[condition][name] for r in results]
            ratio = [r[condition][name] / r[condition]["raw SDK"] for r in results]
            cells.append(f"{spread(ms, '.1f')} ms" if name == "raw SDK" else f"{spread(ratio, '.2f')}x")
        print(f"{condition:24}" + "".join(f"{c:>28}" for c in cells))
    print(json.dumps({"benchmark": "peers", "versions": versions, "args": vars(args), "repeats": results}))


if __name__ == "__main__":
    main()
