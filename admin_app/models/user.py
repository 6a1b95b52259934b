"""Staff users: the people who log in, with one role each."""

import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, created_ts, intpk, updated_ts
from admin_app.roles import ROLES


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def hash_password(password: str) -> str:
    """A password's stored form: Werkzeug's scrypt with the app's PASSWORD_HASH_METHOD. The
    method and its cost are part of the hash, so checking one needs no setting."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class StaffUser(UserMixin, Model):
    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role_known"),
    )

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # IANA time zone the pages show times in; NULL: the app's APP_TIMEZONE. Stored times are UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Rotated on logout, disable and role change: every older session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<StaffUser {self.username} ({self.role})>"
