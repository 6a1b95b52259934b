"""The registry of operation actions: every action the operation log can hold, once.

Each action has its stored code (`OperationAction`, the text in `audit_operations.action`), a
translatable label, a group (status change, revert, review, customer data, staff, settings,
sign-in) and whether it can be reverted. Services log `OperationAction` members (a
`NewOperation` refuses anything else); the log's filter and labels, the dashboard, its chart and
revert read this table. Adding an action means adding one line here.
"""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, literal_column


class OperationAction(enum.StrEnum):
    DEACTIVATE = "deactivate"
    FREEZE = "freeze"
    REACTIVATE = "reactivate"
    REVERT = "revert"
    REVIEW_KEEP = "review_keep"
    REVIEW_COMPLETE = "review_complete"
    CUSTOMER_CREATE = "customer_create"
    CUSTOMER_EDIT = "customer_edit"
    ORDER_CREATE = "order_create"
    SEED_DEMO = "seed_demo"
    STAFF_CREATE = "staff_create"
    STAFF_UPDATE = "staff_update"
    REASON_CREATE = "reason_create"
    REASON_UPDATE = "reason_update"
    REVIEW_RULE_CREATE = "review_rule_create"
    REVIEW_RULE_UPDATE = "review_rule_update"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    RESTORE_ACKNOWLEDGED = "restore_acknowledged"
    API_TOKEN_CREATED = "api_token_created"
    API_TOKEN_REVOKED = "api_token_revoked"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_APPROVED = "approval_approved"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_CANCELLED = "approval_cancelled"
    SCHEDULE_CREATED = "schedule_created"
    SCHEDULE_CANCELLED = "schedule_cancelled"


class ActionGroup(enum.StrEnum):
    STATUS_CHANGE = "status_change"
    REVERT = "revert"
    REVIEW = "review"
    CUSTOMER_DATA = "customer_data"
    STAFF = "staff"
    SETTINGS = "settings"
    SIGN_IN = "sign_in"
    MAINTENANCE = "maintenance"
    APPROVAL = "approval"
    SCHEDULE = "schedule"


GROUP_LABELS = {
    ActionGroup.STATUS_CHANGE: _l("Status change"),
    ActionGroup.REVERT: _l("Revert"),
    ActionGroup.REVIEW: _l("Review"),
    ActionGroup.CUSTOMER_DATA: _l("Customer data"),
    ActionGroup.STAFF: _l("Staff"),
    ActionGroup.SETTINGS: _l("Settings"),
    ActionGroup.SIGN_IN: _l("Sign-ins"),
    ActionGroup.MAINTENANCE: _l("Maintenance"),
    ActionGroup.APPROVAL: _l("Approvals"),
    ActionGroup.SCHEDULE: _l("Scheduled changes"),
}


@dataclass(frozen=True)
class ActionInfo:
    label: object  # a lazy string: translated when rendered
    group: ActionGroup
    revertible: bool = False


