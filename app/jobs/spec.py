"""What a background job is: the function's dotted path, plain arguments, a job id."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

QUEUE_SCORING = "scoring"
QUEUE_DEFAULT = "default"
QUEUE_WEBHOOKS = "webhooks"
QUEUES = (QUEUE_SCORING, QUEUE_WEBHOOKS, QUEUE_DEFAULT)  # worker priority order


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run a job: the function's dotted path and plain arguments."""

    func: str
    args: tuple[Any, ...]
    job_id: str
    queue: str = QUEUE_DEFAULT
    at: datetime | None = None  # run no earlier than this (scheduled)
    retry: bool = True
    timeout: int = 600
    meta: dict[str, Any] = field(default_factory=dict)
