"""Model registry: ``<root>/<detector>/<version>/model.skops`` + ``metrics.json``, and
``<root>/active.json`` naming the active version per detector.

Loading never trusts arbitrary types: ``skops.io.get_untrusted_types`` is checked against
``EXPECTED_TYPES`` (the sklearn / numpy / scipy types our bundles are made of) and any
other type aborts the load.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DETECTORS: tuple[str, ...] = ("post_text", "scam", "miscategorised", "policy", "feedback")

EXPECTED_TYPES: frozenset[str] = frozenset({
    "builtins.float32",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.svm._classes.LinearSVC",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._dia.dia_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse._dia.dia_array",
})


class UntrustedModelError(RuntimeError):
    pass


def _sio():  # noqa: ANN202
    """``skops.io``, imported on first use: importing it takes ~1 s (it lists every
    scikit-learn type), which processes that never load a model should not pay."""
    import skops.io as sio

    return sio


def save_bundle(obj: dict, root: Path, detector: str, version: str, metrics: dict) -> Path:
    d = root / detector / version
    d.mkdir(parents=True, exist_ok=True)
    _sio().dump(obj, d / "model.skops")
    (d / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return d


def load_bundle(root: Path, detector: str, version: str) -> tuple[dict, dict]:
    d = root / detector / version
    path = d / "model.skops"
    sio = _sio()
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = sorted(set(untrusted) - EXPECTED_TYPES)
    if unexpected:
        raise UntrustedModelError(f"{path} contains unexpected types {unexpected}; refusing to load")
    obj = sio.load(path, trusted=untrusted)
    metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    return obj, metrics


def read_active(root: Path) -> dict[str, str]:
    path = root / "active.json"
    if not path.exists():
        raise FileNotFoundError(f"no active models in {root} (run `python -m classifiers train`)")
    return json.loads(path.read_text(encoding="utf-8"))


def write_active(root: Path, versions: dict[str, str]) -> None:
    """Atomically replace active.json."""
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".active.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(versions, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, root / "active.json")
