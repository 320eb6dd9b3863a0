"""Parsing and indexing a 10,000-line file, against tree-sitter's bare parse in the same run.

Budget (issue 3): a 10,000-line file is parsed and indexed "well under a second". What
driftcheck adds on top of the parse — the symbol query, nesting, the line→symbol index,
and cutting the file into symbol-aligned chunks — is reported as a ratio to the bare
parse of the same text, so a slow machine shows up as a slow baseline. One full
lookup pass (symbol_at for every line) is timed too, since validation does that.

    python tests/perf/source_parse.py [--runs 15] [--lines 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.source.model import language_grammar, load_source  # noqa: E402


def synthetic_module(lines: int) -> str:
    """Realistic Python: classes of methods with branches, loops and docstrings."""
    out: list[str] = ["import os", "import json", ""]
    n = 0
    while len(out) < lines:
        out += [
            f"class Service{n}:",
            f'    """Service number {n}."""',
            "",
            "    def __init__(self, client):",
            "        self.client = client",
            "        self.cache = {}",
            "",
        ]
        for m in range(6):
            out += [
                f"    def handle_{m}(self, request):",
                f'        """Handle request kind {m}."""',
                "        payload = json.loads(request.body)",
                "        if payload.get('id') in self.cache:",
                "            return self.cache[payload['id']]",
                "        for item in payload.get('items', []):",
                f"            item['seen'] = item.get('seen', 0) + {m}",
                "        result = self.client.post('/v1/items', payload)",
                "        self.cache[payload.get('id')] = result",
                "        return result",
                "",
            ]
        n += 1
    return "\n".join(out[:lines]) + "\n"


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()

    import tree_sitter

    text = synthetic_module(args.lines)
    lang, _ = language_grammar("python")
    encoded = text.encode("utf-8")
    bare = median_time(lambda: tree_sitter.Parser(lang).parse(encoded), args.runs)
    indexed = median_time(lambda: load_source("big.py", text), args.runs)
    source = load_source("big.py", text)
    chunked = median_time(lambda: load_source("big.py", text).chunks(12_000), args.runs)
    lookup = median_time(lambda: [source.symbol_at(i) for i in range(1, source.line_count + 1)], args.runs)

    print(
        f"{args.lines:,} lines, {len(source.symbols):,} symbols, {len(source.chunks(12_000))} chunks at 12,000 tokens"
    )
    print(f"tree-sitter parse only       {bare * 1000:8.1f} ms")
    print(f"parse + symbols + index      {indexed * 1000:8.1f} ms  ({indexed / bare:.2f}x bare parse)")
    print(f"... + symbol-aligned chunks  {chunked * 1000:8.1f} ms  ({chunked / bare:.2f}x bare parse)")
    print(f"symbol_at for every line     {lookup * 1000:8.1f} ms")
    print(f"budget 'well under a second' (< 250 ms for all of it): {'met' if chunked < 0.25 else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "source_parse",
                "lines": args.lines,
                "bare_parse_ms": bare * 1000,
                "indexed_ms": indexed * 1000,
                "chunked_ms": chunked * 1000,
                "lookup_ms": lookup * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
