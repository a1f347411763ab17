"""What counts as a post's scored content: an edit to any of it means rescoring."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence


def post_content_hash(*, title: str | None, description: str, category: str | None,
                      skills: Sequence[str] | None, budget: float | None) -> str:
    """SHA-256 over everything the detectors read (stable key order, exact text)."""
    canonical = _CANONICAL.encode(
        {"title": title or "", "description": description, "category": category,
         "skills": list(skills or []), "budget": budget})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: ``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))``, built once
#: (``dumps`` with options builds a new encoder per call)
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
