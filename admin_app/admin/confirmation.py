"""Signed, expiring confirmation tokens: they bind a previewed snapshot to its user and action.

The snapshot itself lives server-side (services.status_change); the token only names it, so
the selection cannot be edited in the form. Single use is enforced by the service, in the same
transaction as the change."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from admin_app.services.errors import Expired, InvalidInput
from admin_app.services.input_rules import parse_count

_SALT = "customer-status-confirmation"


@dataclass(frozen=True)
class ConfirmationClaim:
    request_id: str
    user_id: int
    action: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def sign(claim: ConfirmationClaim) -> str:
    return _serializer().dumps([claim.request_id, claim.user_id, claim.action])


def verify(token: str | None) -> ConfirmationClaim:
    """The claim inside `token`; raises Expired (too old) or InvalidInput (tampered)."""
    max_age = current_app.config["CONFIRMATION_MAX_AGE_SECONDS"]
    try:
        request_id, user_id, action = _serializer().loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise Expired(_("This confirmation has expired. Please start again.")) from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput(_("This confirmation is not valid. Please start again.")) from None
    return ConfirmationClaim(str(request_id), int(user_id), str(action))


def asked_page() -> int:
    """The page of a list the address asks for (`?page=`, from 0; 0 for anything else)."""
    return parse_count(request.args.get("page")) or 0


def preview_pager(preview, size: int, url: Callable[[int | None], str]) -> dict:
    """The pager under a confirmation's customer list (`url(page)` addresses a page)."""
    return page_links(preview.offset, len(preview.rows), preview.listed, size, url)


def page_links(offset: int, shown: int, total: int, size: int, url) -> dict:
    """What admin/_pager.html shows under a list of `total` shown `size` at a time, this page
    holding `shown` from `offset`: "first–last of total" and the Previous / Next addresses."""
    page = offset // size
    return {
        "first": offset + 1 if shown else 0,
        "last": offset + shown,
        "total": total,
        "prev_url": url(page - 1) if page > 0 else None,
        "next_url": url(page + 1) if offset + size < total else None,
    }
