"""SVG snapshots of the main screens at 120×40, compared with the ones kept in
tests/__snapshots__/ (pytest-textual-snapshot). The screens show stored results and a
fixed config, so nothing on them depends on timing. After an intended change to a
screen: `python3 -m pytest tests/test_tui_snapshots.py --snapshot-update`, and look at
the new SVGs before committing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.tui.app import DriftcheckApp
from app.tui.compare_screen import CompareScreen
from app.tui.history_screen import HistoryScreen
from app.tui.review_screen import ReviewScreen
from app.tui.settings_screen import SettingsScreen
from app.tui.triage_screen import TriageScreen
from tests.conftest import provenance_shown

DATA = Path(__file__).parent / "data" / "tui"
SIZE = (120, 40)
SAMPLE = "sample_code/inventory_service.py"
CONFIG_DIR = "/tmp/driftcheck-snapshot-config"  # shown on the settings screen, so it is fixed
DATA_DIR = "/tmp/driftcheck-snapshot-data"  # shown on the history screen


@pytest.fixture(autouse=True)
def fixed_environment(monkeypatch, tmp_path):
    import os
    import shutil

    for key in list(os.environ):
        if key.endswith(("_API_KEY", "_BASE_URL")) or key.startswith("DRIFTCHECK_") or key == "LLM_PROVIDER":
            monkeypatch.delenv(key, raising=False)
    shutil.rmtree(CONFIG_DIR, ignore_errors=True)
    Path(CONFIG_DIR).mkdir(mode=0o700)
    config = Path(CONFIG_DIR) / "config.toml"
    config.write_text(
        'default = "anthropic:claude-haiku-4-5"\ncompare = ["anthropic:claude-haiku-4-5", '
        '"openai:gpt-5.4-mini"]\n\n[resilience]\nretries = 2\nhedge_after = "p95"\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("DRIFTCHECK_CONFIG_DIR", CONFIG_DIR)
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    monkeypatch.setenv("DRIFTCHECK_DATA_DIR", DATA_DIR)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-CANARY-snapshot")
    yield
    shutil.rmtree(CONFIG_DIR, ignore_errors=True)
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def _stored(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_home_screen(snap_compare):
    assert snap_compare(DriftcheckApp(record=False), terminal_size=SIZE)


def test_review_screen_with_a_finding_selected(snap_compare):
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=_stored("review.json")), record=False)

    async def pick(pilot):
        pane = app.screen.query_one("#side-a")
        pane.findings.focus()
        pane.findings.highlighted = 1
        await pilot.press("enter")

    assert snap_compare(app, terminal_size=SIZE, run_before=pick)


def test_compare_screen_with_the_drift_panel(snap_compare):
    report = _stored("compare_report.json")
    app = DriftcheckApp(
        lambda a: CompareScreen(SAMPLE, "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini", stored=report),
        record=False,
    )
    assert snap_compare(app, terminal_size=SIZE)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_compare_screen_with_repeat_runs_shows_stability_per_pair(snap_compare, size):
    # A stored `compare --repeat 5`: each pair with how many runs of A and of B found it.
    report = _stored("compare_report_repeat.json")
    app = DriftcheckApp(
        lambda a: CompareScreen(SAMPLE, "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini", stored=report),
        record=False,
    )
    assert snap_compare(app, terminal_size=size)


def test_triage_screen_form(snap_compare):
    async def steady_cursor(pilot):  # the incident box has the focus: its cursor would blink
        pilot.app.screen.query_one("#incident").cursor_blink = False
        await pilot.pause()

    assert snap_compare(
        DriftcheckApp(lambda a: TriageScreen(), record=False), terminal_size=SIZE, run_before=steady_cursor
    )


def test_settings_screen(snap_compare):
    app = DriftcheckApp(lambda a: SettingsScreen(), record=False)
    assert snap_compare(app, terminal_size=SIZE)
    # The key is in the environment; the screen says "set" and never shows it.
    svg = (Path(__file__).parent / "__snapshots__" / "test_tui_snapshots" / "test_settings_screen.svg").read_text()
    assert "CANARY" not in svg and "ANTHROPIC_API_KEY:" in svg.replace("&#160;", " ")


def _recorded_history(monkeypatch) -> None:
    """Three runs with fixed ids, times and metrics: two reviews and the compare of them."""
    import itertools
    import time

    import app.history.store as store_module

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    clock = itertools.count(1_795_000_000, 7)
    ids = iter(["rmwsd0review1", "rmwsd1review2", "rmwsd2compare"])
    monkeypatch.setattr(store_module.time, "time", lambda: float(next(clock)))
    monkeypatch.setattr(store_module, "new_run_id", lambda: next(ids))
    report = _stored("compare_report.json")
    store = store_module.Store.open().store
    for task, sides, result in (
        ("review", ["a"], report["a"]),
        ("review", ["b"], report["b"]),
        ("compare", ["a", "b"], report),
    ):
        run = store.start_run(
            task,
            input_ref=f"/work/{SAMPLE}",
            input_sha256="0" * 64,
            providers=[f"{report[s]['provider']}:{report[s]['model']}" for s in sides],
        )
        for side in sides:
            call = store.start_call(
                run,
                role=side if task == "compare" else "candidate",
                provider=report[side]["provider"],
                model=report[side]["model"],
            )
            store.finish_call(
                call, status="ok", text="{}", metrics=report[side]["metrics"], provenance=_provenance(side)
            )
        store.finish_run(
            run,
            status="ok",
            score=result.get("result", {}).get("score") if task == "review" else None,
            summary=None,
            result=result,
        )
    store.close()


def _provenance(side: str) -> dict:
    """A fixed provenance for each side's call (what app.calls.provenance records)."""
    return {
        "served_model": "claude-haiku-4-5-20251001" if side == "a" else "gpt-5.4-mini-2026-03-17",
        "system_fingerprint": None if side == "a" else "fp_5d8e0c1a",
        "service_tier": "standard" if side == "a" else "default",
        "request_id": f"req_{side}0001",
        "sdk": "anthropic" if side == "a" else "openai",
        "sdk_version": "2.0.0" if side == "a" else "3.0.0",
        "prompt_sha256": "1f" * 32,
        "schema_sha256": "2e" * 32,
        "params_sha256": "3d" * 32,
        "input_sha256": "4c" * 32,
    }


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x40"])
def test_history_screen(snap_compare, monkeypatch, size):
    """The runs, and under them the provenance of the highlighted run's calls."""
    _recorded_history(monkeypatch)
    app = DriftcheckApp(lambda a: HistoryScreen(), record=False)
    assert snap_compare(app, terminal_size=size, run_before=provenance_shown)
