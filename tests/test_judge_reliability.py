"""Judge reliability: the agreement statistics against published values, a judge that
favours its own model family found by its offset and dropped by --no-self-judging, and
the reference answer a judge reads redacted like everything else that leaves the machine."""

from __future__ import annotations

import json

import pytest

from app.eval.agreement import krippendorff_alpha, spearman, weighted_kappa
from tests.conftest import write_private
from tests.fake_triage import active_answer, verdict
from tests.fakeserver import Reply
from tests.secret_corpus import AWS_KEY_ID

# --- the statistics, against published values -------------------------------------------------


def test_weighted_kappa_gives_the_published_values():
    # Maple's EssayTools[QuadraticWeightedKappa] help page, examples 1 and 2 (scale taken
    # from the data): 0.758620689655172 and 0.438095238095238.
    essays = [9, 7, 8, 7, 6, 8, 3, 5, 10]
    assert weighted_kappa(essays, [8, 8, 6, 6, 7, 6, 1, 4, 8]) == pytest.approx(0.758620689655172, abs=1e-12)
    assert weighted_kappa(essays, [3, 5, 6, 6, 7, 6, 1, 4, 8]) == pytest.approx(0.438095238095238, abs=1e-12)
    # Two categories: weighted kappa is Cohen's kappa, whatever the weights. Wikipedia's
    # "Cohen's kappa" worked example (50 proposals: 20 yes/yes, 5 yes/no, 10 no/yes,
    # 15 no/no) gives 0.4.
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert weighted_kappa(a, b) == pytest.approx(0.4) and weighted_kappa(a, b, weights="linear") == pytest.approx(0.4)
    assert weighted_kappa([3, 3, 3], [3, 3, 3]) is None  # nothing to agree on beyond chance
    assert weighted_kappa([4, 4], [4, 5], low=1, high=5) == pytest.approx(0.0)  # one side constant: chance level


