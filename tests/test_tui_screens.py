"""The review, compare and triage screens as a new user meets them (issue 19): a file
picked by completion, a screen that shows the file and what it prepares at once, the
first finding selected, providers picked from the usable ones, a re-run seen to start,
notes kept on screen, a failed side's error readable at 80×24, a triage form with labels,
focus and SPECs checked as typed. Pilot drives the app against the fake server; the SVG
snapshots (80×24 and 120×40) show each screen in the states that matter, built from
stored results so nothing in them depends on timing. After an intended change:
`python3 -m pytest tests/test_tui_screens.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input, OptionList, Static, TextArea

from app.tui.app import DriftcheckApp
from app.tui.code_view import CodeView
from app.tui.compare_screen import CompareScreen
from app.tui.dialogs import Choose
from app.tui.review_screen import ReviewScreen
from app.tui.triage_screen import TriageScreen
from app.tui.widgets import ResultPane
from tests.conftest import until, write_private
from tests.fake_reviews import keyed_review_text
from tests.fake_triage import answer_text, verdict
from tests.fakeserver import Reply

DATA = Path(__file__).parent / "data" / "tui"
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_code/inventory_service.py"
A, B = "anthropic:claude-haiku-4-5", "openai:gpt-5.4-mini"
FAILING = JUDGE = "anthropic:claude-sonnet-4-6"
WIDE, SMALL = (120, 40), (80, 24)
SIZES = pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "120x40"])


def stored(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def text_of(widget: Any) -> str:
    return str(widget.render())


def screen_text(app: DriftcheckApp) -> str:
    """What the terminal shows, as lines of text: the screenshot's SVG text runs joined
    row by row (a style change starts a new run), the rows joined with spaces, so a
    message wrapped over several rows reads as one."""
    import html
    import re

    rows: dict[float, list[str]] = {}
    for y, run in re.findall(r'<text [^>]*y="([\d.]+)"[^>]*>(.*?)</text>', app.export_screenshot()):
        rows.setdefault(float(y), []).append(html.unescape(run).replace("\xa0", " "))
    text = " ".join("".join(runs) for _, runs in sorted(rows.items()))
    return re.sub(r"[\s│▌▎▊]+", " ", text)


def failing_reply() -> Reply:
    return Reply(text=keyed_review_text("inventory_service.py"), chunk_size=40, error_after=12)


# --- home and review ------------------------------------------------------------------------


async def test_v_completes_a_path_and_refuses_a_bad_one_inside_the_dialog(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    app = DriftcheckApp()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("v")
        dialog = app.screen
        answer = dialog.query_one(Input)
        answer.value = "sample_code/no_such_file.py"
        await pilot.press("enter")
        assert app.screen is dialog, "a bad path opens no screen"
        assert "no such file" in text_of(dialog.query_one("#path-error"))
        answer.value = "sample_code/inv"
        await pilot.pause()
        assert SAMPLE in [o.id for o in dialog.query_one("#path-matches", OptionList).options]
        await pilot.press("tab")
        assert answer.value == SAMPLE
        await pilot.press("enter")
        assert isinstance(app.screen, ReviewScreen) and app.screen.path == SAMPLE
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)


def hold_preparation(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The review screen's preparation waits (up to 10 s) until the returned event is set."""
    import app.tui.review_screen as review_screen

    go_on = threading.Event()
    prepare = review_screen.prepare_review

    def slow_prepare(*args: Any, **kwargs: Any) -> Any:
        go_on.wait(10)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(review_screen, "prepare_review", slow_prepare)
    return go_on


async def test_the_review_screen_shows_the_file_and_what_it_prepares_before_any_answer(fake, tui_env, monkeypatch):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    # Preparing waits until the test has looked: on a slow machine it takes seconds.
    go_on = hold_preparation(monkeypatch)
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        pane = screen.pane("a")
        await until(pilot, lambda: "resolving the providers" in text_of(pane.query_one(".summary")))
        assert "Stock-keeping helpers" in screen.query_one(CodeView).text  # the file, at once
        assert "Preparing: reading the input" in text_of(pane.query_one(".summary")) and A in text_of(pane.metrics)
        await pilot.press("r")  # a re-run asked for while it prepares: said, not started twice
        assert any("already running" in n.message for n in app._notifications)
        go_on.set()
        await until(pilot, lambda: screen.result is not None)
    assert len(fake.requests) == 1


