"""The statistics of app.compare.significance against published values, and the power
statements against a simulation of the very interval the report uses."""

from __future__ import annotations

import math
import random
from statistics import NormalDist, mean, pstdev, stdev

import pytest

from app.compare.significance import (
    benjamini_hochberg,
    clustered_interval,
    clustered_se,
    difference_interval,
    fisher_exact,
    incomplete_beta,
    minimum_detectable,
    repeats_to_detect,
    t_cdf,
    t_quantile,
)
from tests.fake_eval import eval_plan, review_cell, triage_cell


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        # Two-sided 95 % and one-sided 80 % critical values of Student's t, from the table
        # in the NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.6.7.2.
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.975, 4, 2.776),
        (0.975, 10, 2.228),
        (0.975, 30, 2.042),
        (0.80, 10, 0.879),
        (0.995, 5, 4.032),
    ],
)
def test_t_quantiles_match_the_printed_table(p, df, expected):
    assert round(t_quantile(p, df), 3) == expected
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
    assert t_quantile(1 - p, df) == pytest.approx(-t_quantile(p, df))


def test_incomplete_beta_special_cases():
    # I_x(1, 1) = x (the uniform distribution), and the symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
    assert incomplete_beta(1, 1, 0.3) == pytest.approx(0.3)
    assert incomplete_beta(2.5, 0.5, 0.7) == pytest.approx(1 - incomplete_beta(0.5, 2.5, 0.3))
    # The t CDF with one degree of freedom is the Cauchy CDF: 1/2 + atan(t)/π.
    assert t_cdf(1.7, 1) == pytest.approx(0.5 + math.atan(1.7) / math.pi)


def test_fisher_exact_on_the_lady_tasting_tea():
    # Fisher (1935), The Design of Experiments, ch. 2: 3 of 4 cups right against 1 of 4;
    # the two-sided p is 0.486 (Agresti, Categorical Data Analysis, the tea-tasting example).
    assert round(fisher_exact(3, 4, 1, 4), 3) == 0.486
    # A side finding it in 5 of 5 runs and the other in 0 of 5: only the two extreme
    # tables of C(10, 5) = 252 are as unlikely, p = 2/252.
    assert fisher_exact(5, 5, 0, 5) == pytest.approx(2 / 252)
    assert fisher_exact(3, 5, 2, 5) == pytest.approx(1.0)
    assert fisher_exact(4, 5, 0, 5) == pytest.approx(12 / 252)
    assert fisher_exact(2, 2, 0, 2) == pytest.approx(1 / 3)


def test_benjamini_hochberg_on_the_papers_example():
    # Benjamini & Hochberg (1995), JRSS B 57:289, section 4: fifteen p-values from a
    # myocardial-infarction study; at a false-discovery rate of 0.05 the first four are
    # discoveries (Bonferroni keeps three).
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528]
    p += [0.7590, 1.000]
    q = benjamini_hochberg(p)
    assert sum(1 for value in q if value <= 0.05) == 4
    assert q[0] == pytest.approx(0.0015) and q[3] == pytest.approx(0.035625)
    # Order does not matter, and adjusted values never fall below the raw ones.
    shuffled = [p[i] for i in (14, 3, 0, 7, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13)]
    assert benjamini_hochberg(shuffled)[2] == q[0]
    assert all(qv >= pv for pv, qv in zip(p, q, strict=True))


def test_welch_interval_matches_the_reference_computation():
    # B − A for A = 3, 4, 3, 5 and B = 6, 7, 7: Welch's interval (Welch 1947) as
    # scipy.stats.ttest_ind(b, a, equal_var=False).confidence_interval() gives it, computed
    # once by hand for this test: 1.406960 to 4.426373 on 4.890 degrees of freedom.
    interval = difference_interval([3, 4, 3, 5], [6, 7, 7])
    assert interval is not None
    assert interval.estimate == pytest.approx(35 / 12)
    assert (round(interval.low, 4), round(interval.high, 4), round(interval.df, 3)) == (1.407, 4.4264, 4.89)
    assert difference_interval([3], [4, 5]) is None  # one run: no spread, no interval
    same = difference_interval([4, 4, 4], [6, 6, 6])
    assert same is not None and same.low == same.high == 2


