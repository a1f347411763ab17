"""The console's view of the trained models: one ModelVersion row per detector version
found in the classifiers' registry, with its metrics and thresholds, and which is active."""
from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from classifiers.registry import ARTIFACTS_DIR, DETECTORS, read_active
from models import ModelVersion

from .audit import Actor, record


def sync(session: Session, *, actor: Actor, model_dir: Path | None = None) -> list[ModelVersion]:
    """Record every version on disk and mark the active ones (one commit)."""
    root = Path(model_dir) if model_dir else ARTIFACTS_DIR
    active = read_active(root)
    rows = []
    for detector in DETECTORS:
        for version_dir in sorted(p for p in (root / detector).glob("*") if p.is_dir()):
            metrics = json.loads((version_dir / "metrics.json").read_text(encoding="utf-8"))
            row = session.exec(select(ModelVersion).where(
                ModelVersion.name == detector, ModelVersion.version == version_dir.name)).first()
            if row is None:
                row = ModelVersion(name=detector, version=version_dir.name,
                                   artifact=str(version_dir / "model.skops"))
            row.metrics = metrics
            row.thresholds = {k: v for k, v in metrics.items() if "threshold" in k}
            rows.append(row)
    previously = {r.name: r.version for r in session.exec(
        select(ModelVersion).where(ModelVersion.active))}
    for row in session.exec(select(ModelVersion).where(ModelVersion.active)):
        row.active = False  # deactivate first: the database allows one active per detector
        session.add(row)
    session.flush()
    for row in rows:
        row.active = active.get(row.name) == row.version
        session.add(row)
    if previously != {d: v for d, v in active.items() if d in DETECTORS}:
        record(session, actor=actor, action="models.activate", subject_type="model_version",
               subject_id="all", before=previously, after=active)
    session.commit()
    return rows


def active_versions(session: Session) -> list[ModelVersion]:
    return list(session.exec(select(ModelVersion).where(ModelVersion.active)
                             .order_by(ModelVersion.name)))
