"""The ``flask`` commands: one module per command group, all registered here.

- ``users``: ``flask users create|list|deactivate``
- ``tokens``: ``flask tokens create|revoke|list``
- ``bootstrap``: ``flask bootstrap`` (first run)
- ``ingest``: ``flask import clients|posts|feedback FILE`` and ``flask demo load``
- ``worker``: ``flask worker``, ``flask sweep``, ``flask jobs failed|requeue``,
  ``flask followups run``
- ``models``: ``flask models train|evaluate|sync|rescore|list``
- ``similar``: ``flask similar index``
- ``labels``: ``flask labels export [--since DATE] FILE``
- ``metrics``: ``flask metrics rebuild|check [--repair]``
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .bootstrap import bootstrap
    from .ingest import demo_cli, import_cli
    from .labels import labels_cli
    from .metrics import metrics_cli
    from .models import models_cli
    from .similar import similar_cli
    from .tokens import tokens_cli
    from .users import users_cli
    from .worker import followups_cli, jobs_cli, sweep, worker

    for command in (users_cli, tokens_cli, similar_cli, bootstrap, import_cli, demo_cli,
                    worker, sweep, jobs_cli, followups_cli, models_cli, labels_cli,
                    metrics_cli):
        app.cli.add_command(command)
