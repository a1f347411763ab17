"""The moderation state machine: every moderator action on a flag, a post or a client.

Split by subject; callers use the package (``from app.services import moderation;
moderation.dismiss(...)``), which re-exports every public name of:

- ``common``: the transition table, the locking helpers, the shared writers and settings;
- ``post_actions``: dismiss, recategorise, remove, escalate, notes;
- ``client_actions``: contact, suspend (and the contact-first hold), reinstate;
- ``claims``: claim, release, reassign;
- ``bulk_actions``: bulk dismiss/remove, cluster removal;
- ``undo_actions``: undo.

Each public function is one use case and one transaction: the decision row, the audit
event, the state change and the marketplace event (outbox) are written together and
committed once; side effects (webhook delivery, e-mail, the follow-up re-check) are
deferred with ``app.jobs.enqueue`` and dispatched only after that commit.

Optimistic locking. Every form carries the version it was rendered from:

- flags: ``UPDATE flag SET ..., version = version + 1 WHERE id = :id AND version = :v``;
- clients have no version column, so their state token is ``status`` plus
  ``status_changed_at`` (every client transition stamps a new ``status_changed_at``):
  ``UPDATE client SET ... WHERE id = :id AND status = :s AND status_changed_at = :t``.

A zero rowcount raises :class:`StaleCase` (shown as HTTP 409 with the fresh case): two
moderators can never both act on the same state.

Row locks. Before it reads what it checks, every action locks its subject's rows in the one
order every writer uses (``app/services/locks.py``): the client, then posts by id, then
flags by id. So two actions on one post run one after the other, and the second sees the
first's result (e.g. a removal closes only the flags still open, each through the
version-checked path). A deadlock or serialization failure the database still reports is
answered as a :class:`StaleCase` too (``decision_use_case``): nothing is written.

The transition table (``TRANSITIONS``) says which actions are allowed from which flag,
post and client status; ``allowed_actions`` is what the templates use to offer buttons.

Undo (``UNDO_SECONDS``). Dismiss, recategorise, remove, escalate, note and suspend can
be undone by the moderator who acted (or an admin) within the window, as long as
nothing changed since (the same version/state token check). Contact cannot be undone:
the message has gone out. Reinstate is not offered for undo (an admin can suspend
again). Undo does not hold back marketplace events: remove/recategorise/suspend emit
their event at once and undo emits a *compensating* event (``post.reinstated``,
``post.recategorised`` back to the old category, ``client.reinstated``), delivered after
the original in per-subject order, so the marketplace always converges on our state.
"""
from __future__ import annotations

from .common import (A, NOTE_MAX, REMOVE_REASONS, RESULTS, TRANSITIONS, UNDOABLE,
                     InvalidTransition, Rule, StaleCase, allowed_actions, claim_minutes,
                     client_token, escalated_flag_ids, follow_up_days, is_live_escalation,
                     is_reason, is_self_ad, live_escalation, removal_notice, removal_reason,
                     undo_seconds, WHERE_SELF_ADS_BELONG)
from .post_actions import add_note, dismiss, escalate, recategorise, remove
from .client_actions import (PolicyHold, contact, reinstate, suspend, suspension_hold,
                             suspension_hold_of, suspension_preview)
from .claims import ClaimState, claim, claim_state, claim_state_of, reassign, release
from .bulk_actions import BULK_ACTIONS, BULK_MAX, bulk, cluster_removal_reason, cluster_remove
from .undo_actions import can_undo, undo, undo_deadline

__all__ = [
    "A", "BULK_ACTIONS", "BULK_MAX", "ClaimState", "InvalidTransition", "NOTE_MAX", "PolicyHold",
    "REMOVE_REASONS", "RESULTS", "Rule", "StaleCase", "TRANSITIONS", "UNDOABLE", "add_note",
    "allowed_actions", "bulk", "can_undo", "claim", "claim_minutes", "claim_state",
    "claim_state_of", "client_token", "cluster_removal_reason", "cluster_remove", "contact",
    "dismiss", "escalate", "escalated_flag_ids", "follow_up_days", "is_live_escalation",
    "is_reason", "is_self_ad", "live_escalation", "reassign", "recategorise", "reinstate", "release",
    "removal_notice", "removal_reason", "remove", "suspend", "suspension_hold", "suspension_hold_of", "suspension_preview", "undo",
    "undo_deadline", "undo_seconds", "WHERE_SELF_ADS_BELONG",
]
