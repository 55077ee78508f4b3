"""The API's types: request bodies and query strings it accepts, representations it returns.

Requests are Pydantic models (types checked here, rules in the domain); responses are
TypedDicts, serialized by Pydantic from the dicts the representations module builds. Both
generate the OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, NotRequired, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict
from typing_extensions import TypedDict

from microblog.accounts import rules
from microblog.db import MAX_ID

T = TypeVar("T")

# ISO 8601 with an explicit offset ("+00:00"), as Python writes it.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _Body(BaseModel):
    # Unknown fields (an `id`, a `password_hash`, ...) are ignored, so they can never be
    # mass-assigned; strict so that 123 is not quietly taken for "123".
    model_config = ConfigDict(extra="ignore", strict=True)


# The account rules as the document states them. They are enforced once, by
# microblog/accounts/rules.py (whose messages name the field), not here a second time.
_USERNAME_RULE: JsonDict = {
    "pattern": rules.USERNAME_PATTERN,
    "minLength": 1,
    "maxLength": rules.USERNAME_MAX,
}
_EMAIL_RULE: JsonDict = {"format": "email", "maxLength": rules.EMAIL_MAX}
_PASSWORD_RULE: JsonDict = {"minLength": rules.PASSWORD_MIN, "maxLength": rules.PASSWORD_MAX}
_ABOUT_ME_RULE: JsonDict = {"maxLength": rules.ABOUT_ME_MAX}


class UserCreate(_Body):
    username: str = Field(
        description="1-64 letters, digits, '_', '.' or '-', not '.' or '..'; unique",
        json_schema_extra=_USERNAME_RULE,
    )
    email: str = Field(description="a valid address, unique", json_schema_extra=_EMAIL_RULE)
    password: str = Field(description="8 to 256 characters", json_schema_extra=_PASSWORD_RULE)
    about_me: str = Field(
        "", description="at most 140 characters (once trimmed)", json_schema_extra=_ABOUT_ME_RULE
    )


# A field that may be left out but is a string when given (null is refused): so documented.
Omittable = WithJsonSchema({"type": "string"})


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """An omittable field's default (None) is no string: the document shows none."""
    for field_schema in schema.get("properties", {}).values():
        if "default" in field_schema and field_schema["default"] is None:
            del field_schema["default"]


class UserUpdate(_Body):
    """Every field optional: one left out keeps its value."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    username: Annotated[str | None, Omittable] = None
    email: Annotated[str | None, Omittable] = None
    about_me: Annotated[str | None, Omittable] = None
    password: Annotated[str | None, Omittable] = Field(
        None, description="the new password; needs old_password"
    )
    old_password: Annotated[str | None, Omittable] = Field(
        None,
        description="the current password: needed to change the password or the email address",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """An explicit null would otherwise be taken for "leave it", silently: no account is
        without a username or an email, and "" is how about_me is cleared."""
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


class AccountDeletion(_Body):
    # No length rule: a password of any other length is simply not the current one (400).
    password: str = Field(description="your current password, to confirm")


class PostBody(_Body):
    body: str = Field(description="1 to 280 characters once trimmed")


class MessageBody(_Body):
    recipient_id: int = Field(description="the user to send to")
    body: str = Field(description="1 to 1000 characters once trimmed")


# --- query strings ---------------------------------------------------------------------

MAX_PAGE = 2**31 - 1
_HUGE = 10**18


def _positive_number(value: Any) -> Any:
    """Plain digits as an int, without Python's 4,300-digit limit (over 18 count as huge)."""
    if not isinstance(value, str):
        return value
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"must be a positive integer, not {value[:20]!r}")
    digits = value.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _HUGE


PositiveInt = Annotated[int, BeforeValidator(_positive_number), Field(ge=1)]


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: Annotated[PositiveInt, Field(le=MAX_PAGE, description="page number, from 1")] = 1
    per_page: Annotated[
        PositiveInt, Field(description="items per page; at most 100, larger values are capped")
    ] = 10


