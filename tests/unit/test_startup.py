"""Starting the console does not import the scorer's libraries: gunicorn workers, every
``flask`` command and the test suite's subprocesses start in a fraction of the time
(create_app 5.9 s -> 2.0 s on a busy 2-core machine). Models load on first use."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "skops", "scipy.stats", "scipy.special", "classifiers.scorer")


def test_create_app_imports_no_model_library(tmp_path):
    code = ("import sys, app; app.create_app({'DATABASE_URL': 'sqlite:///%s', "
            "'SECRET_KEY': 'startup-test-secret-key-0123456789-0123456789'}); "
            "print(','.join(m for m in %r if m in sys.modules))" % (tmp_path / "db.sqlite", HEAVY))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin",
                                                     "TRUSTDESK_INSTANCE_DIR": str(tmp_path)})
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


def test_the_package_still_exports_its_names_on_first_use():
    import classifiers
    import classifiers.client_negativity  # noqa: F401  (the submodule of the same name)
    from classifiers import FeedbackPoint, client_negativity

    assert callable(client_negativity) and not isinstance(client_negativity, type(classifiers))
    assert FeedbackPoint.__name__ == "FeedbackPoint"

    assert classifiers.PostInput.__name__ == "PostInput"
    assert callable(classifiers.load_scorer) and callable(classifiers.client_negativity)
    assert set(classifiers.__all__) >= {"Scorer", "PostScore", "FeedbackPoint"}
    try:
        classifiers.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("unknown attribute did not raise")
