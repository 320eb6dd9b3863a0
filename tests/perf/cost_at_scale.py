"""What prompt caching and the batch APIs save, in one run: cost ratios, not timings.

Two workloads, each run three ways against the fake provider server (which keeps prompt
caches as the real APIs do and implements both batch APIs):

- `compare --repeat 5` of sample_code/inventory_service.py, claude-haiku-4-5 against
  gpt-5.4-mini;
- an eval of 2 models (claude-haiku-4-5, gpt-5.4-mini) × the 6 bundled incidents × 2
  judges (claude-sonnet-4-6, gpt-5.5);
- the same models and judges over the 4 sample files, each run twice (prompts long
  enough to cache, which the incidents' are not).

Ways: *live uncached* (the fake caches nothing: what driftcheck paid before it laid
prompts out for caching), *live cached* (the default now), *batch* (`--batch`; caches
still apply). Each call's tokens come from the fake server's own accounting (what it
billed: input, output, cache reads and writes, batch or not), priced with genai-prices.
The figures are ratios against live uncached.

    python3 tests/perf/cost_at_scale.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from providers.pricing import cost_usd  # noqa: E402
from providers.types import Usage  # noqa: E402
from tests import fake_eval  # noqa: E402
from tests.fake_reviews import keyed_review  # noqa: E402
from tests.fakeserver import FakeServer, Reply  # noqa: E402

SAMPLE = "inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
EVAL_MODELS = [A, B]
EVAL_JUDGES = ["anthropic:claude-sonnet-4-6", "openai:gpt-5.5"]
NO_CACHE = 10**9


def billed(fake: FakeServer) -> float:
    """The fake server's bill, priced with genai-prices (batch calls at the batch rate)."""
    total = 0.0
    for call in fake.usage_log:
        usage = Usage(
            input_tokens=call["input_tokens"],
            output_tokens=call["output_tokens"],
            cache_read_tokens=call["cache_read_tokens"] or None,
            cache_write_tokens=call["cache_write_tokens"] or None,
        )
        cost = cost_usd(call["api"], call["model"], usage, batch=call["batch"])
        assert cost is not None, call
        total += cost
    return total


def run(fake: FakeServer, env: dict[str, str], *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "app", *args, "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"driftcheck {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def script_compare(fake: FakeServer) -> None:
    answer = json.dumps(keyed_review(SAMPLE, score=5))
    fake.model_replies["claude-haiku-4-5"] = Reply(text=answer)
    fake.model_replies["gpt-5.4-mini"] = Reply(text=answer)


def measure(fake: FakeServer, env: dict[str, str], way: str, args: tuple[str, ...], script) -> tuple[float, dict]:
    fake.reset()
    if way == "live uncached":
        fake.cache_min_tokens = NO_CACHE
    script(fake)
    extra = ("--batch",) if way == "batch" else ()
    report = run(fake, env, *args, *extra)
    calls = len(fake.usage_log)
    read = sum(c["cache_read_tokens"] for c in fake.usage_log)
    written = sum(c["cache_write_tokens"] for c in fake.usage_log)
    return billed(fake), {"calls": calls, "cache_read": read, "cache_written": written, "report": report}


def main() -> None:
    fake = FakeServer().start()
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "ANTHROPIC_API_KEY": "sk-ant-perf",
            "OPENAI_API_KEY": "sk-perf",
            "ANTHROPIC_BASE_URL": fake.anthropic_base_url,
            "OPENAI_BASE_URL": fake.openai_base_url,
            "DRIFTCHECK_CONFIG_DIR": str(Path(home) / "config"),
            "DRIFTCHECK_DATA_DIR": str(Path(home) / "data"),
        }
        workloads = {
            "compare --repeat 5": (
                ("compare", f"sample_code/{SAMPLE}", "-a", A, "-b", B, "--repeat", "5"),
                script_compare,
            ),
            "eval 2 models x 6 incidents x 2 judges": (
                ("eval", "--models", ",".join(EVAL_MODELS), "--judges", ",".join(EVAL_JUDGES)),
                fake_eval.script,
            ),
            # The bundled incidents are shorter than the 1,024 tokens a cache needs; the
            # sample files are longer, so their judges read each file's prefix from the cache.
            "eval 2 models x 4 samples x 2 judges, repeat 2": (
                (
                    "eval",
                    "--set",
                    "samples",
                    "--repeat",
                    "2",
                    "--models",
                    ",".join(EVAL_MODELS),
                    "--judges",
                    ",".join(EVAL_JUDGES),
                ),
                lambda fake: None,  # schema-shaped answers and verdicts
            ),
        }
        print(f"{'workload':<48} {'way':<15} {'calls':>5} {'cache read':>10} {'cost':>10} {'ratio':>6}")
        for name, (args, script) in workloads.items():
            base = None
            for way in ("live uncached", "live cached", "batch"):
                cost, info = measure(fake, env, way, args, script)
                base = base or cost
                print(
                    f"{name:<48} {way:<15} {info['calls']:>5} {info['cache_read']:>10,} ${cost:>9.5f} "
                    f"{cost / base:>5.2f}x"
                )
    fake.stop()


if __name__ == "__main__":
    main()