async def test_escape_while_a_review_prepares_stops_it_before_anything_is_sent(fake, tui_env, monkeypatch):
    go_on = hold_preparation(monkeypatch)
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        await until(pilot, lambda: "resolving the providers" in text_of(screen.pane("a").query_one(".summary")))
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        assert "cancelled before anything was sent" in text_of(screen.pane("a").metrics)
        go_on.set()
        await pilot.press("escape")  # idle now: Escape goes back
        assert not isinstance(app.screen, ReviewScreen)
    assert fake.requests == []


async def test_leaving_a_review_while_it_prepares_stops_its_worker_quietly(fake, tui_env, monkeypatch):
    go_on = hold_preparation(monkeypatch)
    app = DriftcheckApp()
    async with app.run_test(size=WIDE) as pilot:  # a worker's failure would be raised here
        app.open_review(SAMPLE, A)
        await pilot.pause()
        screen = app.screen
        await until(pilot, lambda: "resolving the providers" in text_of(screen.pane("a").query_one(".summary")))
        app.pop_screen()  # its panes go while the worker is cancelled
        await until(pilot, lambda: not screen.running)
    go_on.set()
    assert fake.requests == []


async def test_the_first_finding_is_selected_as_it_arrives_so_enter_jumps_to_it(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_delay_s=0.002), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        findings = screen.pane("a").findings
        await until(pilot, lambda: len(findings.findings) >= 1)
        assert findings.highlighted == 0
        await until(pilot, lambda: screen.result is not None)
        assert findings.highlighted == 0 and app.focused is findings
        await pilot.press("enter")  # F1, the token on line 15, without pressing Down first
        assert screen.query_one(CodeView).selection.end == (14, 0)


async def test_p_offers_the_usable_providers_refuses_a_list_and_a_rerun_starts_at_once(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    fake.script(
        Reply(text=keyed_review_text("inventory_service.py", score=6), first_token_delay_s=0.8), model="gpt-5.4-mini"
    )
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        pane = screen.pane("a")
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("p")
        picker = app.screen
        listed = [o.id for o in picker.query_one(OptionList).options]
        assert A in listed and B in listed and "openai:gpt-5.5" in listed  # both keys are set
        field = picker.query_one(Input)
        for typed, said in ((f"{A}, {B}", "more than one SPEC"), ("nope:model", "unknown provider")):
            field.value = typed
            await pilot.press("enter")
            assert app.screen is picker and said in text_of(picker.query_one("#provider-error"))
        field.value = "openai:gpt-5.4-mi"  # Enter takes the completion on show
        await pilot.press("enter")
        assert app.screen is screen
        # At once: the old result is gone and the pane names the new provider.
        assert screen.result is None and pane.findings.findings == [] and B in text_of(pane.metrics)
        await until(pilot, lambda: screen.result is not None)
        assert screen.result["provider"] == "openai" and screen.result["result"]["score"] == 6
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5", "gpt-5.4-mini"]


async def test_the_review_screens_first_frame_waits_on_neither_the_highlight_nor_the_run(fake, tui_env, monkeypatch):
    """A light first frame: the file as plain text and the pane's "Preparing…" line; the
    numbered code view and the pane's other parts (in the order a composed pane has them)
    come right after it, then the run."""
    from app.tui.widgets import FindingList, LiveText, MetricsBar

    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    at_first_frame: dict[str, Any] = {}
    mounted = ReviewScreen.on_mount

    def on_mount(self):  # what tests/perf/tui_first_frame.py does: a callback on the first frame
        mounted(self)
        pane = self.pane("a")
        self.call_after_refresh(
            lambda: at_first_frame.update(
                text="Stock-keeping helpers" in text_of(self.query_one("#code")),
                code_view=bool(self.query(CodeView)),
                parts=[type(w).__name__ for w in pane.children],
                preparing="Preparing" in text_of(pane.query_one(".summary")),
                workers=len(self.workers),
            )
        )

    monkeypatch.setattr(ReviewScreen, "on_mount", on_mount)
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A, record=False), record=False)
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: bool(at_first_frame))
        assert at_first_frame == {
            "text": True,
            "code_view": False,
            "parts": ["Static"],
            "preparing": True,
            "workers": 0,
        }
        screen = app.screen
        await until(pilot, lambda: screen.result is not None and screen.query_one(CodeView).language == "python")
        pane = screen.pane("a")
        assert [type(w) for w in pane.children] == [MetricsBar, Static, FindingList, Static, LiveText]
        assert app.focused is pane.findings


