"""A change touching 50 files, reviewed with the provider limit at 4, against the ideal.

Budget (docs/performance.md): at most 1.3 × (50 files × one request's time ÷ 4). The fake
server runs in its own process and answers every review after a fixed first-token delay
and a steady stream, so one request's time is known; it is measured in the same run
(one file alone, median of a few), and the change is reviewed the way `review --diff`
does it (git asked for the change, every file planned, `change_events` with a
`ProviderLimit` of 4), in one process with the SDK already loaded.

    python3 tests/perf/diff_review.py [--files 50] [--limit 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.gitrepo import Repo  # noqa: E402

SPEC = "openai:gpt-5.4-mini"
FIRST_TOKEN_S, CHUNK_S = 0.4, 0.004
REPLY = json.dumps({"findings": [], "summary": "Nothing to report in this part of the change.", "score": 8})


def start_server(reply_file: str) -> tuple[subprocess.Popen[str], str]:
    model = SPEC.split(":")[1]
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.fakeserver", "--reply-file", reply_file, "--chunk-size", "16"),
            *("--delay", f"{model}={FIRST_TOKEN_S}:{CHUNK_S}"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    openai_url = proc.stdout.readline().strip().split("=", 1)[1]
    return proc, openai_url


def build_change(path: Path, files: int) -> Repo:
    repo = Repo(path)
    for n in range(files):
        repo.write(f"pkg/mod{n:02d}.py", f"def f{n}(x):\n    return x + {n}\n")
    repo.commit("base")
    for n in range(files):
        repo.write(f"pkg/mod{n:02d}.py", f"def f{n}(x):\n    y = x * {n}\n    return y + {n}\n")
    return repo


async def measure(env: dict[str, str], repo: Repo, limit: int, rounds: int) -> dict[str, float]:
    from app.calls.limits import ProviderLimit
    from app.notes import ignore
    from app.review.change import ChangeFinished, change_events
    from app.review.plan import ReviewOptions, plan_change
    from app.run.change import load_git_change
    from app.source.git import ChangeSpec
    from providers import Request, build_provider

    change = load_git_change(ChangeSpec(), [], repo.path)
    provider = build_provider(SPEC, env=env)
    await provider.complete(Request.ask("warm up", max_tokens=16))  # the SDK loaded, the connection open
    plans = plan_change(provider, change, ReviewOptions(max_requests=len(change.files)), notify=ignore)

    async def review(count: int) -> float:
        started = time.perf_counter()
        subset = type(change)(change.label, True, change.files[:count], root=change.root)
        async for event in change_events(plans[:count], provider, subset, limit=ProviderLimit(limit)):
            if isinstance(event, ChangeFinished):
                assert event.outcome.error is None and len(event.outcome.outcomes) == count
        return time.perf_counter() - started

    one = statistics.median([await review(1) for _ in range(5)])
    whole = [await review(len(change.files)) for _ in range(rounds)]
    await provider.aclose()
    files = len(change.files)
    ideal = files * one / limit
    return {
        "files": files,
        "limit": limit,
        "one_request_s": one,
        "ideal_s": ideal,
        "change_s": statistics.median(whole),
        "change_over_ideal": statistics.median(whole) / ideal,
        "worst_over_ideal": max(whole) / ideal,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(REPLY)
    proc, openai_url = start_server(handle.name)
    env = {"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": openai_url}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            repo = build_change(Path(tmp) / "repo", args.files)
            result = asyncio.run(measure(env, repo, args.limit, args.rounds))
    finally:
        proc.terminate()
        os.unlink(handle.name)
    result["budget"] = 1.3
    result["within_budget"] = result["change_over_ideal"] <= 1.3
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
