"""Output read through a pipe (`| cat`, `| grep`, a CI log): no table wraps an identifier,
every record is one line, free text is shortened instead, and `COLUMNS` sets the width."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from app.history.store import Store
from app.render.listing import Column, fit_columns, print_listing
from tests.fake_triage import answer_text
from tests.fakeserver import Reply

PROVIDERS = "anthropic:claude-haiku-4-5,openai:gpt-5.4-mini"


def _seed(cli_env, count: int = 3) -> list[str]:
    """Runs recorded straight into the test's history database."""
    opened = Store.open(Path(cli_env["DRIFTCHECK_DATA_DIR"]) / "history.db")
    store = opened.store
    ids = []
    try:
        for n in range(count):
            run_id = store.start_run(
                "review" if n % 2 == 0 else "compare",
                input_ref=f"/home/someone/projects/service/sample_code/inventory_service_{n}.py",
                input_sha256=None,
                providers=PROVIDERS.split(","),
            )
            store.finish_run(run_id, status="ok", score=3 + n, summary="summary", result=None)
            ids.append(run_id)
    finally:
        store.close()
    return ids


@pytest.mark.parametrize("columns", ["80", "60", "120"])
def test_history_list_in_a_pipe_keeps_each_run_on_one_line(run_cli, cli_env, columns):
    ids = _seed(cli_env)
    result = run_cli("history", "list", env={**cli_env, "COLUMNS": columns})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    for run_id in ids:
        [line] = [line for line in lines if run_id in line]  # whole, and on exactly one line
        assert line.split()[0] == run_id
        assert " review " in line or " compare " in line
        assert len(line) <= int(columns)
    assert not any(c in result.stdout for c in "┏┃│━")  # no box to cut lines with in a pipe
    header = next(line for line in lines if line.startswith("id "))
    for name in ("id", "when", "task", "status"):
        assert f"{name} " in header + " "
    if columns == "80":
        for name in ("score", "cost", "latency"):
            assert name in header


def test_history_list_shortens_free_text_rather_than_wrapping(run_cli, cli_env):
    _seed(cli_env, 1)
    wide = run_cli("history", "list", env={**cli_env, "COLUMNS": "200"}).stdout
    assert "service/sample_code/inventory_service_0.py" not in wide  # short_ref: folder and name
    assert "sample_code/inventory_service_0.py" in wide and "openai:gpt-5.4-mini" in wide
    narrow = run_cli("history", "list", env={**cli_env, "COLUMNS": "100"}).stdout
    assert "…" in narrow


def test_history_list_as_json(run_cli, cli_env):
    ids = _seed(cli_env, 2)
    result = run_cli("history", "list", "--format", "json")
    data = json.loads(result.stdout)
    assert [r["id"] for r in data["runs"]] == ids[::-1]


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_history_limit_must_be_a_positive_number(run_cli, cli_env, limit):
    _seed(cli_env, 1)
    result = run_cli("history", "list", "--limit", limit)
    assert result.code == 2
    assert "--limit" in result.stderr and "No runs yet" not in result.stdout


def test_no_runs_matching_a_filter_is_not_no_runs_at_all(run_cli, cli_env):
    _seed(cli_env, 1)
    result = run_cli("history", "list", "--task", "triage")
    assert result.code == 0 and "No runs match these filters" in result.stdout


def test_triage_actions_header_fits_80_columns_in_a_pipe(fake, run_cli, cli_env):
    fake.script(Reply(text=answer_text("cert-expiry.md", "active")), model="claude-haiku-4-5")
    result = run_cli(
        "triage", "incidents/cert-expiry.md", "-p", "anthropic:claude-haiku-4-5", env={**cli_env, "COLUMNS": "80"}
    )
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[lines.index("Actions") + 1]
    assert header.split() == ["#", "action", "owner", "timeline"]
    table = lines[lines.index("Actions") + 1 : lines.index("Actions") + 8]
    assert all(len(line) <= 80 for line in table)


def _plain(width: int, columns, rows) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    print_listing(console, columns, rows)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_an_identifier_longer_than_the_width_is_not_cut_or_wrapped():
    columns = [Column("id"), Column("note", free=True, min_width=4)]
    out = _plain(20, columns, [["x" * 30, "some free text"]])
    [_, row] = out.splitlines()
    assert row.startswith("x" * 30)


def test_optional_columns_go_first_highest_drop_first():
    columns = [Column("id"), Column("a", drop=1), Column("b", drop=2), Column("c")]
    rows = [["1234567890", "aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc"]]
    shown, _ = fit_columns(columns, rows, 40, gap=2)
    assert shown == [0, 1, 3]
    shown, _ = fit_columns(columns, rows, 30, gap=2)
    assert shown == [0, 3]


def test_providers_in_a_pipe_keep_each_name_and_url_whole(run_cli, cli_env, tmp_path):
    (tmp_path / "config" / "config.toml").write_text(
        '[endpoints.ollama]\nbase_url = "http://localhost:11434/v1"\n\n'
        '[endpoints.vllm]\nbase_url = "http://gpu-box.internal.example:8000/v1"\napi_key_env = "VLLM_KEY"\n'
    )
    (tmp_path / "config" / "config.toml").chmod(0o600)
    result = run_cli("providers", "--no-check", env={**cli_env, "COLUMNS": "80"})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    [vllm] = [line for line in lines if line.startswith("vllm (")]
    assert "vllm (openai-compatible)" in vllm and "http://gpu-box.internal.example:8000/v1" in vllm
    assert "VLLM_KEY not set" in vllm
    assert any(line.split()[0] == "anthropic:claude-haiku-4-5" for line in lines)
    assert not any(c in result.stdout for c in "┏┃│━")