async def test_a_runs_notes_stay_on_the_screen_not_only_in_a_toast(fake, tui_env):
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, A))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None)
        app.clear_notifications()
        await pilot.pause()
        notes = screen.query_one("#run-notes", Static)
        assert notes.display and "redacted before sending" in text_of(notes)


def test_a_local_model_says_how_much_prompt_it_reads_and_how_long_that_took_before(tui_env):
    from app.history.store import Store
    from app.tui.runs import prepare_review, reading_notes
    from providers.local import bundled_available

    if not bundled_available():
        pytest.skip("the bundled model is not installed")
    run = prepare_review(SAMPLE, {"a": "local:smollm2"}, record=False)
    first = reading_notes(run.prepared)["a"]
    assert "-token prompt" in first and "a CPU reads roughly" in first
    store = Store.open().store
    call = store.start_call(
        store.start_run("review", input_ref=SAMPLE, input_sha256=None, providers=["local:smollm2"]),
        role="candidate",
        provider="local",
        model="smollm2",
    )
    store.finish_call(call, status="ok", text="{}", metrics={"input_tokens": 2000, "ttft_ms": 10_000})
    store.close()
    assert "at the 200 tokens/s measured here before" in reading_notes(run.prepared)["a"]


async def test_a_failed_review_from_history_shows_the_partial_text(tui_env):
    failed = stored("compare_failed_side.json")["b"]
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=failed), record=False)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        live = app.screen.pane("a").live
        assert live.received == len(failed["partial_text"])


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
async def test_the_review_layout_keeps_full_code_lines_and_a_usable_findings_list(tui_env, size):
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored("review.json")), record=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        pane = screen.pane("a")
        if size == WIDE:  # ~90+ characters of code beside the line numbers
            assert screen.query_one(CodeView).content_size.width >= 95
        else:  # a finding's line is not cut to half the screen
            assert pane.findings.content_size.width >= 70
        assert pane.findings.content_size.height >= 5
        assert pane.live.size.height >= 2 and pane.query_one(".checks").size.height >= 1
        assert pane.findings.region.bottom <= screen.size.height - 1  # above the footer


# --- compare --------------------------------------------------------------------------------


async def test_compare_at_80x24_gives_a_failed_side_the_screen_to_read_its_error(tui_env):
    report = stored("compare_failed_side.json")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, B, FAILING, stored=report), record=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "Answer key" not in text_of(screen.pane("b").query_one(".summary"))  # B failed
        assert "Answer key: 8 of 9" in text_of(screen.pane("a").query_one(".summary"))
        assert "recall 0.89 → n/a (failed)" in text_of(screen.query_one("#drift-summary"))
        assert "not retried because it was already shown" not in screen_text(app)  # too small
        await pilot.press("b")
        assert screen.maximized is screen.pane("b")
        shown = screen_text(app)
        assert "the stream broke after 480 characters" in shown and "not retried because it was already shown" in shown
        await pilot.press("escape")  # back to both sides
        assert screen.maximized is None


async def test_pagedown_scrolls_a_short_compare_side_to_its_error(tui_env):
    report = stored("compare_failed_side.json")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, B, FAILING, stored=report), record=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        side_b = app.screen.pane("b")
        await pilot.press("tab")  # from side A's findings to side B's: no stop in between
        assert app.focused is side_b.findings
        assert "characters arrived before the" not in screen_text(app)
        await pilot.press("pagedown")
        await pilot.pause()
        assert side_b.scroll_y > 0 and "characters arrived before the" in screen_text(app)
        await pilot.press("pageup")
        await pilot.pause()
        assert side_b.scroll_y == 0


