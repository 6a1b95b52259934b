"""API tokens: read-only credentials for other systems (sales orders, invoicing, shop, CRM).

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created.
"""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, created_ts, intpk


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # hex SHA-256 of the whole token; every API request looks its token up by it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the token's first characters, so a list can tell tokens apart without revealing them
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[created_ts]
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        return self.name
