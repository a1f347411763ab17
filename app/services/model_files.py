"""Where the model versions live on disk, and scorers of versions that are not active (a
candidate's, a shadow's): shared by ``candidates`` and ``shadow``."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlmodel import Session

from classifiers import candidates as cand
from classifiers.registry import ARTIFACTS_DIR, read_active
from models import ModelCandidate


class CandidateError(Exception):
    """A refused request: ``status`` is the HTTP answer (404, 409, 422)."""

    def __init__(self, message: str, status: int = 409, failures: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.failures = failures or []


def get_candidate(session: Session, candidate_id: int) -> ModelCandidate:
    """The candidate, or a 404 ``CandidateError`` (training, promotion and shadow mode)."""
    row = session.get(ModelCandidate, candidate_id)
    if row is None:
        raise CandidateError(f"No candidate {candidate_id}.", 404)
    return row


def config(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


def model_dir() -> Path:
    root = config("MODEL_DIR", None)
    return Path(root) if root else ARTIFACTS_DIR


def active_set() -> dict[str, str]:
    return read_active(model_dir())


@functools.lru_cache(maxsize=4)
def _scorer(root: str, versions: tuple) -> Any:
    return cand.load_versions(Path(root), dict(versions))


def candidate_scorer(root: Path, versions: dict[str, str]) -> Any:
    """A scorer of these versions (loaded once per process)."""
    return _scorer(str(root), tuple(sorted(versions.items())))
