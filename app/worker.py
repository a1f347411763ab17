"""The RQ worker class: runs jobs inside the app context, with the models loaded once.

``flask worker`` uses it. Plain ``rq worker`` users get the same with::

    rq worker -w app.worker.AppWorker --with-scheduler --url "$REDIS_URL" \\
        trustdesk-scoring trustdesk-webhooks trustdesk-default

It is a SimpleWorker: jobs run in the worker process itself (no fork per job), so the
trained models are loaded once per worker process and every job reuses them.
"""
from __future__ import annotations

import logging

from rq.worker import SimpleWorker

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    def __init__(self, *args, app=None, **kwargs):  # noqa: ANN001
        super().__init__(*args, **kwargs)
        if app is None:
            from . import create_app

            app = create_app()
        self.app = app
        with self.app.app_context():
            from .services.scoring import get_scorer

            get_scorer()  # load the models now, once, not on the first job

    def perform_job(self, *args, **kwargs):  # noqa: ANN002, ANN003
        with self.app.app_context():
            return super().perform_job(*args, **kwargs)

    def work(self, *args, **kwargs):  # noqa: ANN002, ANN003
        if not kwargs.get("burst"):
            with self.app.app_context():
                from .jobs import schedule_sweep

                schedule_sweep()
        return super().work(*args, **kwargs)