class TimelineQuery(PageQuery):
    """Page numbers, or keyset paging by id as Mastodon does it (newest first)."""

    max_id: (
        Annotated[PositiveInt, Field(le=MAX_ID, description="only items older than this id")] | None
    ) = None
    since_id: (
        Annotated[
            PositiveInt,
            Field(le=MAX_ID, description="only items newer than this id (the newest of them)"),
        ]
        | None
    ) = None
    min_id: (
        Annotated[
            PositiveInt,
            Field(le=MAX_ID, description="only items newer than this id (the ones right after it)"),
        ]
        | None
    ) = None


def _notification_point(value: str) -> str:
    """A notification id, or an ISO 8601 time that exists in UTC (9999-12-31T23:59-01:00 does
    not: the database would be asked about year 10000)."""
    if value.isascii() and value.isdigit():
        return value
    try:
        moment = datetime.fromisoformat(value)
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("must be a notification id or an ISO 8601 time") from None
    return value


class NotificationsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: Annotated[str, AfterValidator(_notification_point)] | None = Field(
        None,
        description="only notifications after this point: a notification id, or an ISO 8601 "
        "time (with offset; UTC if none)",
    )
    per_page: Annotated[PositiveInt, Field(description="at most 100")] = 100


# --- representations -------------------------------------------------------------------


# The person's picture: an SVG identicon this server draws from the user id (nothing of the
# email), unless the server is set to show Gravatar (AVATARS=gravatar).
Avatar = Annotated[
    str,
    Field(
        description="the person's picture: by default /avatars/<id>.svg, an identicon drawn"
        " from the user id (never the email), cacheable for good; a Gravatar URL where the"
        " server opts in"
    ),
]


class UserLinks(TypedDict):
    self: str
    followers: str
    following: str
    posts: str
    avatar: Avatar


class UserOut(TypedDict):
    id: int
    username: str
    last_seen: Timestamp
    about_me: str
    post_count: int
    follower_count: int
    following_count: int
    _links: UserLinks
    email: NotRequired[str]
    unread_message_count: NotRequired[int]


class ShortUserLinks(TypedDict):
    self: str
    avatar: Avatar


class ShortUser(TypedDict):
    id: int
    username: str
    _links: ShortUserLinks


class PostLinks(TypedDict):
    self: str
    author: str


class PostOut(TypedDict):
    id: int
    body: str
    timestamp: Timestamp
    language: str | None
    author: ShortUser
    _links: PostLinks


class MessageLinks(TypedDict):
    self: str
    sender: str
    recipient: str


class MessageOut(TypedDict):
    id: int
    body: str
    timestamp: Timestamp
    sender: ShortUser
    recipient: ShortUser
    _links: MessageLinks


class NotificationOut(TypedDict):
    id: int
    name: str
    payload: dict[str, Any]
    timestamp: Timestamp


class Meta(TypedDict):
    page: int | None
    per_page: int
    total_pages: int
    total_items: int


class CollectionLinks(TypedDict):
    self: str
    next: str | None
    prev: str | None


class Collection(TypedDict, Generic[T]):
    items: list[T]
    _meta: Meta
    _links: CollectionLinks


class TokenOut(TypedDict):
    token: str
    expires_at: Timestamp


class TokenInfo(TypedDict):
    """One of your sessions or tokens, as you see it in the list: never its secret."""

    id: int
    kind: Annotated[str, Field(description="`api` (a bearer token) or `web` (a site session)")]
    label: Annotated[str, Field(description="the User-Agent of the client that obtained it")]
    created_at: Timestamp
    last_used_at: Annotated[Timestamp, Field(description="to within a minute")]
    expires_at: Timestamp
    current: Annotated[bool, Field(description="true for the token this request is made with")]


class TokenList(TypedDict):
    items: list[TokenInfo]


class ErrorOut(TypedDict):
    error: str
    message: str