async def test_compare_reruns_with_providers_from_the_list_and_shows_the_code(fake, tui_env):
    review = keyed_review_text("inventory_service.py")
    fake.script(Reply(text=review), Reply(text=review, first_token_delay_s=0.5), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("inventory_service.py", drop=("sql-injection",))), model="gpt-5.4-mini")
    fake.script(Reply(text=review, first_token_delay_s=0.5), model="claude-sonnet-4-6")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, A, B))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.report is not None)
        await pilot.press("p")
        picker = app.screen
        fields = list(picker.query(Input))
        assert [f.value for f in fields] == [A, B]
        fields[1].value = FAILING
        fields[1].focus()
        await pilot.press("enter")
        assert app.screen is screen and screen.report is None
        assert screen.pane("b").border_title == f"B · {FAILING}"
        await until(pilot, lambda: screen.report is not None)
        assert screen.report["b"]["model"] == "claude-sonnet-4-6"
        code = screen.query_one("#compare-code", CodeView)
        assert not code.display
        await pilot.press("o")
        assert code.display and "Stock-keeping helpers" in code.text
        pairs = screen.query_one("#pairs", OptionList)
        pairs.focus()
        pairs.highlighted = 1
        await pilot.press("enter")
        pair = screen.report["drift"]["matched"][1]
        assert code.selection.end == (pair["lines"][0] - 1, 0)
    assert [r.model for r in fake.requests].count("claude-sonnet-4-6") == 1


# --- triage ---------------------------------------------------------------------------------


async def test_the_triage_form_has_labels_focus_and_room(tui_env):
    app = DriftcheckApp(lambda a: TriageScreen(context={"sla_at_risk": "yes"}), record=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        incident = screen.query_one("#incident", TextArea)
        assert app.focused is incident and incident.border_title and incident.placeholder
        filled = screen.query_one("#ctx-sla_at_risk", Input)
        assert filled.value == "yes" and filled.border_title == "SLA at risk"  # labelled once filled
        for field in screen.query("#triage-form Input").results(Input):
            assert field.border_title
            assert len(field.placeholder) <= field.content_size.width, field.placeholder  # not cut
        form = screen.query_one("#triage-form")
        assert form.size.width <= 40
        await pilot.press("f3")
        assert not form.display and screen.pane("a").size.width >= 70
        # The keys go to the results, not to a hidden field: `e`, once there is a result, exports.
        assert app.focused is screen.pane("a").findings
        screen.last_result = stored("triage.json")
        await pilot.press("e")
        assert isinstance(app.screen, Choose) and [v for _, v in app.screen.choices] == ["json", "markdown"]


async def test_triage_refuses_a_mistyped_spec_list_as_it_is_typed(fake, tui_env):
    app = DriftcheckApp(lambda a: TriageScreen(text="db disk 91% full, writes failing"))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        field = screen.query_one("#spec-a", Input)
        field.focus()
        await pilot.press(*"openai:x")
        assert text_of(screen.query_one("#form-error")) == ""
        field.value = f"{A} {B}"
        await pilot.pause()
        assert "more than one SPEC" in text_of(screen.query_one("#form-error"))
        screen.query_one("#judges", Input).value = f"{A}, bogus:model"
        await pilot.pause()
        assert "unknown provider 'bogus:model'" in text_of(screen.query_one("#form-error"))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.running and app.focused is field
    assert fake.requests == []


async def test_ctrl_r_during_a_triage_says_it_is_running(fake, tui_env):
    fake.script(
        Reply(text=answer_text("pg-storage.md", "active"), chunk_size=8, chunk_delay_s=0.02), model="claude-haiku-4-5"
    )
    text = (ROOT / "incidents" / "pg-storage.md").read_text(encoding="utf-8")
    app = DriftcheckApp(lambda a: TriageScreen(text=text, spec_a=A, judges=[]))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.running)
        await pilot.press("ctrl+r")
        assert any("already running; Escape cancels it" in n.message for n in app._notifications)
        await until(pilot, lambda: not screen.running)
    assert len(fake.requests) == 1


async def test_an_escape_sequence_pasted_into_the_incident_box_is_shown_not_obeyed(tui_env):
    app = DriftcheckApp(lambda a: TriageScreen(), record=False)
    async with app.run_test(size=WIDE) as pilot:
        incident = app.screen.query_one("#incident", TextArea)
        app.post_message(events.Paste("disk full \x1b]52;c;aGFjaw==\x07 and \x1b[2J"))
        # The paste, then the box's Changed handler that neutralises it: two messages, which
        # one pause did not always cover on a loaded machine (seen in a clean-clone CI run).
        await until(pilot, lambda: "\\x1b]52" in incident.text)
        assert "\x1b" not in incident.text and "\x07" not in incident.text
        assert "\\x1b]52;c;aGFjaw==\\x07" in incident.text


