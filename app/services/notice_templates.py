"""What an affected freelancer is told, one template per reason.

A notice never reveals the evidence, the moderator or their comment: it is rendered from
the reason, how the freelancer interacted with the post and the post's marketplace id and
posting date only - not even the post's title, which can hold the very phrases the
detectors flagged (a contact handle, a payment request). The marketplace, which receives
the post's id with each notice, can show the title itself. Plain text (the e-mail is
text/plain; the console escapes what it shows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: the notice reasons: a removal's reason code, or a client suspended for fraud
SCAM, OFF_PLATFORM, ACCOUNT_RENTAL, CLIENT_FRAUD = ("scam", "off_platform", "account_rental",
                                                    "client_fraud")

_HOW = {"applicant": "applied to", "messaged": "messaged the client about"}

_SUBJECTS = {
    SCAM: "A job you {how} was removed as a likely scam",
    OFF_PLATFORM: "A job you {how} was removed: it asked to work or pay off the platform",
    ACCOUNT_RENTAL: "A job you {how} was removed: it asked to rent or share accounts",
    CLIENT_FRAUD: "A client whose job you {how} was suspended for fraud",
}

_BODIES = {
    SCAM: (
        "Our trust and safety team removed {post}, which you {how}, because it looks like "
        "a scam.\n\n"
        "If the client asked you for money (a fee, a deposit, equipment to buy), for your "
        "identity documents or bank details, or to install software: do not send or install "
        "anything, and stop the conversation. If you already shared a password, change it. "
        "If you sent money, contact support right away."),
    OFF_PLATFORM: (
        "Our trust and safety team removed {post}, which you {how}, because it asked "
        "freelancers to talk or to be paid outside the platform.\n\n"
        "Work and payments arranged off the platform are not protected: no escrow, no "
        "dispute resolution, no payment guarantee. Keep the conversation and any payment "
        "on the platform, and do not share your personal contact details or payment "
        "information with this client."),
    ACCOUNT_RENTAL: (
        "Our trust and safety team removed {post}, which you {how}, because it asked "
        "freelancers to rent out, sell or share their accounts.\n\n"
        "Never let anyone else use your account, log in for you, or use your identity "
        "documents: you remain responsible for what is done with it. If you shared a "
        "password or a verification code, change your password and contact support."),
    CLIENT_FRAUD: (
        "Our trust and safety team suspended the account of the client behind {post}, "
        "which you {how}, for fraud. {others}Their open job posts have been taken down.\n\n"
        "Do not continue any work or conversation with this client outside the platform, "
        "do not send them money or personal documents, and if you shared a password, "
        "change it. If you are owed money for work already done, contact support."),
}

_FOOTER = ("\n\nYou are receiving this because you interacted with this job on the "
           "marketplace. No action is needed if you had no further contact with the client.")


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def reasons() -> tuple[str, ...]:
    return tuple(_BODIES)


def render(reason: str, *, kind: str, post_ref: str, posted_at: datetime | None,
           other_posts: int = 0) -> Notice:
    """The notice for ``reason`` (KeyError for a reason without a template)."""
    how = _HOW.get(kind, "interacted with")
    when = f" (posted {posted_at:%d %B %Y})" if posted_at is not None else ""
    post = f"the job post {post_ref}{when}"
    others = ""
    if other_posts == 1:
        others = "You had also interacted with one other of their posts. "
    elif other_posts > 1:
        others = f"You had also interacted with {other_posts} other of their posts. "
    body = _BODIES[reason].replace("{post}", post).replace("{how}", how) \
        .replace("{others}", others)
    return Notice(subject=_SUBJECTS[reason].replace("{how}", how), body=body + _FOOTER)
