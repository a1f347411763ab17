"""The marketplace API's wire format: pydantic models that validate what comes in (API
bodies, import rows) and shape what goes out. The OpenAPI document is generated from
these same classes (``app/api/openapi.py``), so the contract cannot drift from the code.

Validation is strict: no type coercion (``"5"`` is not a rating, ``1`` is not a
boolean), unknown fields are refused, and datetimes must be ISO 8601 strings *with* a
timezone (``Z`` or ``+hh:mm``); a naive datetime is ambiguous and is refused.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from models import ClientStatus, FlagReason, FlagStatus, PostStatus
from models.base import MAX_ID, MAX_YEAR, MIN_YEAR
from models.taxonomy import CATEGORIES

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


# --- field types --------------------------------------------------------------------------

def _clean_text(value: str) -> str:
    """Refuse text no database can store: NUL characters and lone UTF-16 surrogates."""
    if "\x00" in value:
        raise PydanticCustomError("text", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "must be valid Unicode text") from None
    return value


def _aware_datetime(value: Any) -> datetime:
    """ISO 8601 string with a timezone -> UTC datetime."""
    if not isinstance(value, str):
        raise PydanticCustomError("datetime", "must be an ISO 8601 datetime string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "datetime", "must be an ISO 8601 datetime, e.g. 2024-05-01T12:00:00Z") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PydanticCustomError(
            "datetime", "must include a timezone (Z or an offset such as +02:00)")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise PydanticCustomError("datetime", f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return parsed.astimezone(timezone.utc)


def text(*, max_length: int, min_length: int = 0) -> Any:
    """A string type with length limits that refuses NUL and lone surrogates."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(_clean_text)]


ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN,
                                  description="The marketplace's own id (1-64 of A-Z a-z 0-9 . _ : -)")]
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_aware_datetime),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "ISO 8601 with a timezone, e.g. 2024-05-01T12:00:00Z, "
                                   f"in the years {MIN_YEAR}-{MAX_YEAR} (422 otherwise)"}),
]
Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
Skill = text(min_length=1, max_length=64)


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=False)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- input ----------------------------------------------------------------------------------

class ClientIn(_In):
    """A client (the buyer who posts jobs), as the marketplace knows them."""

    name: text(min_length=1, max_length=200)
    country: text(max_length=64) | None = None
    joined_at: AwareDatetime | None = None
    payment_verified: bool = False
    phone_verified: bool = False
    identity_verified: bool = False


#: at most this many freelancers per post in one call
CONTACTS_MAX = 1000
#: local@domain.tld, no spaces or control characters (a plausibility check: the address is
#: the marketplace's; explicit ranges, so Python's and pydantic's regex engines agree)
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,189}\.[^@\x00-\x20\x7f]{1,63}$"


class ContactIn(_In):
    """A freelancer who interacted with the post: applied to it, or messaged its client."""

    freelancer_id: ExternalId = Field(description="The marketplace's id of the freelancer")
    kind: Literal["applicant", "messaged"]
    email: Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN, description=(
        "where the notice is also e-mailed (with SMTP_HOST set); omit to leave it to the "
        "marketplace (the freelancer.notice webhook)"))] | None = None


def _unique_freelancers(contacts: list[ContactIn] | None) -> list[ContactIn] | None:
    seen: set[str] = set()
    for contact in contacts or []:
        if contact.freelancer_id in seen:
            raise PydanticCustomError("duplicate", "lists freelancer {freelancer} twice",
                                      {"freelancer": contact.freelancer_id})
        seen.add(contact.freelancer_id)
    return contacts


Contacts = Annotated[list[ContactIn], Field(max_length=CONTACTS_MAX),
                     AfterValidator(_unique_freelancers)]


class ContactsIn(_In):
    """Every freelancer who applied to the post or messaged its client (the whole list:
    it replaces the post's contacts; the same list again changes nothing)."""

    contacts: Contacts


class ContactsOut(BaseModel):
    post_id: str
    contacts: int = Field(description="how many freelancers the post now lists")
    result: Literal["updated", "unchanged"]


class PostIn(_In):
    """A job post. ``client_id`` is the client's external id. ``contacts``, if given,
    replaces the post's freelancer contacts (as ``PUT /posts/{id}/contacts``); omitted,
    they are left as they are."""

    client_id: ExternalId
    title: text(min_length=1, max_length=300)
    description: text(max_length=50_000)
    category: Category | None = None
    skills: Annotated[list[Skill], Field(max_length=50)] = []
    budget: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None
    posted_at: AwareDatetime
    contacts: Contacts | None = None


class FeedbackIn(_In):
    """A freelancer's feedback about a client, 1-5 stars."""

    client_id: ExternalId
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: text(max_length=10_000) = ""
    created_at: AwareDatetime
    freelancer_ref: text(max_length=64) | None = None
    contract_ref: text(max_length=64) | None = None


class ClientItem(ClientIn):
    external_id: ExternalId


class PostItem(PostIn):
    external_id: ExternalId


class FeedbackItem(FeedbackIn):
    external_id: ExternalId


class BatchIn(_In):
    """Clients, posts and feedback written in one transaction: all or nothing."""

    clients: list[ClientItem] = []
    posts: list[PostItem] = []
    feedback: list[FeedbackItem] = []