# --- walkthroughs: the whole app, as a new user drives it ----------------------------------------


async def test_walkthrough_review_a_file_picked_by_completion_then_rerun_from_the_list(
    fake, tui_env, tmp_path, monkeypatch
):
    fake.script(Reply(text=keyed_review_text("inventory_service.py"), chunk_delay_s=0.001), model="claude-haiku-4-5")
    fake.script(Reply(text=keyed_review_text("inventory_service.py", score=6)), model="gpt-5.4-mini")
    app = DriftcheckApp()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("v")
        app.screen.query_one(Input).value = "sample_code/inventory_s"
        await pilot.press("tab", "enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("down", "enter")  # the second finding: F2, line 35
        assert screen.query_one(CodeView).selection.end == (34, 0)
        await pilot.press("p")
        picker = app.screen
        picker.query_one(OptionList).focus()
        options = [o.id for o in picker.query_one(OptionList).options]
        await pilot.press(*["down"] * options.index(B), "enter")
        await until(pilot, lambda: screen.result is not None and screen.result["provider"] == "openai")
        # ... then export it as Markdown: e, the second format, the path offered.
        monkeypatch.chdir(tmp_path)
        await pilot.press("e", "down", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: list(tmp_path.glob("driftcheck-review-*.md")))
    assert [r.model for r in fake.requests] == ["claude-haiku-4-5", "gpt-5.4-mini"]
    [exported] = tmp_path.glob("driftcheck-review-*.md")
    assert exported.read_text().startswith("#") and "gpt-5.4-mini" in exported.read_text()


async def test_walkthrough_compare_with_a_failing_side_at_80x24_and_read_its_error(fake, tui_env, tmp_path):
    write_private(tmp_path / "config" / "config.toml", f'compare = ["{A}", "{FAILING}"]\n')
    fake.script(Reply(text=keyed_review_text("inventory_service.py")), model="claude-haiku-4-5")
    fake.script(failing_reply(), model="claude-sonnet-4-6")
    app = DriftcheckApp()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("c")
        app.screen.query_one(Input).value = SAMPLE
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await until(pilot, lambda: screen.report is not None)
        await pilot.press("b")
        shown = screen_text(app)
        assert "failed: anthropic:claude-sonnet-4-6: the stream broke" in shown
        assert "characters arrived before the failure" in shown


async def test_walkthrough_triage_a_pasted_incident_with_context_and_a_judge(fake, tui_env):
    fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P1")), model="claude-haiku-4-5")
    fake.script(Reply(text=verdict(5, 4)), model="claude-sonnet-4-6")
    app = DriftcheckApp()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        text = (ROOT / "incidents" / "pg-storage.md").read_text(encoding="utf-8")
        app.post_message(events.Paste(text))  # as a terminal pastes: to the focused widget, the incident box
        await pilot.pause()
        assert screen.query_one("#incident", TextArea).text == text
        for field, value in (("#ctx-users_affected", "all EU users"), ("#spec-a", A), ("#judges", JUDGE)):
            screen.query_one(field, Input).value = value
        await pilot.press("ctrl+r")
        summary = screen.pane("a").query_one(".summary")
        await until(pilot, lambda: "Judge" in text_of(summary))
        assert "P1" in text_of(summary) and "ok" in text_of(screen.pane("a").metrics)
    assert "all EU users" in str(fake.requests[0].body)


async def test_a_pairwise_triage_compare_shows_the_verdict_and_its_position_consistency(fake, tui_env):
    """compare --incident --judge-mode pairwise opens this screen: once both answers are in,
    the judge is asked in both orders and the drift panel says what it chose, and whether
    it held when the order was swapped."""
    fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P1")), model="claude-haiku-4-5")
    fake.script(Reply(text=answer_text("pg-storage.md", "active", severity="P2")), model="gpt-5.4-mini")
    # A judge that prefers whatever it reads first: inconsistent, so not counted.
    pick = json.dumps({"reason": "The first one is sounder.", "better": "first"})
    fake.script(Reply(text=pick), Reply(text=pick), model="claude-sonnet-4-6")
    text = (ROOT / "incidents" / "pg-storage.md").read_text(encoding="utf-8")
    app = DriftcheckApp(
        lambda a: TriageScreen(text=text, spec_a=A, spec_b=B, judges=[JUDGE], judge_mode="pairwise", start=True),
        record=False,
    )
    async with app.run_test(size=WIDE) as pilot:
        drift = app.screen.query_one("#triage-drift", Static)
        await until(pilot, lambda: "pairwise:" in text_of(drift))
        shown = " ".join(text_of(drift).split())
        assert "pairwise: position consistency 0 of 1 judge(s); no verdict" in shown
        assert f"{JUDGE}: inconsistent when the order was swapped (it chose the first answer both times)" in shown
        # No rubric grades in pairwise mode: each judge was asked twice, A first then B first.
        assert [r.model for r in fake.requests].count("claude-sonnet-4-6") == 2


# --- snapshots ------------------------------------------------------------------------------

CONFIG_DIR = "/tmp/driftcheck-screens-snapshot-config"
DATA_DIR = "/tmp/driftcheck-screens-snapshot-data"


@pytest.fixture
def snapshot_env(monkeypatch):
    """A fixed config, one key (a canary), no history: what the screens show is fixed."""
    for key in list(os.environ):
        if key.endswith(("_API_KEY", "_BASE_URL")) or key.startswith("DRIFTCHECK_") or key == "LLM_PROVIDER":
            monkeypatch.delenv(key, raising=False)
    shutil.rmtree(CONFIG_DIR, ignore_errors=True)
    write_private(Path(CONFIG_DIR) / "config.toml", f'default = "{A}"\n')
    monkeypatch.setenv("DRIFTCHECK_CONFIG_DIR", CONFIG_DIR)
    monkeypatch.setenv("DRIFTCHECK_DATA_DIR", DATA_DIR)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-CANARY-snapshot")
    yield
    shutil.rmtree(CONFIG_DIR, ignore_errors=True)
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def streaming(screen: Any, side: str, data: dict[str, Any], count: int) -> None:
    """A side part way through its answer: `count` findings (or actions), some text."""
    from app.review.stored import outcome_from_json

    pane: ResultPane = screen.pane(side)
    spec = f"{data['provider']}:{data['model']}"
    screen.preparing({side: spec})
    pane.show_summary("")
    if data["task"] == "review":
        for finding in outcome_from_json(data).result.findings[:count]:
            pane.findings.add_finding(finding)
    else:
        from app.triage.model import Action

        for n, action in enumerate(data["result"]["actions"][:count]):
            pane.findings.add_item(Action.model_validate(action), n + 1)
    pane.findings.highlighted = 0
    pane.metrics.update(f"[b]{spec}[/] · running 3 s · {count} so far")
    pane.live.line_width = max(20, pane.live.size.width - 2)  # as its resize handler sets it
    pane.live.append(json.dumps(data["result"])[:900])


def finished(screen: Any, sides: dict[str, Any], report: dict[str, Any] | None = None) -> None:
    """The run's end, as a real run reaches it (the screen's own RunEnded handler): not
    running, so the footer offers Back and Export rather than "Cancel run"."""
    from app.tui.runs import RunEnded

    screen.post_message(RunEnded("ok", sides, report))


REVIEW_STATES = {
    "preparing": lambda s: (
        s.preparing({"a": A}),
        s.show_stage(f"loading the anthropic SDK for {A}"),
    ),
    "streaming": lambda s: streaming(s, "a", stored("review.json"), 4),
    "done": lambda s: None,
    "failed": lambda s: s.show_result(stored("compare_failed_side.json")["b"]),
}


@SIZES
@pytest.mark.parametrize("state", list(REVIEW_STATES))
def test_review_screen_snapshots(snap_compare, snapshot_env, size, state):
    app = DriftcheckApp(lambda a: ReviewScreen(SAMPLE, stored=stored("review.json")), record=False)

    async def into_state(pilot):
        await pilot.pause()  # laid out first: the live view cuts lines to its width
        REVIEW_STATES[state](app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=into_state)


@SIZES
@pytest.mark.parametrize("state", ["failed_side", "failed_side_full_screen"])
def test_compare_screen_snapshots(snap_compare, snapshot_env, size, state):
    report = stored("compare_failed_side.json")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, B, FAILING, stored=report), record=False)
    keys = ["b"] if state == "failed_side_full_screen" else []
    assert snap_compare(app, terminal_size=size, press=keys)