def test_clustered_standard_error_follows_the_formula():
    # One value per cluster: the plain standard error, √(Σ(x − x̄)²)/n.
    values = [3.0, 5.0, 4.0, 8.0]
    assert clustered_se([[v] for v in values]) == pytest.approx(pstdev(values) / math.sqrt(len(values)))
    # Runs that copy each other add no information: three identical runs on each of four
    # inputs give √3 times the naive standard error (Miller 2024, arXiv 2411.00640, 2.2:
    # the clustered SE grows with the within-cluster correlation).
    copies = [[v] * 3 for v in values]
    naive = pstdev([x for c in copies for x in c]) / math.sqrt(12)
    assert clustered_se(copies) == pytest.approx(naive * math.sqrt(3))
    # By hand: values 1, 3 | 2, 6; mean 3; cluster sums of deviations −2 and 2; SE = √8/4.
    assert clustered_se([[1, 3], [2, 6]]) == pytest.approx(math.sqrt(8) / 4)


def test_clustered_interval_is_the_paired_t_interval_with_one_run_per_input():
    diffs = [0.5, -1.0, 2.0, 1.5, 0.0, 1.0]
    interval = clustered_interval([[d] for d in diffs])
    assert interval is not None
    se = pstdev(diffs) * math.sqrt(len(diffs) / (len(diffs) - 1)) / math.sqrt(len(diffs))
    half = t_quantile(0.975, len(diffs) - 1) * se
    assert (interval.low, interval.high) == (pytest.approx(mean(diffs) - half), pytest.approx(mean(diffs) + half))
    assert clustered_interval([[1.0, 2.0]]) is None  # one input: no spread between inputs


def _simulated_power(n: int, sd_a: float, sd_b: float, delta: float, trials: int = 1500) -> float:
    rng = random.Random(20261130)
    hits = 0
    for _ in range(trials):
        a = [rng.gauss(0.0, sd_a) for _ in range(n)]
        b = [rng.gauss(delta, sd_b) for _ in range(n)]
        interval = difference_interval(a, b)
        assert interval is not None
        hits += interval.excludes_zero
    return hits / trials


@pytest.mark.parametrize(("n", "sd_a", "sd_b"), [(3, 1.0, 1.0), (5, 0.5, 1.5), (8, 1.0, 1.0)])
def test_the_detectable_difference_is_detected_80_percent_of_the_time(n, sd_a, sd_b):
    detectable = minimum_detectable(sd_a, sd_b, n)
    assert detectable is not None
    # The approximation is a little optimistic at three runs (see minimum_detectable).
    low = 0.70 if n == 3 else 0.76
    assert low <= _simulated_power(n, sd_a, sd_b, detectable) <= 0.84
    # No difference: the interval excludes zero about 5 % of the time.
    assert _simulated_power(n, sd_a, sd_b, 0.0) <= 0.08


def test_repeats_to_detect_is_the_first_n_whose_detectable_difference_is_small_enough():
    n = repeats_to_detect(1.0, 1.0, 1.0)
    assert n is not None and n > 3
    first, before = minimum_detectable(1.0, 1.0, n), minimum_detectable(1.0, 1.0, n - 1)
    assert first is not None and before is not None and first <= 1.0 < before
    assert minimum_detectable(1.0, 1.0, 2) is None  # two runs a side: too few to plan on
    assert minimum_detectable(0.0, 0.0, 5) is None  # no spread: nothing to scale
    assert repeats_to_detect(10.0, 10.0, 0.1) is None  # more than any advice would ask


# --- the eval recommendation with intervals ------------------------------------------------------


