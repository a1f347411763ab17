"""Deprecated: the job functions are in ``app.jobs.tasks``.

Jobs enqueued before the upgrade name their function by its old dotted path
(``app.tasks.score_posts``...), stored in Redis; this module keeps those paths resolving
for one release, with a DeprecationWarning. New jobs name ``app.jobs.tasks.*``. This
module goes in the next release.
"""
from __future__ import annotations

import warnings

from .jobs.tasks import (deliver_outbox, follow_up, score_client, score_posts, send_outreach,
                         sweep)

__all__ = ["deliver_outbox", "follow_up", "score_client", "score_posts", "send_outreach", "sweep"]

warnings.warn("app.tasks is deprecated and will be removed in the next release: jobs name "
              "app.jobs.tasks (a job enqueued before the upgrade still runs)",
              DeprecationWarning, stacklevel=2)