@SIZES
def test_a_notification_at_80x24_is_on_the_notes_strip_not_over_the_panes(snap_compare, snapshot_env, size):
    report = stored("compare_failed_side.json")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, B, FAILING, stored=report), record=False)

    async def notify(pilot):
        await pilot.pause()
        app.notify("Saved to /tmp/driftcheck-compare.md", title="Export", markup=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=notify)


@SIZES
def test_compare_screen_streaming_snapshot(snap_compare, snapshot_env, size):
    report = stored("compare_report.json")
    app = DriftcheckApp(lambda a: CompareScreen(SAMPLE, A, B, stored=report), record=False)

    async def into_state(pilot):
        await pilot.pause()
        streaming(app.screen, "a", report["a"], 5)
        streaming(app.screen, "b", report["b"], 3)
        app.screen.specs = {"a": A, "b": B}
        app.screen.query_one("#drift-summary", Static).update("The drift report appears when both sides have finished.")
        app.screen.query_one("#pairs", OptionList).clear_options()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=into_state)


TRIAGE_STATES = {
    "idle": lambda s: None,
    "running": lambda s: (s.make_room(), streaming(s, "a", stored("triage.json"), 2)),
    "done": lambda s: (
        streaming(s, "a", stored("triage.json"), 99),
        s.pane("a").show_triage(stored("triage.json")),
        s.query_one("#triage-form").add_class("hidden"),  # F3: the results take the width
        finished(s, {"a": stored("triage.json")}),
    ),
}