def test_every_model_is_set_against_the_recommended_one_with_an_interval():
    from app.eval.report import eval_report

    best, cheap = "openai:best", "openai:cheap"
    cheap_scores = [8, 7, 9, 8, 7]  # per input; best scores 8 on every one, both runs alike
    records = [
        cell
        for n, score in enumerate(cheap_scores)
        for run in (0, 1)
        for cell in (triage_cell(best, f"i{n}", run, 8, 0.008), triage_cell(cheap, f"i{n}", run, score, 0.005))
    ]
    plan = eval_plan([best, cheap], [f"i{n}" for n in range(5)], task="triage", repeat=2, judges=["openai:judge"])
    task = next(t for t in eval_report(plan, records, run_id=None)["tasks"])
    rec = task["recommendation"]
    assert rec["model"] == cheap  # not distinguishable from the best, and cheaper
    [against] = rec["against_recommended"]
    # best − cheap per input, its two runs one cluster: with identical runs the clustered
    # interval is the paired t interval over the five inputs (t on 4 degrees of freedom).
    diffs = [8 - s for s in cheap_scores]
    half = t_quantile(0.975, 4) * stdev(diffs) / math.sqrt(5)
    assert against["model"] == best and against["against"] == cheap and against["items"] == 5
    assert against["quality_difference"]["estimate"] == round(mean(diffs), 2)
    assert against["quality_difference"]["half_width"] == round(half, 2)
    assert against["cost_ratio"] == 1.6
    # No answer key on a triage: no recall or precision interval.
    assert against["recall_difference"] is None and against["precision_difference"] is None
    # ... and the gap these five inputs could see, from the same standard error (A&S 26.7.10).
    se = stdev(diffs) / math.sqrt(5)
    t = t_quantile(0.975, 4)
    detectable = se * (t + NormalDist().inv_cdf(0.8) * math.sqrt(1 + t * t / 8))
    assert against["detectable"] == round(detectable, 2)
    assert against["text"] == (
        f"openai:best: 60% dearer, quality +0.2 ± {half:.1f} (95 %), not distinguishable; "
        f"over 5 inputs a gap under {detectable:.1f} is invisible at 80 % power"
    )

    # The cheap model against an expensive recommended one reads as the example.
    records = [
        cell
        for n, score in enumerate(cheap_scores)
        for run in (0, 1)
        for cell in (triage_cell(best, f"i{n}", run, 8, 0.008), triage_cell(cheap, f"i{n}", run, score - 2, 0.005))
    ]
    rec = next(t for t in eval_report(plan, records, run_id=None)["tasks"])["recommendation"]
    [against] = rec["against_recommended"]
    assert rec["model"] == best and against["text"].startswith("openai:cheap: 38% cheaper, quality -2.2 ± ")
    assert "(95 %), worse; over 5 inputs a gap under" in against["text"]


def test_recall_and_precision_against_the_recommended_one_are_clustered_by_input():
    from app.compare.significance import clustered_interval
    from app.eval.report import eval_report

    best, cheap = "openai:best", "openai:cheap"
    # Per input and run: the cheap model's recall (the best one's is 1.0, precision 1.0).
    cheap_recall = [[0.5, 1.0], [1.0, 1.0], [0.5, 0.5], [1.0, 0.5]]
    cheap_precision = [[1.0, 1.0], [0.5, 1.0], [1.0, 1.0], [1.0, 1.0]]
    records = [
        cell
        for n in range(4)
        for run in (0, 1)
        for cell in (
            review_cell(best, f"f{n}", run, recall=1.0, precision=1.0, cost=0.008),
            review_cell(
                cheap, f"f{n}", run, recall=cheap_recall[n][run], precision=cheap_precision[n][run], cost=0.004
            ),
        )
    ]
    plan = eval_plan([best, cheap], [f"f{n}" for n in range(4)], task="review", repeat=2, judges=[])
    rec = eval_report(plan, records, run_id=None)["tasks"][0]["recommendation"]
    [against] = rec["against_recommended"]
    chosen = rec["model"]
    other = best if chosen == cheap else cheap
    sign = 1 if other == cheap else -1
    # The same clustered interval as quality's (each input's runs one cluster, CR1, t on C − 1).
    recall = clustered_interval([[sign * (r - 1.0) for r in runs] for runs in cheap_recall])
    precision = clustered_interval([[sign * (p - 1.0) for p in runs] for runs in cheap_precision])
    assert recall is not None and precision is not None
    assert against["recall_difference"] == recall.as_dict(2)
    assert against["precision_difference"] == precision.as_dict(2)
    assert against["text"].endswith(
        f"; answer keys: recall {recall.estimate:+.2f} ± {recall.half_width:.2f}, "
        f"precision {precision.estimate:+.2f} ± {precision.half_width:.2f} (95 %, clustered by input)"
    )
    # Cross-check the clustering against the formula by hand: Σ_c (Σ_i (x_ic − x̄))² / n², CR1.
    values = [sign * (r - 1.0) for runs in cheap_recall for r in runs]
    grand = mean(values)
    se = math.sqrt(sum(sum(sign * (r - 1.0) - grand for r in runs) ** 2 for runs in cheap_recall)) / len(values)
    assert recall.se == pytest.approx(se * math.sqrt(4 / 3))
