"""Staff users: creation, password policy, and the changes an admin makes to them.

Every change is one logged operation; the last active admin can never be disabled or demoted.
"""

from sqlalchemy import func, select

from admin_app.auth.roles import ROLES
from admin_app.extensions import db
from admin_app.models import StaffUser
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import Conflict, InvalidInput
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
        return f"Password must be at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password must be at most {PASSWORD_MAX_LENGTH} characters."
    if username and password.lower() == username.lower():
        return "Password must not be the username."
    if password.lower() in COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


def _validate_new_user(username: str, role: str, password: str) -> str:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX_LENGTH or not username.isprintable():
        raise InvalidInput(f"Username must be 1 to {USERNAME_MAX_LENGTH} printable characters.")
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput(problem)
    return username


def create_user(username: str, *, role: str, password: str, actor: Actor) -> StaffUser:
    """Create an active staff user and log it. Commits. Raises InvalidInput or Conflict."""
    username = _validate_new_user(username, role, password)
    with write_transaction() as session:
        taken = session.execute(
            select(StaffUser.id).where(func.lower(StaffUser.username) == username.lower())
        ).first()
        if taken:
            raise Conflict(f"A staff user named {username!r} already exists.")
        user = StaffUser(username=username, role=role, is_active=True)
        user.set_password(password)
        session.add(user)
        session.flush()
        append_operation(
            NewOperation(
                actor=actor,
                action="staff_create",
                entries=[
                    ("staff_user", user.id, username, "role", None, role),
                    ("staff_user", user.id, username, "is_active", None, "true"),
                ],
                changed_count=1,
            )
        )
    return user
