"""A non-editable wheel carries both packages, the data folders and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_packages_data_and_entry_point(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("driftcheck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "providers/anthropic.py" in names and "app/cli/__init__.py" in names
    assert "app/tui/app.py" in names and "app/tui/driftcheck.tcss" in names  # the TUI's one stylesheet
    for folder in ("prompts", "sample_code", "incidents"):
        shipped = {n for n in names if n.startswith(f"app/data/{folder}/")}
        repo = {
            f"app/data/{folder}/{p.relative_to(ROOT / folder).as_posix()}"
            for p in (ROOT / folder).rglob("*")
            if p.is_file()
        }
        assert repo and repo <= shipped, f"{folder}/ is not fully in the wheel"
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "driftcheck = app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_bundled_dir_finds_the_checkout_folders():
    from app.resources import bundled_dir

    assert (bundled_dir("prompts") / "README.md").is_file()
