"""Message templates for contacting a client.

Placeholders are ``{name}``. Some are filled from the data (client name, follow-up date);
the others are written by the moderator and must all be filled before the message can be
sent. Substitution is plain text replacement (never ``str.format``: a value can contain
braces), and the result is plain text: the console escapes it when showing it and the
e-mail is sent as text/plain.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from models import Client

from . import ServiceError

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FIELD_MAX = 2000

#: placeholders the system fills in
AUTO = ("client_name", "follow_up_date")
#: how moderator-filled placeholders are labelled in the form
FIELD_LABELS = {
    "pattern": "What freelancers reported (the pattern, in plain words)",
    "examples": "Examples (quote or summarise, no freelancer names)",
    "expectation": "What we expect from now on",
    "policy": "Which rule this concerns",
}


@dataclass(frozen=True)
class Template:
    key: str
    label: str
    subject: str
    body: str

    @property
    def placeholders(self) -> list[str]:
        seen: list[str] = []
        for name in PLACEHOLDER.findall(self.subject + "\n" + self.body):
            if name not in seen:
                seen.append(name)
        return seen

    @property
    def fields(self) -> list[str]:
        """The placeholders a moderator must fill."""
        return [p for p in self.placeholders if p not in AUTO]


TEMPLATES: dict[str, Template] = {t.key: t for t in (
    Template(
        key="negative_feedback",
        label="Consistently negative feedback: first warning",
        subject="About the feedback freelancers leave on your contracts",
        body=(
            "Hello {client_name},\n\n"
            "Several freelancers who worked with you recently described a similar problem: "
            "{pattern}\n\n"
            "For example: {examples}\n\n"
            "We want every contract on the marketplace to be fair to both sides. From now on "
            "we expect: {expectation}\n\n"
            "We will look at your contracts again on {follow_up_date}. If the pattern "
            "continues, your account may be suspended.\n\n"
            "Trust & Safety team"
        ),
    ),
    Template(
        key="policy_reminder",
        label="Policy reminder",
        subject="A reminder about the marketplace rules",
        body=(
            "Hello {client_name},\n\n"
            "One of your recent actions goes against our rules: {policy}\n\n"
            "What happened: {examples}\n\n"
            "Please make sure this does not happen again. We will review your account on "
            "{follow_up_date}.\n\n"
            "Trust & Safety team"
        ),
    ),
    Template(
        key="final_warning",
        label="Final warning before suspension",
        subject="Final warning: your account is at risk of suspension",
        body=(
            "Hello {client_name},\n\n"
            "We contacted you before about {pattern}. Freelancers continue to report it, "
            "for example: {examples}\n\n"
            "This is a final warning. If nothing changes by {follow_up_date}, your account "
            "will be suspended.\n\n"
            "Trust & Safety team"
        ),
    ),
)}


@dataclass(frozen=True)
class Message:
    template: str
    subject: str
    body: str
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def get(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError as exc:
        raise ServiceError("choose a message template") from exc


def render(key: str, *, client: Client, fields: dict[str, str], follow_up_due_at: datetime,
           strict: bool) -> Message:
    """Fill the template. Unfilled moderator fields stay visible as ``[name]`` in a
    preview; ``strict`` refuses them instead (what sending does)."""
    template = get(key)
    values = {"client_name": client.name,
              "follow_up_date": follow_up_due_at.strftime("%d %B %Y")}
    missing = []
    for name in template.fields:
        value = (fields.get(name) or "").strip()
        if len(value) > FIELD_MAX:
            raise ServiceError(f"{FIELD_LABELS.get(name, name)}: at most {FIELD_MAX} characters")
        if not value:
            missing.append(name)
        values[name] = value or f"[{name}]"
    if strict and missing:
        raise ServiceError("fill in every part of the message before sending: "
                           + ", ".join(FIELD_LABELS.get(m, m) for m in missing))

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    return Message(template=key, subject=fill(template.subject), body=fill(template.body),
                   missing=missing)