_G = ActionGroup
ACTIONS: dict[OperationAction, ActionInfo] = {
    OperationAction.DEACTIVATE: ActionInfo(_l("Deactivate"), _G.STATUS_CHANGE, revertible=True),
    OperationAction.FREEZE: ActionInfo(_l("Freeze"), _G.STATUS_CHANGE, revertible=True),
    OperationAction.REACTIVATE: ActionInfo(_l("Reactivate"), _G.STATUS_CHANGE, revertible=True),
    OperationAction.REVERT: ActionInfo(_l("Revert"), _G.REVERT),
    OperationAction.REVIEW_KEEP: ActionInfo(_l("Kept out of review"), _G.REVIEW),
    OperationAction.REVIEW_COMPLETE: ActionInfo(_l("Review completed"), _G.REVIEW),
    OperationAction.CUSTOMER_CREATE: ActionInfo(_l("Customer created"), _G.CUSTOMER_DATA),
    OperationAction.CUSTOMER_EDIT: ActionInfo(_l("Customer edited"), _G.CUSTOMER_DATA),
    OperationAction.ORDER_CREATE: ActionInfo(_l("Order placed"), _G.CUSTOMER_DATA),
    OperationAction.SEED_DEMO: ActionInfo(_l("Demo data"), _G.CUSTOMER_DATA),
    OperationAction.STAFF_CREATE: ActionInfo(_l("Staff user created"), _G.STAFF),
    OperationAction.STAFF_UPDATE: ActionInfo(_l("Staff user changed"), _G.STAFF),
    OperationAction.REASON_CREATE: ActionInfo(_l("Reason created"), _G.SETTINGS),
    OperationAction.REASON_UPDATE: ActionInfo(_l("Reason changed"), _G.SETTINGS),
    OperationAction.REVIEW_RULE_CREATE: ActionInfo(_l("Review rule created"), _G.SETTINGS),
    OperationAction.REVIEW_RULE_UPDATE: ActionInfo(_l("Review rule changed"), _G.SETTINGS),
    OperationAction.LOGIN: ActionInfo(_l("Login"), _G.SIGN_IN),
    OperationAction.LOGIN_FAILED: ActionInfo(_l("Failed login"), _G.SIGN_IN),
    OperationAction.LOGOUT: ActionInfo(_l("Logout"), _G.SIGN_IN),
    OperationAction.RESTORE_ACKNOWLEDGED: ActionInfo(_l("Restore acknowledged"), _G.MAINTENANCE),
    OperationAction.API_TOKEN_CREATED: ActionInfo(_l("API token created"), _G.SETTINGS),
    OperationAction.API_TOKEN_REVOKED: ActionInfo(_l("API token revoked"), _G.SETTINGS),
    OperationAction.APPROVAL_REQUESTED: ActionInfo(_l("Approval requested"), _G.APPROVAL),
    OperationAction.APPROVAL_APPROVED: ActionInfo(_l("Approval granted"), _G.APPROVAL),
    OperationAction.APPROVAL_REJECTED: ActionInfo(_l("Approval rejected"), _G.APPROVAL),
    OperationAction.APPROVAL_CANCELLED: ActionInfo(_l("Approval request cancelled"), _G.APPROVAL),
    # The runner logs the status actions above (actor system, scope mode "scheduled").
    OperationAction.SCHEDULE_CREATED: ActionInfo(_l("Status change scheduled"), _G.SCHEDULE),
    OperationAction.SCHEDULE_CANCELLED: ActionInfo(_l("Scheduled change cancelled"), _G.SCHEDULE),
}


def actions_in(*groups: ActionGroup) -> tuple[str, ...]:
    """The stored codes of the actions in `groups`, in registry order."""
    return tuple(action.value for action, info in ACTIONS.items() if info.group in groups)


REVERTIBLE_ACTIONS = tuple(action.value for action, info in ACTIONS.items() if info.revertible)
SIGN_IN_ACTIONS = actions_in(ActionGroup.SIGN_IN)
# The chart's series: status changes by action, and reverts as a series of their own.
CHART_ACTIONS = actions_in(ActionGroup.STATUS_CHANGE, ActionGroup.REVERT)


def is_sign_in(action_column, *, sign_in: bool = True) -> ColumnElement[bool]:
    """SQL: the action is (or, with sign_in=False, is not) a sign-in, its codes written out
    as constants. The log's tabs read through partial indexes with the same condition
    (migration 0018); a bound parameter in a code's place would keep the planner from using
    them (SQLite's always, PostgreSQL's in a generic plan)."""
    codes: list[ColumnElement[str]] = [literal_column(f"'{code}'") for code in SIGN_IN_ACTIONS]
    return action_column.in_(codes) if sign_in else action_column.not_in(codes)


def action_label(action: str) -> str:
    """The action's label in the page's language; an unknown stored code shows as itself."""
    try:
        return str(ACTIONS[OperationAction(action)].label)
    except ValueError:
        return action


def action_group(action: str) -> ActionGroup | None:
    try:
        return ACTIONS[OperationAction(action)].group
    except ValueError:
        return None
