"""The fake server (tests/fakeserver.py) in a process of its own, for the benchmarks: its
threads then do not share the measured client's interpreter lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_fake_server(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    """Start it with these command-line arguments; its process, and the anthropic and
    openai base URLs it prints. The caller terminates the process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeserver", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    anthropic_url = proc.stdout.readline().strip().split("=", 1)[1]
    openai_url = proc.stdout.readline().strip().split("=", 1)[1]
    return proc, anthropic_url, openai_url
