"""How far an accuracy on a few dozen test videos can be trusted, and whether two models differ.

* :func:`wilson_interval`: the Wilson score interval of a proportion k / n (95 % by default). At the
  demo's 76-84 test videos a split one video moves top-1 by 1.3 points; unlike the normal
  approximation the Wilson interval stays inside [0, 1] and keeps its coverage near 0 % and 100 %.
* :func:`paired_outcome` and :func:`mcnemar_exact_p`: two models scored on the same test videos,
  compared on the videos exactly one of them gets right (b: only the first, c: only the second).
  Under "the models are equally accurate" each such video is a fair coin, so the exact two-sided
  McNemar p is the binomial tail of min(b, c) out of b + c, doubled. Pure Python: the tail is a sum
  of binomial coefficients, computed with integers, so no scipy.
* :func:`pooled`: the outcomes of several splits as one test over all their videos (each judged by
  its own split's pair of models): the counts add up, and the test is McNemar's on the sums.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

#: The standard normal quantile of a two-sided 95 % interval (scipy.stats.norm.ppf(0.975)).
Z_95 = 1.959963984540054


def wilson_interval(successes: float, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of the proportion ``successes / trials``, fractions
    in [0, 1]. ``successes`` may be fractional (an accuracy times a video count). Raises ValueError
    when ``trials`` is not positive or ``successes`` is outside [0, trials]."""
    if trials <= 0:
        raise ValueError(f"a proportion needs at least one trial, got {trials}")
    if not 0 <= successes <= trials:  # also rejects NaN
        raise ValueError(f"{successes} successes out of {trials} trials")
    p, z2 = successes / trials, z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 and at all successes the bound is exactly 0 or 1; rounding would leave 1e-17 off it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided p of the exact McNemar test: ``2 * P(X <= min(b, c))``, X ~ Binomial(b + c, 1/2),
    capped at 1 (and 1 when no video tells the models apart)."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got b={b}, c={c}")
    n = b + c
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)  # exact integers; the one division rounds once


@dataclass(frozen=True)
class PairedOutcome:
    """Two models on the same test videos: how many each gets right, and the discordant videos."""

    videos: int
    first_correct: int
    second_correct: int
    first_only: int  #: b: videos the first model gets right and the second wrong
    second_only: int  #: c: the other way round

    @property
    def p_value(self) -> float:
        """Exact two-sided McNemar p of "both models are equally accurate"."""
        return mcnemar_exact_p(self.first_only, self.second_only)


def paired_outcome(first_correct: Iterable[bool], second_correct: Iterable[bool]) -> PairedOutcome:
    """The :class:`PairedOutcome` of two equally long sequences of per-video correctness (same videos,
    same order)."""
    first, second = np.asarray(list(first_correct), dtype=bool), np.asarray(list(second_correct), dtype=bool)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(f"paired correctness needs two sequences over the same videos, got {first.shape} and {second.shape}")
    return PairedOutcome(
        videos=len(first),
        first_correct=int(first.sum()),
        second_correct=int(second.sum()),
        first_only=int((first & ~second).sum()),
        second_only=int((~first & second).sum()),
    )


def pooled(outcomes: Iterable[PairedOutcome]) -> PairedOutcome:
    """Several paired outcomes (one per split) as one over all their videos: every count summed."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("nothing to pool")
    return PairedOutcome(*(sum(getattr(o, field.name) for o in outcomes) for field in fields(PairedOutcome)))
