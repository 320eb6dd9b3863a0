"""The statistics behind drift you can trust, written with the standard library (no
dependency of driftcheck offers them: scipy is not one, and these are a few dozen lines).

- Student's t distribution (CDF and quantiles) through the regularised incomplete beta
  function, for confidence intervals and power.
- Fisher's exact test on a 2x2 table: did one side find an issue in more runs than the
  other beyond what chance explains?
- Benjamini-Hochberg adjusted p-values: the false-discovery control across many findings.
- Welch's interval for the difference of two means (each side's runs), and the
  clustered standard error of a mean (several inputs, several runs of each).
- The minimum detectable difference at a given N and the N that detects a given
  difference (power of the two-sided Welch interval, normal approximation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, mean, variance

LEVEL = 0.95  # confidence level of every interval
POWER = 0.80  # the power a "detectable" difference is stated at
MAX_REPEAT_ADVICE = 200  # beyond this many runs, "N=…" advice says "more than 200"
MIN_RUNS_FOR_POWER = 3  # with two runs a side, one spread estimate is too shaky to plan on


# --- Student's t ---------------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # Lentz's method for the continued fraction of I_x(a, b): Press et al., Numerical
    # Recipes (3rd ed., 2007), section 6.4, routine betacf.
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (Numerical Recipes 6.4, betai)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom (Abramowitz & Stegun 26.7.1
    written with the incomplete beta: P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2))."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_pdf(t: float, df: float) -> float:
    log_front = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_front - (df + 1) / 2 * math.log1p(t * t / df))


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: Newton's method on the CDF from the normal quantile, with
    bisection as the fallback when a step leaves the bracket (so it cannot diverge)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    low, high = -1.0, 1.0
    while t_cdf(low, df) > p:
        low *= 2.0
    while t_cdf(high, df) < p:
        high *= 2.0
    t = min(max(NormalDist().inv_cdf(p), low), high)
    for _ in range(100):
        error = t_cdf(t, df) - p
        if abs(error) < 1e-14:
            break
        if error < 0:
            low = t
        else:
            high = t
        step = t - error / t_pdf(t, df)
        t = step if low < step < high else (low + high) / 2.0
        if high - low < 1e-12:
            break
    return t


# --- Fisher's exact test and the false-discovery rate ---------------------------------------


def fisher_exact(found_a: int, runs_a: int, found_b: int, runs_b: int) -> float:
    """Two-sided p-value of Fisher's exact test on [[found_a, runs_a - found_a], [found_b,
    runs_b - found_b]]: the chance, with both margins fixed, of a table as unlikely as this
    one (Fisher 1935; the "sum of the small p" rule R's fisher.test uses, with its 1e-7
    relative tolerance so tables of equal probability are not split by rounding)."""
    found = found_a + found_b
    total = runs_a + runs_b

    def probability(k: int) -> float:  # hypergeometric: k of the `found` in side A's rows
        return math.comb(runs_a, k) * math.comb(runs_b, found - k) / math.comb(total, found)

    observed = probability(found_a)
    possible = range(max(0, found - runs_b), min(found, runs_a) + 1)
    p = sum(q for k in possible if (q := probability(k)) <= observed * (1 + 1e-7))
    return min(1.0, p)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (q-values) of the Benjamini-Hochberg step-up procedure (Benjamini
    & Hochberg 1995, JRSS B 57:289): q_(i) = min over j >= i of m/j · p_(j), at most 1.
    Calling every finding with q <= Q a discovery keeps the false-discovery rate at Q."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


# --- intervals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    df: float | None  # the t distribution's degrees of freedom; None when exact (no spread)
    se: float = 0.0  # the standard error the interval was built from

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self, digits: int = 3) -> dict[str, float | None]:
        return {
            "estimate": round(self.estimate, digits),
            "low": round(self.low, digits),
            "high": round(self.high, digits),
            "half_width": round(self.half_width, digits),
            "level": LEVEL,
        }


def welch_df(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch-Satterthwaite degrees of freedom (Welch 1947, Biometrika 34:28)."""
    ua, ub = var_a / n_a, var_b / n_b
    return (ua + ub) ** 2 / (ua**2 / (n_a - 1) + ub**2 / (n_b - 1))


