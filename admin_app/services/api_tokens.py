"""API tokens: create (the token is returned once), list, revoke, and check a presented token.

A token is `cak_` + 43 URL-safe characters (32 random bytes); only its SHA-256 is stored, so a
copy of the database reveals no usable token. Creating and revoking are logged operations
(entity `api_token`). A revoked or expired token is refused on its next request: every request
looks its token up by hash (a unique index), nothing is cached.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from admin_app.extensions import db
from admin_app.models import ApiToken
from admin_app.models.types import utcnow
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import Conflict, InvalidInput, NotFound
from admin_app.services.transaction import write_transaction

NEVER_EXPIRES = "never"  # what the log records for a token without an end

TOKEN_PREFIX = "cak_"  # "customer admin key": recognisable in logs and by secret scanners
TOKEN_BYTES = 32
SHOWN_PREFIX_CHARS = 12  # cak_ and 8 random characters, shown in lists
NAME_MAX_LENGTH = 64
MAX_EXPIRES_DAYS = 3650
MAX_TOKEN_LENGTH = 200  # longer Authorization values are refused without hashing them


@dataclass(frozen=True)
class CreatedToken:
    id: int
    name: str
    token: str  # the plaintext: shown once, never stored
    expires_at: datetime | None
    operation_id: int


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    token_prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH or not name.isprintable():
        raise InvalidInput(
            _("A token name has 1 to %(max)s printable characters.", max=NAME_MAX_LENGTH)
        )
    return name


def create_token(name: str, *, expires_days: int | None, actor: Actor) -> CreatedToken:
    """Create a token named `name` (unique), valid for `expires_days` days (None: until
    revoked). Commits and logs `api_token_created`. Returns the plaintext once."""
    name = _clean_name(name)
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InvalidInput(
            _("Expiry must be 1 to %(max)s days, or empty for none.", max=MAX_EXPIRES_DAYS)
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    expires_at = now + timedelta(days=expires_days) if expires_days is not None else None
    with write_transaction() as session:
        if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
            raise Conflict(_("An API token named %(name)s already exists.", name=name))
        row = ApiToken(
            name=name,
            token_hash=hash_token(token),
            token_prefix=token[:SHOWN_PREFIX_CHARS],
            created_at=now,
            created_by=actor.username,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        appended = append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.API_TOKEN_CREATED,
                changed_count=1,
                scope={"api_token": name},
                entries=[
                    (
                        "api_token",
                        row.id,
                        name,
                        "expires_at",
                        None,
                        expires_at.isoformat() if expires_at else NEVER_EXPIRES,
                    )
                ],
            )
        )
        created = CreatedToken(
            id=row.id, name=name, token=token, expires_at=expires_at, operation_id=appended.id
        )
    return created


def list_tokens() -> list[TokenRow]:
    rows = db.session.execute(
        select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.token_prefix,
            ApiToken.created_at,
            ApiToken.created_by,
            ApiToken.expires_at,
            ApiToken.revoked_at,
        ).order_by(ApiToken.name)
    ).all()
    return [TokenRow(*row) for row in rows]


def revoke_token(name: str, *, actor: Actor) -> int:
    """Revoke the token named `name`: refused from its next request on. Commits and logs
    `api_token_revoked`; returns the operation id. NotFound / Conflict (already revoked)."""
    with write_transaction() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.name == name)
        ).first()
        if row is None:
            raise NotFound(_("No API token is named %(name)s.", name=name))
        if row.revoked_at is not None:
            raise Conflict(_("The API token %(name)s is already revoked.", name=name))
        now = utcnow()
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(revoked_at=now))
        appended = append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.API_TOKEN_REVOKED,
                changed_count=1,
                scope={"api_token": name},
                entries=[("api_token", row.id, name, "revoked_at", None, now.isoformat())],
            )
        )
        operation_id = appended.id
    return operation_id


def authenticate(token: str) -> int | None:
    """The id of the valid (not revoked, not expired) token `token`, else None. Read-only."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    presented = hash_token(token)
    row = db.session.execute(
        select(ApiToken.id, ApiToken.token_hash, ApiToken.expires_at, ApiToken.revoked_at).where(
            ApiToken.token_hash == presented
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, presented):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    return row.id
