"""Staff users: creation, password policy, and the changes an admin makes to them.

Every change is one logged operation (entity `staff_user`, one entry per changed field;
passwords and hashes are never logged). The last active admin can never be disabled or
demoted. A change of role, active flag or password rotates the user's session token, so
their sessions and remember-me cookies end on their next request.
"""

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from zxcvbn import zxcvbn

from admin_app.models import StaffUser
from admin_app.models.user import hash_password, new_session_token
from admin_app.roles import ROLES, Role
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import Conflict, InvalidInput, NotFound
from admin_app.services.input_rules import audit_text
from admin_app.services.transaction import write_transaction

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
USERNAME_MAX_LENGTH = 64
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "123456789012",
        "1234567890123",
        "qwertyuiop12",
        "qwerty123456",
        "iloveyou1234",
        "administrator",
        "admin1234567",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "passw0rd1234",
        "abcdefghijkl",
        "111111111111",
        "000000000000",
        "aaaaaaaaaaaa",
    }
)


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` is not acceptable, or None when it is."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("Password must be at least %(min)d characters.", min=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _("Password must be at most %(max)d characters.", max=PASSWORD_MAX_LENGTH)
    if username and password.lower() == username.lower():
        return _("Password must not be the username.")
    if password.lower() in COMMON_PASSWORDS:
        return _("This password is too common; choose another.")
    # zxcvbn estimates how many guesses the password takes (dictionaries, names, keyboard
    # patterns, dates, l33t, the username); below 3 an offline attack on a leaked hash wins.
    if zxcvbn(password, user_inputs=[username], max_length=PASSWORD_MAX_LENGTH)["score"] < 3:
        return _("This password is too easy to guess; use a longer phrase of unrelated words.")
    return None


def _validate_new_user(username: str, role: str, password: str) -> str:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX_LENGTH or not username.isprintable():
        raise InvalidInput(
            _("Username must be 1 to %(max)d printable characters.", max=USERNAME_MAX_LENGTH),
            field="username",
        )
    if role not in ROLES:
        raise InvalidInput(
            _(
                "Unknown role %(role)s; use one of: %(roles)s.",
                role=repr(role),
                roles=", ".join(ROLES),
            )
        )
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput(problem, field="password")
    return username


def create_user(username: str, *, role: str, password: str, actor: Actor) -> StaffUser:
    """Create an active staff user and log it. Commits. Raises InvalidInput or Conflict."""
    username = _validate_new_user(username, role, password)
    with write_transaction() as session:
        taken = session.execute(
            select(StaffUser.id).where(func.lower(StaffUser.username) == username.lower())
        ).first()
        if taken:
            raise Conflict(_("A staff user named %(name)s already exists.", name=repr(username)))
        user = StaffUser(username=username, role=role, is_active=True)
        user.set_password(password)
        session.add(user)
        session.flush()
        append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.STAFF_CREATE,
                entries=[
                    ("staff_user", user.id, username, "role", None, role),
                    ("staff_user", user.id, username, "is_active", None, "true"),
                ],
                changed_count=1,
            )
        )
    return user


PASSWORD_CHANGED = "(changed)"  # what the log records for a new password: never the password


def update_user(
    user_id: int,
    *,
    role: str | None = None,
    is_active: bool | None = None,
    new_password: str | None = None,
    actor: Actor,
) -> list[str]:
    """Change a staff user's role, active flag and/or password (None: leave as is).

    Commits. Returns the names of the fields that changed (empty: nothing written, nothing
    logged). Raises NotFound, InvalidInput (unknown role, weak password) or Conflict (it
    would leave no active admin)."""
    if role is not None and role not in ROLES:
        raise InvalidInput(
            _(
                "Unknown role %(role)s; use one of: %(roles)s.",
                role=repr(role),
                roles=", ".join(ROLES),
            )
        )
    with write_transaction() as session:
        # The writers' lock (write_transaction) serialises staff changes, so two admins
        # cannot demote each other.
        user = session.execute(
            select(StaffUser).where(StaffUser.id == user_id).with_for_update()
        ).scalar_one_or_none()
        if user is None:
            raise NotFound(_("This staff user no longer exists."))
        if new_password is not None and (problem := password_problem(new_password, user.username)):
            raise InvalidInput(problem, field="new_password")
        entries: list[tuple[str, int, str, str, str | None, str]] = []
        values: dict[str, Any] = {}
        if role is not None and role != user.role:
            entries.append(("staff_user", user.id, user.username, "role", user.role, role))
            values["role"] = role
        if is_active is not None and is_active != user.is_active:
            entries.append(
                (
                    "staff_user",
                    user.id,
                    user.username,
                    "is_active",
                    audit_text(user.is_active),
                    audit_text(is_active),
                )
            )
            values["is_active"] = is_active
        if new_password is not None:
            entries.append(
                ("staff_user", user.id, user.username, "password", None, PASSWORD_CHANGED)
            )
        if not entries:
            return []
        stays_admin = values.get("role", user.role) == Role.ADMIN and values.get(
            "is_active", user.is_active
        )
        if user.role == Role.ADMIN and user.is_active and not stays_admin:
            _refuse_removing_last_admin(session, user.id)
        if new_password is not None:
            values.update(password_hash=hash_password(new_password), failed_login_count=0)
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(**values, session_token=new_session_token())
        )
        append_operation(
            NewOperation(
                actor=actor, action=OperationAction.STAFF_UPDATE, entries=entries, changed_count=1
            )
        )
    return [entry[3] for entry in entries]


def _refuse_removing_last_admin(session, user_id: int) -> None:
    others = session.execute(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True), StaffUser.id != user_id)
    ).scalar_one()
    if not others:
        raise Conflict(
            _(
                "This is the last active admin: it cannot be disabled or demoted. "
                "Make another user admin first."
            )
        )