class FlagQuery(_In):
    """Query string of ``GET /flags`` (values arrive as text)."""

    model_config = ConfigDict(strict=False, extra="forbid")

    status: FlagStatus | None = None
    reason: FlagReason | None = None
    subject: Annotated[str, Field(
        pattern=r"^(post|client)(:[A-Za-z0-9][A-Za-z0-9._:-]{0,63})?$",
        description="post, client, post:<external_id> or client:<external_id>")] | None = None
    cursor: Annotated[int, Field(ge=0, le=MAX_ID, description="next_cursor of the previous page")] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


ITEM_MODELS: dict[str, type[_In]] = {"clients": ClientItem, "posts": PostItem,
                                     "feedback": FeedbackItem}


class AppealIn(_In):
    """An appeal against a decision, forwarded by the marketplace: ``decision`` is the id
    carried by the decision's webhook event (its ``decision`` field), ``appellant`` the
    client's external id."""

    decision: Annotated[int, Field(ge=1, le=MAX_ID, description="the decision's id, from its webhook event")]
    appellant: ExternalId
    text: text(min_length=1, max_length=10_000)


# --- output ---------------------------------------------------------------------------------

class FlagOut(_Out):
    id: int
    subject_type: Literal["post", "client"]
    subject_id: str = Field(description="external id of the post or client")
    client_id: str
    post_id: str | None
    reason: FlagReason
    status: FlagStatus
    score: float
    model_version: str | None
    policy_types: list[str] | None
    suggested_category: str | None
    evidence: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class FlagPage(BaseModel):
    items: list[FlagOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


Result = Literal["created", "updated", "unchanged"]


class ClientOut(_Out):
    external_id: str
    name: str
    country: str | None
    joined_at: datetime | None
    payment_verified: bool
    phone_verified: bool
    identity_verified: bool
    status: ClientStatus
    negativity_score: float | None
    scored_at: datetime | None
    model_version: str | None
    open_flags: list[FlagOut] = []
    result: Result | None = Field(default=None, description="set on writes")


class HoldOut(_Out):
    held_at: datetime
    reason: str = Field(description="the tier key that held it: scam, miscategorised or "
                                    "policy:<type>")
    precision: float = Field(description="the measured precision that allowed the hold")
    precision_lower_bound: float = Field(description="its Wilson 95 % lower bound")
    decisions: int = Field(description="the human decisions it was measured over")


class PostOut(_Out):
    external_id: str
    client_id: str
    title: str
    description: str
    category: str | None
    skills: list[str]
    budget: float | None
    posted_at: datetime
    status: PostStatus
    removal_reason: str | None = Field(default=None, description=(
        "why a removed post was taken down (the post.removed webhook's reason): scam, a "
        "policy type, not_a_job (a freelancer's self-ad in the jobs section) or "
        "client_suspended; null while the post is not removed"))
    held: bool = Field(default=False, description=(
        "hidden automatically (status under_review, the post.held webhook) until a "
        "moderator releases it (post.released) or removes it"))
    hold: HoldOut | None = Field(default=None, description="the hold in force, if held")
    content_hash: str
    scores: dict[str, Any] | None
    scored_at: datetime | None
    model_version: str | None
    open_flags: list[FlagOut] = []
    result: Result | None = Field(default=None, description="set on writes")


class FeedbackOut(_Out):
    external_id: str
    client_id: str
    rating: int
    comment: str
    created_at: datetime
    freelancer_ref: str | None
    contract_ref: str | None
    result: Result


class Counts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class BatchOut(BaseModel):
    clients: Counts
    posts: Counts
    feedback: Counts


class AppealOut(BaseModel):
    id: int
    decision: int
    appellant: str
    status: Literal["pending", "upheld", "overturned"]
    created_at: datetime
    decided_at: datetime | None
    appeal_deadline: datetime = Field(description="the end of the decision's appeal window")


class ErrorOut(BaseModel):
    error: str
    fields: dict[str, str] | None = Field(
        default=None, description="per-field messages, keyed by path such as posts[3].rating")


# --- error messages ---------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "finite_number": "must be a finite number",
    "string_pattern_mismatch": "must be 1-64 characters of A-Z a-z 0-9 . _ : - (starting with a letter or digit)",
}
#: field-specific wording for range errors
_RANGES = {"rating": "must be between 1 and 5", "budget": "must be between 0 and 1000000000",
           "limit": "must be between 1 and 200",
           "cursor": f"must be an integer from 0 to {MAX_ID}",
           "decision": f"must be an integer from 1 to {MAX_ID}"}


def path_of(loc: tuple[Any, ...], prefix: str = "") -> str:
    """``("posts", 3, "rating")`` -> ``posts[3].rating``."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return _RANGES.get(field, err["msg"])
    if kind == "literal_error" or kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}" if expected else err["msg"]
    if kind == "string_too_long":
        return f"must be at most {err['ctx']['max_length']} characters"
    if kind in {"string_too_short", "too_short"}:
        return "must not be empty"
    if kind == "too_long":
        return f"must have at most {err['ctx']['max_length']} items"
    if kind in {"int_parsing", "int_from_float"}:
        return "must be an integer"
    if kind == "string_pattern_mismatch" and field == "email":
        return "must be an e-mail address"
    if kind == "string_pattern_mismatch" and field == "subject":
        return "must be post, client, post:<external_id> or client:<external_id>"
    return _MESSAGES.get(kind, err["msg"])


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Per-field messages for a ValidationError (first message per path wins)."""
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        out.setdefault(path_of(tuple(err["loc"]), prefix), _message(err))
    return out