def test_krippendorff_alpha_gives_the_published_values_with_missing_data():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example of
    # four observers, twelve units and missing values: nominal 0.743, ordinal 0.815,
    # interval 0.849.
    n = None
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    units = list(zip(*observers, strict=True))
    assert round(krippendorff_alpha(units, level="nominal"), 3) == 0.743
    assert round(krippendorff_alpha(units, level="ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(units, level="interval"), 3) == 0.849
    assert krippendorff_alpha([[2, 2], [2, 2]]) is None and krippendorff_alpha([[1], [2, None]]) is None


def test_spearman_uses_average_ranks_for_ties():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 - 6*2/(4*15)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


# --- a judge that favours its own family -------------------------------------------------------

MINI, HAIKU = "openai:gpt-5.4-mini", "anthropic:claude-haiku-4-5"
PARTIAL, NEUTRAL = "openai:gpt-5.5", "lab:qwen2.5-72b"  # an OpenAI judge, and one of a third family
ITEMS = ("cdn-404s.md", "kafka-lag.md", "pg-storage.md")
INCIDENT = "incidents/cdn-404s.md"


def _script_panel(fake) -> None:
    """Both models answer alike; the neutral judge gives everything 4/4, the partial judge
    gives OpenAI's answers 5/5 and the others 4/4 (its offset is all on its own family)."""
    from tests.fake_eval import first_line, marker

    for incident in ITEMS:
        line = first_line(incident)
        for model in (MINI, HAIKU):
            own = model == MINI
            fake.reply_when(
                "gpt-5.5",
                ("You grade an incident-triage answer", marker(model).strip(), line),
                Reply(text=verdict(5, 5) if own else verdict(4, 4)),
            )
            fake.reply_when(
                "qwen2.5-72b",
                ("You grade an incident-triage answer", marker(model).strip(), line),
                Reply(text=verdict(4, 4)),
            )
            fake.reply_when(
                model.split(":")[1], (line,), Reply(text=json.dumps(active_answer(incident, note=marker(model))))
            )


def _eval(fake, run_cli, tmp_path, *extra: str) -> dict:
    write_private(tmp_path / "config" / "config.toml", f'[endpoints.lab]\nbase_url = "{fake.openai_base_url}"\n')
    _script_panel(fake)
    result = run_cli(
        "eval",
        "--models",
        f"{MINI},{HAIKU}",
        "--judges",
        f"{PARTIAL},{NEUTRAL}",
        "--set",
        *(f"incidents/{i}" for i in ITEMS),
        "--format",
        "json",
        *extra,
        timeout=120,
    )
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_judge_favouring_its_own_family_shows_in_its_offset(fake, run_cli, tmp_path):
    report = _eval(fake, run_cli, tmp_path)
    [task] = report["tasks"]
    reliability = task["judges"]["reliability"]
    assert reliability["statistic"] == "weighted_kappa"  # two judges
    offset = reliability["offsets"][PARTIAL]
    assert (offset["own_family_total"], offset["other_families_total"]) == (2.0, 0.0)
    assert offset["total"] == 1.0 and offset["answers"] == 6
    assert reliability["offsets"][NEUTRAL]["total"] == -1.0
    # Kappa on the totals: the partial judge gives 10 or 8, the neutral one always 8 —
    # one side constant, so agreement is at chance level exactly.
    assert reliability["dimensions"]["total"]["kappa"] == 0.0
    assert reliability["dimensions"]["total"]["reading"] == "unreliable"
    # The references rank every answer alike (full coverage): no ranking to compare.
    assert reliability["against_key"][PARTIAL] == {"rho": None, "answers": 6}
    assert reliability["independent_judges"] == {MINI: 2, HAIKU: 2}
    assert any(
        line.startswith(f"own family: {PARTIAL} grades answers of its own family +2") for line in reliability["text"]
    )
    rows = {row["model"]: row for row in task["models"]}
    assert (rows[MINI]["quality"]["mean"], rows[HAIKU]["quality"]["mean"]) == (9.0, 8.0)  # the bias shows as a gap

    text = run_cli("history", "show", report["run_id"]).stdout  # the stored report renders the same lines for a person
    assert f"own family: {PARTIAL}" in text and "judges' agreement over 6 answer(s)" in text


def test_no_self_judging_drops_the_judge_from_its_own_familys_answers(fake, run_cli, tmp_path):
    report = _eval(fake, run_cli, tmp_path, "--no-self-judging")
    assert report["plan"]["self_judging"] is False
    graded = [r for r in fake.requests if r.model == "gpt-5.5"]
    assert len(graded) == len(ITEMS)  # Haiku's answers only: never GPT-5.4-mini's
    [task] = report["tasks"]
    rows = {row["model"]: row for row in task["models"]}
    assert (rows[MINI]["quality"]["mean"], rows[HAIKU]["quality"]["mean"]) == (8.0, 8.0)  # the gap was the bias
    reliability = task["judges"]["reliability"]
    assert reliability["independent_judges"] == {MINI: 1, HAIKU: 2}
    assert "no judge graded its own family" in reliability["text"][-1]
    assert report["cells"]["grades_skipped"] == 0 and report["status"] == "ok"


# --- what a judge reads leaves the machine too ---------------------------------------------------


def test_a_secret_in_the_reference_answer_is_redacted_for_a_remote_judge(fake, run_cli, tmp_path):
    reference = tmp_path / "incident.md.reference.toml"
    reference.write_text(
        'title = "t"\ndifficulty = "simple"\n'
        f'root_cause = "the job used the leaked key {AWS_KEY_ID} after rotation"\n'
        'key_signals = ["403s"]\n'
        '[[must_make]]\npoint = "Rotate the key"\nkeywords = ["rotate"]\n'
        '[[must_not]]\naction = "Delete the bucket"\nkeywords = ["delete the bucket"]\n'
    )
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="claude-haiku-4-5")
    fake.script(Reply(text=verdict(4, 4)), model="gpt-5.4-mini")
    result = run_cli(
        "triage",
        "incidents/cdn-404s.md",
        "-p",
        HAIKU,
        "--reference",
        str(reference),
        "--judge",
        MINI,
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    judge_body = json.dumps(next(r.body for r in fake.requests if r.model == "gpt-5.4-mini"))
    assert "Root cause: the job used the leaked key" in judge_body  # the judge read the reference
    assert AWS_KEY_ID not in judge_body and "[REDACTED" in judge_body
    assert "the reference answer incident.md.reference.toml" in result.stderr  # and the user was told


async def test_an_eval_judge_reads_the_answer_key_redacted(make_provider, tmp_path):
    from app.eval.items import EvalItem
    from app.eval.tasks import judge_subject
    from app.source.inputs import read_text_file
    from app.triage.reference import load_reference

    incident = tmp_path / "incident.md"
    incident.write_text("Uploads fail with 403 since 09:00.\n")
    reference = tmp_path / "incident.md.reference.toml"
    reference.write_text(
        f'title = "t"\ndifficulty = "simple"\nroot_cause = "key {AWS_KEY_ID} was revoked"\nkey_signals = []\n'
    )
    item = EvalItem(
        id="incident.md",
        task="triage",
        path=incident,
        difficulty="simple",
        text_input=read_text_file(str(incident)),
        reference=load_reference(reference),
    )
    notes = []
    reads = judge_subject(item, make_provider(MINI), allow_secrets=False, notify=notes.append)
    assert AWS_KEY_ID not in reads.reference and "[REDACTED" in reads.reference
    assert any("answer key of incident.md" in n.text for n in notes)


# --- pairwise judging ----------------------------------------------------------------------------


def _pick(better: str, **usage: int) -> Reply:
    return Reply(text=json.dumps({"reason": f"The {better} one is sounder.", "better": better}), **usage)


def test_pairwise_mode_reports_a_position_biased_judge_as_inconsistent(fake, run_cli):
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md", severity="P1"))), model="claude-haiku-4-5")
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md", harmful=True))), model="gpt-5.4-mini")
    # The biased judge prefers whatever it reads first; the other prefers B in both orders
    # (A first: "second"; then B first: "first").
    fake.script(
        _pick("first", input_tokens=1000, output_tokens=40),
        _pick("first", input_tokens=1200, output_tokens=60),
        model="gpt-5.5",
    )
    fake.script(_pick("second"), _pick("first"), model="claude-sonnet-4-6")
    judges = ("--judge", PARTIAL, "--judge", "anthropic:claude-sonnet-4-6", "--judge-mode", "pairwise")
    result = run_cli("compare", "--incident", INCIDENT, "-a", HAIKU, "-b", MINI, *judges, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["a"]["judges"] == [] and report["b"]["judges"] == []  # no pointwise grades
    pairwise = report["pairwise"]
    verdicts = {v["judge"]: v for v in pairwise["judges"]}
    biased, steady = verdicts[PARTIAL], verdicts["anthropic:claude-sonnet-4-6"]
    assert (biased["a_first"], biased["b_first"], biased["consistent"]) == ("a", "b", False)
    assert biased["position_bias"] == "first" and biased["winner"] == "inconsistent"
    # Both orders were paid for: the verdict's metrics hold the two calls, not the second alone.
    assert (biased["metrics"]["input_tokens"], biased["metrics"]["output_tokens"]) == (2200, 100)
    assert (steady["a_first"], steady["b_first"], steady["winner"]) == ("b", "b", "b")
    assert pairwise["position_consistency"] == 0.5 and pairwise["winner"] == "b"
    assert pairwise["votes"] == {"a": 0, "b": 1, "tie": 0}
    # Both orders were really asked: A's answer first in one request, B's in the other.
    asked = [r.body["messages"][-1]["content"] for r in fake.requests if r.model == "gpt-5.5"]
    assert len(asked) == 2 and asked[0] != asked[1]
    assert asked[0].index('"P1"') < asked[0].index("Second answer")  # A (severity P1) first
    assert asked[1].index('"P1"') > asked[1].index("Second answer")  # then B first

    # Against the stored A side, in words: the biased judge is named and not counted.
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md", harmful=True))), model="gpt-5.4-mini")
    fake.script(_pick("first"), _pick("first"), model="gpt-5.5")
    run_id = result.stderr.split("recorded as ", 1)[1].split()[0]
    text = run_cli(
        "compare",
        "--incident",
        "incidents/cdn-404s.md",
        "--baseline",
        f"{run_id}:a",
        "-b",
        MINI,
        "--judge",
        PARTIAL,
        "--judge-mode",
        "pairwise",
        "--no-tui",
    )
    assert text.code == 0, text.stderr
    shown = " ".join(text.stdout.split())
    assert "pairwise: position consistency 0 of 1 judge(s); no verdict" in shown
    assert "inconsistent when the order was swapped (it chose the first answer both times)" in shown
    assert "why they differ: " in shown  # against a baseline, the attribution too


def test_eval_pairwise_sets_each_model_against_the_first_in_both_orders(fake, run_cli):
    """eval --judge-mode pairwise reuses compare's pairwise judging: per model against the
    baseline (the first model), the position consistency and a position-biased judge."""
    sonnet = "anthropic:claude-sonnet-4-6"
    for _ in range(2):  # --repeat 2, one request at a time (--concurrency 1): scripts in turn
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md", severity="P1"))), model="claude-haiku-4-5")
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="gpt-5.4-mini")
        fake.script(_pick("first"), _pick("first"), model="gpt-5.5")  # whatever it reads first
        fake.script(_pick("second"), _pick("first"), model="claude-sonnet-4-6")  # B (mini) in both orders
    args = ("eval", "--models", f"{HAIKU},{MINI}", "--judges", f"{PARTIAL},{sonnet}", "--judge-mode", "pairwise")
    args += ("--set", "incidents/cdn-404s.md", "--repeat", "2", "--concurrency", "1")
    result = run_cli(*args, "--format", "json", timeout=120)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["plan"]["judge_mode"] == "pairwise"
    # Two verdicts per judge and cell, each two requests; the baseline's answers are not judged.
    assert sum(1 for r in fake.requests if r.model in ("gpt-5.5", "claude-sonnet-4-6")) == 8
    [task] = report["tasks"]
    assert task["measure"] == "reference" and task["judges"] is None  # no rubric grades to measure with
    [against] = task["pairwise"]
    assert {k: v for k, v in against.items() if k != "text"} == {
        "model": MINI,
        "against": HAIKU,
        "verdicts": 4,
        "failed": 0,
        "consistent": 2,
        "position_consistency": 0.5,
        "better_model": 2,
        "better_against": 0,
        "ties": 0,
        "position_bias": {"first": 2, "second": 0},
        "winner": "model",
    }
    assert against["text"] == (
        f"{MINI} against {HAIKU}: position consistency 2 of 4 verdict(s) (50%); of those, better 2, "
        "worse 0, tie 0: better; 2 chose the first answer both times"
    )
    for _ in range(2):
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md", severity="P1"))), model="claude-haiku-4-5")
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="gpt-5.4-mini")
        fake.script(_pick("first"), _pick("first"), model="gpt-5.5")
        fake.script(_pick("second"), _pick("first"), model="claude-sonnet-4-6")
    shown = run_cli(*args, "--format", "markdown", timeout=120)
    assert shown.code == 0, shown.stderr
    assert f"- pairwise against {HAIKU} (each verdict asked in both orders):" in shown.stdout
    assert f"  - {MINI} against {HAIKU}: position consistency 2 of 4" in shown.stdout
    # Pairwise needs judges and a second model.
    refused = run_cli("eval", "--models", HAIKU, "--judges", PARTIAL, "--judge-mode", "pairwise")
    assert refused.code == 2 and "two or more --models" in refused.stderr


def test_a_failed_pairwise_judge_fails_the_compare_unless_judges_are_optional(fake, run_cli):
    from tests.fakeserver import unauthorized

    args = ("compare", "--incident", "incidents/cdn-404s.md", "-a", HAIKU, "-b", MINI, "--judge", PARTIAL)
    for optional, code in ((False, 3), (True, 0)):
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="claude-haiku-4-5")
        fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="gpt-5.4-mini")
        fake.script(unauthorized(), unauthorized(), model="gpt-5.5")
        extra = ("--judge-optional",) if optional else ()
        result = run_cli(*args, "--judge-mode", "pairwise", "--format", "json", *extra)
        assert result.code == code, result.stderr
        assert f"pairwise: judge {PARTIAL} failed" in result.stderr
        assert json.loads(result.stdout)["pairwise"]["winner"] is None


