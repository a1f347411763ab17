"""Inputs and outputs of the scorer (plain dataclasses; no I/O)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class PostInput:
    id: str
    title: str | None
    description: str
    category: str | None = None
    skills: list[str] | None = None
    budget: float | None = None
    client_payment_verified: bool | None = None
    client_account_age_days: float | None = None


@dataclass(frozen=True, slots=True)
class FeedbackInput:
    id: str
    text: str
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a detector fired.

    ``field`` is "title" or "description" and ``start``/``end`` are Python string
    indices into that field of the input, so ``getattr(post, field)[start:end] == text``.
    ``detector`` is "scam" / "miscategorised" / "policy"; ``label`` is the detector name,
    or the policy type for policy evidence; ``kind`` is "rule" (a regex span), "signal" (a
    phrasing-signal span) or "term" (a top contributing model term, located at its first
    occurrence).
    """

    label: str
    text: str
    start: int
    end: int
    why: str
    field: str
    detector: str
    kind: str
    weight: float | None = None

    def to_json(self) -> dict:
        d = {"label": self.label, "text": self.text, "start": self.start, "end": self.end, "why": self.why,
             "field": self.field, "detector": self.detector, "kind": self.kind}
        if self.weight is not None:
            d["weight"] = round(self.weight, 4)
        return d


def _evidence_maker():
    """``new_evidence(label, text, start, end, why, field, detector, kind, weight=None)``: the same
    Evidence as ``Evidence(...)``, built about twice as fast. A frozen dataclass's ``__init__`` sets
    each field through ``object.__setattr__`` (looked up on every call); this sets the slots
    through their descriptors, bound once. The scorer builds thousands per batch."""
    names = [f.name for f in fields(Evidence)]
    if names != ["label", "text", "start", "end", "why", "field", "detector", "kind", "weight"]:
        raise TypeError(f"new_evidence is out of step with Evidence's fields: {names}")
    s_label, s_text, s_start, s_end, s_why, s_field, s_detector, s_kind, s_weight = (
        getattr(Evidence, n).__set__ for n in names)
    new = object.__new__

    def new_evidence(label: str, text: str, start: int, end: int, why: str, field: str, detector: str, kind: str,
                     weight: float | None = None) -> Evidence:
        e = new(Evidence)
        s_label(e, label)
        s_text(e, text)
        s_start(e, start)
        s_end(e, end)
        s_why(e, why)
        s_field(e, field)
        s_detector(e, detector)
        s_kind(e, kind)
        s_weight(e, weight)
        return e

    return new_evidence


new_evidence = _evidence_maker()

@dataclass(slots=True)
class PostScore:
    id: str
    scores: dict[str, float]
    flags: list[str]
    policy_types: list[str]
    suggested_category: str | None
    predicted_category: str | None
    evidence: list[Evidence] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)
    policy_scores: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "flags": list(self.flags),
            "policy_types": list(self.policy_types),
            "suggested_category": self.suggested_category,
            "predicted_category": self.predicted_category,
            "policy_scores": {k: round(float(v), 6) for k, v in self.policy_scores.items()},
            "evidence": [e.to_json() for e in self.evidence],
            "model_versions": dict(self.model_versions),
        }
