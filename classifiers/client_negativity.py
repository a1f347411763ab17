"""Client-level negativity: a pattern over a client's recent feedback, not one bad review.

Window: the most recent ``WINDOW_N`` feedbacks no older than ``WINDOW_DAYS`` days.
A feedback counts as negative when its negativity probability is >= ``NEGATIVE_AT``.
With a Beta(PRIOR_A, PRIOR_B) prior on the client's negative share, the posterior after
k negatives out of n is Beta(PRIOR_A + k, PRIOR_B + n - k). The score is its
``LOWER_Q`` quantile (a one-sided 90% credible lower bound on the negative share).
Flagged when n >= ``MIN_COUNT`` and the lower bound >= ``FLAG_AT``.

Worked examples (defaults): 1 negative of 11 -> bound 0.04, not flagged; 5 of the last 6
negative -> bound 0.46, flagged; 3 of 3 negative -> too few feedbacks (n < 5), not flagged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from scipy.stats import beta

VERSION = "client-negativity-beta-1"
WINDOW_N = 10
WINDOW_DAYS = 180
MIN_COUNT = 5
NEGATIVE_AT = 0.5
PRIOR_A, PRIOR_B = 1.0, 2.0
LOWER_Q = 0.10
FLAG_AT = 0.40


@dataclass(frozen=True, slots=True)
class FeedbackPoint:
    created_at: datetime  # timezone-aware
    negative: float  # probability the feedback is negative (scorer.score_feedback)
    rating: int | None = None
    ref: str | None = None  # e.g. the feedback id, shown in evidence


@dataclass(frozen=True, slots=True)
class ClientEvidence:
    ref: str | None
    created_at: str
    negative: float
    rating: int | None
    why: str


@dataclass(slots=True)
class ClientNegativity:
    score: float
    flagged: bool
    n_considered: int
    n_negative: int
    evidence: list[ClientEvidence] = field(default_factory=list)
    why: str = ""
    version: str = VERSION

    def to_json(self) -> dict:
        return asdict(self)


def client_negativity(points: list[FeedbackPoint], now: datetime) -> ClientNegativity:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    for p in points:
        if p.created_at.tzinfo is None:
            raise ValueError(f"created_at of feedback {p.ref!r} must be timezone-aware")
        if not 0.0 <= p.negative <= 1.0:
            raise ValueError(f"negative of feedback {p.ref!r} must be in [0, 1]")
    cutoff = now - timedelta(days=WINDOW_DAYS)
    recent = sorted((p for p in points if cutoff <= p.created_at <= now), key=lambda p: p.created_at, reverse=True)[:WINDOW_N]
    n = len(recent)
    negs = [p for p in recent if p.negative >= NEGATIVE_AT]
    k = len(negs)
    lower = float(beta.ppf(LOWER_Q, PRIOR_A + k, PRIOR_B + n - k))
    flagged = n >= MIN_COUNT and lower >= FLAG_AT
    if n < MIN_COUNT:
        why = f"only {n} feedback(s) in the last {WINDOW_DAYS} days; at least {MIN_COUNT} are needed to see a pattern"
    else:
        why = (f"{k} of the last {n} feedbacks are negative; the negative share is at least {lower:.0%} "
               f"with 90% confidence ({'above' if flagged else 'below'} the {FLAG_AT:.0%} bar)")
    evidence = [
        ClientEvidence(ref=p.ref, created_at=p.created_at.isoformat(), negative=round(float(p.negative), 4), rating=p.rating,
                       why=f"negative feedback (p={p.negative:.2f}" + (f", {p.rating} star{'s' if p.rating != 1 else ''}" if p.rating else "")
                       + f") on {p.created_at.date().isoformat()}")
        for p in negs
    ]
    return ClientNegativity(score=round(lower, 6), flagged=flagged, n_considered=n, n_negative=k, evidence=evidence, why=why)
