"""How fast the bundled model reads a prompt and writes tokens when the CPU is shared, with
llama.cpp's OpenMP threads spinning while they wait (OpenMP's default) against waiting
passively (what driftcheck sets, providers/local.py).

On a two-core machine driftcheck's model never has the CPU to itself: the TUI's event loop,
a second test worker or any other process runs beside it, and threads that spin for work
take the cores the others need. Each measurement is a fresh process (OpenMP reads
OMP_WAIT_POLICY once, when the library loads) that loads the model as driftcheck does and
times one prompt read and one generation; `--busy N` processes spin beside it
for the whole run. Policies alternate run by run; the figures are medians with min-max,
and the result is the ratio passive / spinning in the same run.

    python tests/perf/local_contention.py [--runs 5] [--busy 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ONE_RUN = """
import json, time
import llama_cpp
from providers.local import bundled_model_path, plain_weight_buffers
with plain_weight_buffers(llama_cpp):  # as driftcheck loads it
    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=4096, verbose=False)
prompt = "def handler(event):\\n    return event['body']\\n" * 40
started = time.perf_counter()
read = llama.create_completion(prompt, max_tokens=1)
read_s = time.perf_counter() - started
started = time.perf_counter()
wrote = llama.create_completion("A runbook for a full disk:", max_tokens=64, temperature=0.0)
write_s = time.perf_counter() - started
print(json.dumps({
    "prompt_tok_s": read["usage"]["prompt_tokens"] / read_s,
    "gen_tok_s": wrote["usage"]["completion_tokens"] / write_s,
}))
"""

POLICIES = {"spinning": "ACTIVE", "passive": "PASSIVE"}


def one(policy: str) -> dict[str, float]:
    env = {**os.environ, "OMP_WAIT_POLICY": POLICIES[policy]}
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measurements per policy")
    parser.add_argument("--busy", type=int, default=1, help="processes spinning beside the model")
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        results: dict[str, list[dict[str, float]]] = {name: [] for name in POLICIES}
        names = list(POLICIES)
        for i in range(args.runs):
            for name in names[i % 2 :] + names[: i % 2]:
                results[name].append(one(name))
    finally:
        for proc in busy:
            proc.kill()
    print(f"bundled model, {args.busy} busy process(es) beside it, {args.runs} runs per policy")
    for metric, label in (("prompt_tok_s", "prompt read, tok/s"), ("gen_tok_s", "generation, tok/s")):
        print(f"  {label}")
        for name in names:
            print(f"    {name:9} {spread([r[metric] for r in results[name]])}")
        ratios = [p[metric] / s[metric] for p, s in zip(results["passive"], results["spinning"], strict=True)]
        print(f"    passive / spinning: {spread(ratios)}x")


if __name__ == "__main__":
    main()
