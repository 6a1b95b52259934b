"""Per-user preferences (not operations: nothing here is logged)."""

from sqlalchemy import update

from admin_app.models import StaffUser
from admin_app.services.transaction import write_transaction


def set_locale(user_id: int, locale: str) -> None:
    """Remember the user's interface language. Commits."""
    with write_transaction() as session:
        session.execute(update(StaffUser).where(StaffUser.id == user_id).values(locale=locale))


def set_time_zone(user_id: int, time_zone: str | None) -> None:
    """Remember the zone the user's pages show times in (None: APP_TIMEZONE). Commits."""
    with write_transaction() as session:
        session.execute(
            update(StaffUser).where(StaffUser.id == user_id).values(time_zone=time_zone)
        )
