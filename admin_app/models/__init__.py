"""Every model, re-exported so Alembic and callers see them all."""

from admin_app.models.api_token import ApiToken
from admin_app.models.approval import ApprovalRequest
from admin_app.models.audit import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEntry,
    AuditOperation,
    AuditVerification,
)
from admin_app.models.customer import (
    SEGMENTS,
    Customer,
    CustomerStatus,
    CustomerStatusCount,
    StatusAction,
)
from admin_app.models.order import Order
from admin_app.models.review import Reason, ReviewRule
from admin_app.models.schedule import ScheduledChange, ScheduleRun
from admin_app.models.status_request import StatusChangeRequest, StatusChangeRequestItem
from admin_app.models.user import StaffUser

__all__ = [
    "ApiToken",
    "ApprovalRequest",
    "SEGMENTS",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditOperation",
    "AuditVerification",
    "Customer",
    "CustomerStatus",
    "CustomerStatusCount",
    "Order",
    "Reason",
    "ReviewRule",
    "ScheduleRun",
    "ScheduledChange",
    "StaffUser",
    "StatusChangeRequest",
    "StatusChangeRequestItem",
    "StatusAction",
]
