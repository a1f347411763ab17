"""Client-level negativity: a pattern over a client's recent feedback, not one bad review.

Two windows, both limited to feedback no older than ``WINDOW_DAYS`` days: the most recent
``SHORT_N`` (6) and the most recent ``WINDOW_N`` (10) feedbacks. A feedback counts as
negative when its negativity probability is >= ``NEGATIVE_AT``. With a Beta(PRIOR_A, PRIOR_B)
prior on the client's negative share, the posterior after k negatives out of n is
Beta(PRIOR_A + k, PRIOR_B + n - k); a window's bound is its ``LOWER_Q`` quantile (a one-sided
90% credible lower bound on the negative share). The score is the larger of the two bounds;
flagged when that window holds at least ``MIN_COUNT`` feedbacks and its bound >= ``FLAG_AT``.

The short window lets a recent run of bad feedback show even when older positive
feedbacks still sit in the 10-feedback window; the long window keeps a steady pattern
visible. A single bad review can never flag: 1 of n gives at most Beta(2, 6) -> 0.08.

Worked examples (defaults): 1 negative of 11 -> 0.04 (last 6: 0.08), not flagged; 5 of the
last 6 negative after 4 older positives -> last 10: 5 of 10 -> 0.29, last 6: 0.46, flagged;
3 of 3 negative -> too few feedbacks (n < 5), not flagged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta


VERSION = "client-negativity-beta-2"
WINDOW_N = 10
SHORT_N = 6
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


def lower_bound(k: int, n: int) -> float:
    """90% credible lower bound on the negative share after k negatives of n."""
    # scipy.stats.beta.ppf, without importing scipy.stats (~1 s), and imported on first use
    # (scipy.special: ~0.3 s more for every process that imports this module)
    from scipy.special import betaincinv

    return float(betaincinv(PRIOR_A + k, PRIOR_B + n - k, LOWER_Q))


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
    # (bound, window): the long window first, so a tie keeps the wider view
    windows = []
    for size in (WINDOW_N, SHORT_N):
        win = recent[:size]
        k = sum(p.negative >= NEGATIVE_AT for p in win)
        windows.append((lower_bound(k, len(win)), win, k))
    lower, win, k = max(windows, key=lambda t: t[0])
    n = len(win)
    flagged = n >= MIN_COUNT and lower >= FLAG_AT
    if len(recent) < MIN_COUNT:
        why = (f"only {len(recent)} feedback(s) in the last {WINDOW_DAYS} days; "
               f"at least {MIN_COUNT} are needed to see a pattern")
    else:
        why = (f"{k} of the last {n} feedbacks are negative; the negative share is at least {lower:.0%} "
               f"with 90% confidence ({'above' if flagged else 'below'} the {FLAG_AT:.0%} bar)")
        if n < len(recent):
            k_all = windows[0][2]
            why += f" ({k_all} of the last {len(recent)} in all)"
    negs = [p for p in win if p.negative >= NEGATIVE_AT]
    evidence = [
        ClientEvidence(ref=p.ref, created_at=p.created_at.isoformat(), negative=round(float(p.negative), 4), rating=p.rating,
                       why=f"negative feedback (p={p.negative:.2f}" + (f", {p.rating} star{'s' if p.rating != 1 else ''}" if p.rating else "")
                       + f") on {p.created_at.date().isoformat()}")
        for p in negs
    ]
    return ClientNegativity(score=round(lower, 6), flagged=flagged, n_considered=n, n_negative=k, evidence=evidence, why=why)
