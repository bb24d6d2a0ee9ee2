"""Wilson intervals and the exact McNemar test against textbook and hand-computed values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from mict_pipeline.evaluation import PairedOutcome, mcnemar_exact_p, paired_outcome, pooled, wilson_interval

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3
# (score interval without continuity correction), to the 4 decimals it prints.
NEWCOMBE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE)
def test_wilson_matches_newcombes_table(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_boundaries_and_symmetry():
    # 0/10 and 10/10: the textbook 0-27.75 % and 72.25-100 %, ending exactly at 0 and 1.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5) and wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=5e-5) and wilson_interval(10, 10)[1] == 1.0
    # 50/100: 50 % +- 9.62 points, symmetric about one half.
    low, high = wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=5e-5) and low + high == pytest.approx(1.0, abs=1e-15)
    for k in range(0, 31, 3):  # k/n mirrors (n-k)/n
        low, high = wilson_interval(k, 30)
        assert wilson_interval(30 - k, 30) == pytest.approx((1 - high, 1 - low), abs=1e-12)
    # A fractional count (an accuracy times the video count) is a proportion like any other.
    assert wilson_interval(0.85 * 80, 80) == pytest.approx(wilson_interval(68, 80), abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(1, 0), (0, 0), (-1, 10), (11, 10), (float("nan"), 10)])
def test_wilson_rejects_what_is_no_proportion(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)


def _binomial_p(b: int, c: int) -> Fraction:
    n = b + c
    return min(Fraction(1), 2 * sum(Fraction(math.comb(n, i), 2**n) for i in range(min(b, c) + 1)))


def test_mcnemar_by_hand():
    assert mcnemar_exact_p(0, 5) == 2 / 32  # one way of 32 that all five discordant videos go one side, times two sides
    assert mcnemar_exact_p(5, 0) == 2 / 32
    assert mcnemar_exact_p(0, 6) == 2 / 64
    assert mcnemar_exact_p(1, 9) == 22 / 1024  # (C(10,0) + C(10,1)) / 2^10, doubled
    assert mcnemar_exact_p(2, 3) == 1.0  # 2 * 16/32 capped


@pytest.mark.parametrize("b", [0, 1, 7, 40])
def test_mcnemar_equal_discordance_gives_one(b):
    assert mcnemar_exact_p(b, b) == 1.0


@pytest.mark.parametrize(("b", "c"), [(3, 12), (10, 25), (30, 50), (64, 41)])
def test_mcnemar_is_the_exact_binomial_tail(b, c):
    assert mcnemar_exact_p(b, c) == pytest.approx(float(_binomial_p(b, c)), rel=1e-12)


def test_mcnemar_handles_thousands_of_videos():
    assert 0.0 < mcnemar_exact_p(2000, 2100) < 1.0
    assert mcnemar_exact_p(0, 3000) < 1e-300
    with pytest.raises(ValueError):
        mcnemar_exact_p(-1, 3)


def test_paired_outcome_counts_the_discordant_videos():
    first = [True, True, True, False, False, True]
    second = [True, False, False, False, True, True]
    outcome = paired_outcome(first, second)
    assert outcome == PairedOutcome(videos=6, first_correct=4, second_correct=3, first_only=2, second_only=1)
    assert outcome.p_value == 1.0
    with pytest.raises(ValueError, match="same videos"):
        paired_outcome([True], [True, False])


def test_pooled_is_mcnemar_on_the_summed_counts():
    splits = [PairedOutcome(80, 68, 13, 57, 2), PairedOutcome(76, 71, 20, 52, 1), PairedOutcome(84, 81, 15, 66, 0)]
    total = pooled(splits)
    assert total == PairedOutcome(240, 220, 48, 175, 3)
    assert total.p_value == mcnemar_exact_p(175, 3)
    with pytest.raises(ValueError):
        pooled([])
