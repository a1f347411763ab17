"""The marketplace's category taxonomy: the single place it is defined.

Modelled on the top-level categories of the large freelance marketplaces. ``not_a_job``
is not a real category: it is what the category model predicts for a freelancer
advertising themselves (or looking for work) in the jobs section.
"""
from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "web_mobile_software": "Web, Mobile & Software Dev",
    "design_creative": "Design & Creative",
    "writing": "Writing",
    "sales_marketing": "Sales & Marketing",
    "admin_support": "Admin Support",
    "customer_service": "Customer Service",
    "data_science_analytics": "Data Science & Analytics",
    "engineering_architecture": "Engineering & Architecture",
    "it_networking": "IT & Networking",
    "translation": "Translation",
    "accounting_consulting": "Accounting & Consulting",
    "legal": "Legal",
}

NOT_A_JOB = "not_a_job"

#: every label the category model can output
CATEGORY_LABELS: tuple[str, ...] = (*CATEGORIES, NOT_A_JOB)


def category_label(slug: str | None) -> str:
    """Human-readable name of a category slug (unknown slugs are shown as-is)."""
    if slug is None:
        return "—"
    if slug == NOT_A_JOB:
        return "Not a job (self-advertisement)"
    return CATEGORIES.get(slug, slug)