def test_no_self_judging_in_a_triage_and_a_pairwise_compare_leaves_out_the_family_judge(fake, run_cli):
    sonnet = "anthropic:claude-sonnet-4-6"
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="claude-haiku-4-5")
    fake.script(Reply(text=verdict(4, 4)), model="gpt-5.5")
    judges = ("--judge", PARTIAL, "--judge", sonnet, "--no-self-judging")
    result = run_cli("triage", INCIDENT, "-p", HAIKU, *judges, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [j["judge"] for j in data["judges"]] == [PARTIAL] and data["judges_dropped"] == [sonnet]
    assert not [r for r in fake.requests if r.model == "claude-sonnet-4-6"]  # never asked

    # Pairwise: Haiku (Anthropic) against GPT-5.4-mini (OpenAI) leaves neither judge.
    fake.requests.clear()
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="claude-haiku-4-5")
    fake.script(Reply(text=json.dumps(active_answer("cdn-404s.md"))), model="gpt-5.4-mini")
    pairwise = ("--judge-mode", "pairwise")
    result = run_cli("compare", "--incident", INCIDENT, "-a", HAIKU, "-b", MINI, *judges, *pairwise, "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pairwise"]["judges"] == [] and report["pairwise"]["winner"] is None
    assert {r.model for r in fake.requests} == {"claude-haiku-4-5", "gpt-5.4-mini"}