@SIZES
@pytest.mark.parametrize("state", list(TRIAGE_STATES))
def test_triage_screen_snapshots(snap_compare, snapshot_env, size, state):
    text = (ROOT / "incidents" / "pg-storage.md").read_text(encoding="utf-8")
    app = DriftcheckApp(
        lambda a: TriageScreen(text=text, spec_a=A, context={"users_affected": "all EU users"}), record=False
    )

    async def into_state(pilot):
        await pilot.pause()
        app.screen.query_one("#incident", TextArea).cursor_blink = False  # the same frame every time
        TRIAGE_STATES[state](app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=into_state)


def pairwise_report() -> dict[str, Any]:
    """A triage compare judged pairwise: the stored triage on both sides, B's severity
    changed; one judge held its verdict when the order was swapped, one chose the first
    answer both times."""
    from app.calls.metrics import metrics_dict
    from app.compare.report import compare_report
    from app.triage.pairwise import pairwise_summary

    a = stored("triage.json")
    b = {**a, "provider": "openai", "model": "gpt-5.4-mini", "result": {**a["result"], "severity": "P2"}}

    def verdict(judge: str, a_first: str, b_first: str) -> dict[str, Any]:
        consistent = a_first == b_first
        return {
            "judge": judge,
            "status": "ok",
            "a_first": a_first,
            "b_first": b_first,
            "consistent": consistent,
            "winner": a_first if consistent else "inconsistent",
            "position_bias": None if consistent else "first",
            "error": None,
            "metrics": metrics_dict(None),
        }

    judged = pairwise_summary([verdict(JUDGE, "b", "b"), verdict("openai:gpt-5.5", "a", "b")])
    return compare_report("triage", {"a": [a], "b": [b]}, pairwise=judged)


@SIZES
def test_triage_compare_pairwise_snapshot(snap_compare, snapshot_env, size):
    report = pairwise_report()
    text = (ROOT / "incidents" / "pg-storage.md").read_text(encoding="utf-8")
    app = DriftcheckApp(
        lambda a: TriageScreen(text=text, spec_a=A, spec_b=B, judges=[JUDGE], judge_mode="pairwise"), record=False
    )

    async def into_state(pilot):
        await pilot.pause()
        screen = app.screen
        screen.query_one("#incident", TextArea).cursor_blink = False
        screen.make_room()
        screen.query_one("#triage-form").add_class("hidden")
        screen.pane("b").remove_class("hidden")  # as a run with two providers shows it
        for side in ("a", "b"):
            streaming(screen, side, report[side], 99)
            screen.pane(side).show_triage(report[side])
        finished(screen, {"a": report["a"], "b": report["b"]}, report)  # shows the drift
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=into_state)
