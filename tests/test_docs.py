"""The README and docs/ say what the repository does: the quick start is what CI runs, the
README stays an introduction, every link resolves, the screenshot is the current snapshot,
every command the docs cite to reproduce a figure or an example exists, and every config
example is one driftcheck accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_private
from tests.readme_examples import SCENARIOS

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
SNAPSHOTS = ROOT / "tests" / "__snapshots__" / "test_tui_snapshots"
# Written on another branch of the same change (the architecture work); remove once merged.


def _pages() -> list[Path]:
    return [README, *DOCS]


def test_the_quick_start_is_two_lines_and_its_test_line_is_what_ci_runs():
    block = re.search(r"## Quick start\n\n```\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "the README has no fenced block under '## Quick start'"
    install, tests = block.group(1).splitlines()
    assert install.startswith('python3 -m pip install ".[local]" && driftcheck review ')
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci, f"{tests!r} is not what .ci/run runs"


def test_the_readme_is_an_introduction():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped,
    spaces turned into hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_and_anchor_resolves():
    missing = []
    for page in _pages():
        for target, anchor in re.findall(r"\]\(<?([^)>#\s]*)(?:#([^)>]*))?>?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                missing.append(f"{page.relative_to(ROOT)} → {target}")
            elif anchor and anchor not in _anchors(path):
                missing.append(f"{page.relative_to(ROOT)} → {target}#{anchor}")
    assert not missing, missing


def test_the_screenshot_is_the_current_snapshot():
    shown = (ROOT / "docs" / "tui-compare.svg").read_bytes()
    assert shown == (SNAPSHOTS / "test_compare_screen_with_the_drift_panel.svg").read_bytes(), (
        "docs/tui-compare.svg differs from the compare screen's snapshot: copy the snapshot over it"
    )


def _cited(pattern: str) -> list[str]:
    return [match for page in _pages() for match in re.findall(pattern, page.read_text(encoding="utf-8"))]


def test_every_cited_perf_command_exists_with_its_options():
    commands = _cited(r"`python3? (tests/perf/[\w.]+\.py[^`]*)`")
    assert commands, "the docs cite no benchmark"
    for command in commands:
        script, *options = shlex.split(command)
        source = (ROOT / script).read_text(encoding="utf-8")
        for option in (o for o in options if o.startswith("--")):
            assert f'"{option}"' in source, f"{script} takes no {option}"


def test_every_cited_example_is_a_scenario_of_readme_examples():
    names = _cited(r"python3 -m tests\.readme_examples ([a-z_]+)")
    assert names, "the docs cite no example"
    assert set(names) <= set(SCENARIOS), set(names) - set(SCENARIOS)


TOML_EXAMPLES = [
    (page.name, block)
    for page in DOCS
    for block in re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
]


@pytest.mark.parametrize("page, example", TOML_EXAMPLES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(TOML_EXAMPLES)])
def test_every_config_example_is_one_driftcheck_accepts(run_cli, cli_env, page, example):
    write_private(Path(cli_env["DRIFTCHECK_CONFIG_DIR"]) / "config.toml", example)
    result = run_cli("config")
    assert result.code == 0, f"{page}: {result.stderr}"
