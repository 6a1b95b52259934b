"""Column types shared by the models."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import DateTime, Integer, Numeric, TypeDecorator
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite gives naive values back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
money = Annotated[Decimal, mapped_column(Numeric(14, 2), default=Decimal("0.00"))]
created_ts = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
updated_ts = Annotated[
    datetime, mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
]


def render_alembic_type(type_, object_, autogen_context):
    """Autogenerate renders UTCDateTime as the plain type it stores, so revisions do not
    import application code."""
    if isinstance(type_, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
