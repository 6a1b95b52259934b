"""Roles and what each may do: the one permission table of the app.

Views, actions and services ask `has_permission(user, Permission.X)`; nothing else compares
role names.
"""

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"
    AUDITOR = "auditor"


class Permission(enum.StrEnum):
    VIEW_CUSTOMERS = "view_customers"  # customers, orders, dashboard, review queue
    EDIT_CUSTOMERS = "edit_customers"  # customer details, create orders
    EDIT_CREDIT = "edit_credit"  # a customer's balance and credit limit
    CHANGE_STATUS = "change_status"  # deactivate / freeze / reactivate, keep in review
    REVERT_OPERATIONS = "revert_operations"
    VIEW_AUDIT = "view_audit"  # operation log and its export
    MANAGE_SETTINGS = "manage_settings"  # staff users, reasons, review rules
    MANAGE_API_TOKENS = "manage_api_tokens"  # create, list and revoke API tokens
    APPROVE_STATUS_CHANGES = "approve_status_changes"  # others' large or sensitive changes


ROLES = tuple(role.value for role in Role)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(
        {
            Permission.VIEW_CUSTOMERS,
            Permission.EDIT_CUSTOMERS,
            Permission.EDIT_CREDIT,
            Permission.CHANGE_STATUS,
            Permission.REVERT_OPERATIONS,
            Permission.VIEW_AUDIT,
            Permission.APPROVE_STATUS_CHANGES,
        }
    ),
    Role.CLERK: frozenset({Permission.VIEW_CUSTOMERS, Permission.EDIT_CUSTOMERS}),
    Role.AUDITOR: frozenset({Permission.VIEW_CUSTOMERS, Permission.VIEW_AUDIT}),
}


def permissions_of(role: str | None) -> frozenset[Permission]:
    """The permissions of `role`; an unknown role has none (deny by default)."""
    try:
        return ROLE_PERMISSIONS[Role(role or "")]
    except ValueError:
        return frozenset()


def has_permission(user, permission: Permission) -> bool:
    """True when `user` is logged in, active, and their role grants `permission`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return permission in permissions_of(getattr(user, "role", None))