def difference_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval | None:
    """mean(b) - mean(a) with Welch's interval: each side's runs are independent samples
    with their own spread. None when a side has fewer than two runs (no spread to know)."""
    if len(a) < 2 or len(b) < 2:
        return None
    diff = mean(b) - mean(a)
    va, vb = variance(a), variance(b)
    se = math.sqrt(va / len(a) + vb / len(b))
    if se == 0:  # neither side varied: the sample difference is all there is to say
        return Interval(diff, diff, diff, None)
    df = welch_df(va, len(a), vb, len(b))
    half = t_quantile(0.5 + level / 2, df) * se
    return Interval(diff, diff - half, diff + half, df, se)


def clustered_se(clusters: Sequence[Sequence[float]]) -> float:
    """Standard error of the mean of all values when values within a cluster (the runs on
    one input) are correlated: Miller, "Adding Error Bars to Evals" (arXiv 2411.00640,
    section 2.2), SE² = (1/n²) Σ_c Σ_i Σ_j (x_ic − x̄)(x_jc − x̄), which is Σ_c (Σ_i (x_ic − x̄))² / n².
    With one value per cluster it is the plain (population-variance) standard error."""
    values = [x for cluster in clusters for x in cluster]
    n = len(values)
    grand = mean(values)
    return math.sqrt(sum(sum(x - grand for x in cluster) ** 2 for cluster in clusters)) / n


def clustered_interval(clusters: Sequence[Sequence[float]], level: float = LEVEL) -> Interval | None:
    """The mean of clustered values (e.g. per-input differences between two models, one
    per run) with a t interval on C − 1 degrees of freedom and the small-sample factor
    √(C/(C−1)) (the usual CR1 correction; Cameron & Miller 2015, J. Human Resources 50:317).
    With one value per cluster this is exactly the paired t interval. None for < 2 clusters."""
    clusters = [list(c) for c in clusters if c]
    if len(clusters) < 2:
        return None
    estimate = mean(x for c in clusters for x in c)
    se = clustered_se(clusters) * math.sqrt(len(clusters) / (len(clusters) - 1))
    if se == 0:
        return Interval(estimate, estimate, estimate, None)
    df = float(len(clusters) - 1)
    half = t_quantile(0.5 + level / 2, df) * se
    return Interval(estimate, estimate - half, estimate + half, df, se)


# --- power ----------------------------------------------------------------------------------


def minimum_detectable(sd_a: float, sd_b: float, n: int, *, level: float = LEVEL, power: float = POWER) -> float | None:
    """The smallest true difference B − A that the two-sided Welch interval at `level`
    tells from zero with probability `power`, each side running `n` times with these
    spreads. The power of a t test is a noncentral-t tail; its normal approximation
    (Abramowitz & Stegun 26.7.10) gives ncp = t_c + z_power · √(1 + t_c²/(2ν)), where t_c
    is the t quantile at 1 − α/2 on the Welch degrees of freedom ν, and the difference is
    ncp · √((sd_a² + sd_b²)/n). A&S's (1 − 1/4ν) factor on t_c is left out: the Welch
    test's own loss of degrees of freedom offsets most of it (a simulation in
    tests/test_drift_stats.py finds 0.72 at n = 3 with equal spreads, and within 0.04 of
    0.80 from n = 5: at three runs the statement is a little optimistic).
    None below three runs (too few to trust) or without any spread."""
    if n < MIN_RUNS_FOR_POWER or (sd_a == 0 and sd_b == 0):
        return None
    return detectable_at(math.sqrt((sd_a**2 + sd_b**2) / n), welch_df(sd_a**2, n, sd_b**2, n), level=level, power=power)


def detectable_at(se: float, df: float, *, level: float = LEVEL, power: float = POWER) -> float:
    """The true difference a two-sided t interval with this standard error and these
    degrees of freedom tells from zero with probability `power` (see minimum_detectable)."""
    critical = t_quantile(0.5 + level / 2, df)
    return se * (critical + NormalDist().inv_cdf(power) * math.sqrt(1 + critical**2 / (2 * df)))


def repeats_to_detect(
    sd_a: float, sd_b: float, target: float, *, level: float = LEVEL, power: float = POWER
) -> int | None:
    """The fewest runs per side whose minimum detectable difference is at most `target`;
    None when even MAX_REPEAT_ADVICE runs would not do (or there is no spread to scale)."""
    if target <= 0:
        return None
    for n in range(MIN_RUNS_FOR_POWER, MAX_REPEAT_ADVICE + 1):
        detectable = minimum_detectable(sd_a, sd_b, n, level=level, power=power)
        if detectable is None:
            return None
        if detectable <= target:
            return n
    return None
