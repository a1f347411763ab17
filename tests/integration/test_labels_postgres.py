"""The label derivation query on the real PostgreSQL (JSON details, outer joins to flags,
moderators, QA adjudications and follow-ups): the unit tests' cases, run here again."""
from __future__ import annotations

import pytest

from tests.integration.test_api_postgres import pg_app  # noqa: F401
from tests.unit.console_fixtures import db, staff  # noqa: F401
from tests.unit.test_labels import (  # noqa: F401
    test_a_later_decision_on_the_same_subject_and_reason_supersedes,
    test_an_undone_decision_withdraws_its_label,
    test_client_negativity_labels_contact_improved_and_suspended,
    test_dismissal_is_negative_for_the_flags_reason,
    test_qa_adjudication_supersedes_the_decisions_label,
    test_recategorisation_gives_the_right_category_and_is_negative_for_scam,
    test_removal_is_positive_for_its_reason,
    test_the_label_carries_the_judged_text_not_the_live_text)

pytestmark = pytest.mark.integration


@pytest.fixture
def app(pg_app):
    """The console fixtures' app, on a fresh PostgreSQL database."""
    return pg_app
